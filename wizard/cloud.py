"""The cloud as the wizard reads it: one openstacksdk connection, each collection read once
per diagnosis (the request count must not grow with the number of nodes or steps).

Values are plain dicts (the API's own field names, e.g. ``binding:host_id`` is exposed by
openstacksdk as ``binding_host_id``; we keep the SDK's names). Errors become one-line
CloudError subclasses that the engine turns into ask steps."""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

from .errors import WizardError
from .i18n import t
from .safetext import clean, clean_data

log = logging.getLogger(__name__)


class CloudError(WizardError):
    def __init__(self, message: str, *, endpoint: str = "") -> None:
        self.endpoint = endpoint
        super().__init__(message)


class CloudForbidden(CloudError):
    """403: the credentials are not allowed to read this (often admin-only)."""


class CloudAuthFailed(CloudError):
    pass


class CloudUnreachable(CloudError):
    pass


class CloudNotFound(CloudError):
    pass


def _translate(exc: Exception, what: str) -> CloudError:
    """Map openstacksdk/keystoneauth exceptions to one clear line."""
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    if isinstance(exc, sdk.ForbiddenException) or getattr(exc, "status_code", None) == 403:
        return CloudForbidden(t("{what}: 403 Forbidden (these credentials are not allowed; this call is usually "
                                "admin-only; use an admin cloud entry or answer the question yourself)", what=what))
    if isinstance(exc, (ks.Unauthorized,)) or getattr(exc, "status_code", None) == 401:
        return CloudAuthFailed(t("{what}: authentication failed (401); check the password/token in clouds.yaml "
                                 "or OS_* variables", what=what))
    if isinstance(exc, sdk.NotFoundException) or getattr(exc, "status_code", None) == 404:
        return CloudNotFound(t("{what}: not found (404)", what=what))
    # Which URL failed: the first call of a diagnosis also authenticates, so a dead Keystone
    # shows up under whatever was asked first; the URL says which endpoint is really down.
    import re
    url = re.search(r"https?://[^\s:/]+(?::\d+)?[^\s:]*", str(exc))
    at = url.group(0) if url else ""
    # Timeouts first: keystoneauth's ConnectTimeout is also a ConnectFailure.
    if isinstance(exc, (ks.ConnectTimeout, ks.RequestTimeout)):
        return CloudUnreachable(
            t("{what}: the API did not answer in time at {url}; retry, or raise --api-timeout", what=what, url=at) if at
            else t("{what}: the API did not answer in time; retry, or raise --api-timeout", what=what))
    if isinstance(exc, (ks.ConnectFailure, ks.DiscoveryFailure, ks.EndpointNotFound)):
        kind = type(exc).__name__
        return CloudUnreachable(
            t("{what}: cannot reach the API at {url} ({kind}); is the endpoint up and reachable from here?",
              what=what, url=at, kind=kind) if at
            else t("{what}: cannot reach the API ({kind}); is the endpoint up and reachable from here?",
                   what=what, kind=kind))
    if isinstance(exc, sdk.HttpException):
        code = getattr(exc, "status_code", "?")
        return CloudError(t("{what}: the API answered HTTP {code}; the service may be failing (check its logs)",
                            what=what, code=code))
    if isinstance(exc, (TypeError, AttributeError, KeyError)):  # JSON of the wrong shape
        return CloudError(t("{what}: the API's answer has an unexpected shape ({kind}: {error}); a proxy or a "
                            "failing service may be in the way (--debug shows the traceback)",
                            what=what, kind=type(exc).__name__, error=exc))
    if isinstance(exc, ValueError):  # malformed JSON from a broken proxy
        return CloudError(t("{what}: the API answered with something that is not valid JSON", what=what))
    return CloudError(t("{what}: {kind}: {error}", what=what, kind=type(exc).__name__, error=exc))


class CloudReader:
    def __init__(self, connect: Callable[[], Any], *, name: str = "") -> None:
        self._connect = connect
        self.name = name
        self._conn: Any = None
        self._cache: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.request_count = 0

    # -- connection -----------------------------------------------------------------------
    @property
    def conn(self) -> Any:
        with self._lock:
            if self._conn is None:
                try:
                    self._conn = self._connect()
                except WizardError:
                    raise
                except Exception as exc:
                    raise _translate(exc, f"cloud {self.name or '(default)'}") from None
                self._count_requests(self._conn)
            return self._conn

    def _count_requests(self, conn: Any) -> None:
        try:
            session = conn.session.session  # keystoneauth Session -> requests.Session
        except AttributeError:
            return

        def hook(response, *args, **kwargs):
            self.request_count += 1
            return response

        session.hooks.setdefault("response", []).append(hook)

    def close(self) -> None:
        """Close the API connection (its sockets): one diagnosis must not leave one behind."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def refresh(self) -> None:
        """Forget cached collections (after a fix, to verify against fresh state)."""
        with self._lock:
            self._cache.clear()

    def _cached(self, key: str, what: str, fetch: Callable[[Any], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                value = self._cache[key]
                if isinstance(value, CloudError):
                    raise value
                return value
        conn = self.conn
        try:
            value = fetch(conn)
        except WizardError:
            raise
        except Exception as exc:
            err = _translate(exc, what)
            log.debug("%s failed: %s", what, err, exc_info=True)   # --debug: the traceback behind the line
            with self._lock:
                self._cache[key] = err  # do not hammer a failing endpoint once per step
            raise err from None
        with self._lock:
            self._cache[key] = value
        return value

    @staticmethod
    def _dicts(items) -> list[dict[str, Any]]:
        # Tenants name resources: control characters are made inert here, where cloud text enters.
        return [clean_data(item.to_dict(computed=False) if hasattr(item, "to_dict") else dict(item)) for item in items]

    # -- collections (each read once) -----------------------------------------------------
    def servers(self) -> list[dict[str, Any]]:
        return self._cached("servers", "GET /servers/detail",
                            lambda c: self._dicts(c.compute.servers(details=True, all_projects=self._is_admin())))

    def ports(self) -> list[dict[str, Any]]:
        return self._cached("ports", "GET /v2.0/ports", lambda c: self._dicts(c.network.ports()))

    def networks(self) -> list[dict[str, Any]]:
        return self._cached("networks", "GET /v2.0/networks", lambda c: self._dicts(c.network.networks()))

    def subnets(self) -> list[dict[str, Any]]:
        return self._cached("subnets", "GET /v2.0/subnets", lambda c: self._dicts(c.network.subnets()))

    def routers(self) -> list[dict[str, Any]]:
        return self._cached("routers", "GET /v2.0/routers", lambda c: self._dicts(c.network.routers()))

    def floating_ips(self) -> list[dict[str, Any]]:
        return self._cached("floating_ips", "GET /v2.0/floatingips", lambda c: self._dicts(c.network.ips()))

    def security_groups(self) -> list[dict[str, Any]]:
        return self._cached("security_groups", "GET /v2.0/security-groups",
                            lambda c: self._dicts(c.network.security_groups()))

    def agents(self) -> list[dict[str, Any]]:
        return self._cached("agents", "GET /v2.0/agents (admin)", lambda c: self._dicts(c.network.agents()))

    def router_l3_agents(self, router_id: str) -> list[dict[str, Any]]:
        """``openstack network agent list --router ROUTER``: the L3 agents hosting it (admin)."""
        return self._cached(f"l3:{router_id}", f"GET /v2.0/routers/{router_id}/l3-agents (admin)",
                            lambda c: self._dicts(c.network.routers_hosting_l3_agents(router_id)))

    def network_dhcp_agents(self, network_id: str) -> list[dict[str, Any]]:
        """``openstack network agent list --network NETWORK``: the DHCP agents serving it (admin)."""
        return self._cached(f"dhcp:{network_id}", f"GET /v2.0/networks/{network_id}/dhcp-agents (admin)",
                            lambda c: self._dicts(c.network.network_hosting_dhcp_agents(network_id)))

    def compute_services(self) -> list[dict[str, Any]]:
        return self._cached("compute_services", "GET /os-services (admin)", lambda c: self._dicts(c.compute.services()))

    def keypairs(self) -> list[dict[str, Any]]:
        return self._cached("keypairs", "GET /os-keypairs", lambda c: self._dicts(c.compute.keypairs()))

    def images(self) -> list[dict[str, Any]]:
        return self._cached("images", "GET /v2/images", lambda c: self._dicts(c.image.images()))

    def flavors(self) -> list[dict[str, Any]]:
        return self._cached("flavors", "GET /flavors/detail", lambda c: self._dicts(c.compute.flavors()))

    # -- Placement (openstacksdk's placement proxy; admin) ---------------------------------
    def resource_providers(self) -> list[dict[str, Any]]:
        return self._cached("resource_providers", "GET /resource_providers (placement)",
                            lambda c: self._dicts(c.placement.resource_providers()))

    def provider_inventories(self, rp_uuid: str) -> dict[str, dict[str, Any]]:
        """Resource class -> total, reserved, min_unit, max_unit, step_size, allocation_ratio."""
        def fetch(c):
            rows = self._dicts(c.placement.resource_provider_inventories(rp_uuid))
            return {str(r.get("resource_class")): r for r in rows}
        return self._cached(f"inventories:{rp_uuid}", f"GET /resource_providers/{rp_uuid}/inventories", fetch)

    def provider_usages(self, rp_uuid: str) -> dict[str, int]:
        def fetch(c):
            return clean_data(dict(c.placement.fetch_resource_provider_usages(rp_uuid).usages or {}))
        return self._cached(f"usages:{rp_uuid}", f"GET /resource_providers/{rp_uuid}/usages", fetch)

    def allocation_candidates(self, resources: str, required: str = "") -> list[dict[str, Any]]:
        query = {"resources": resources, **({"required": required} if required else {})}
        return self._cached(f"candidates:{resources}:{required}", "GET /allocation_candidates",
                            lambda c: self._dicts(c.placement.allocation_candidates(**query)))

    def instance_actions(self, server_id: str) -> list[dict[str, Any]]:
        """The server's actions with their events (event details are admin-only)."""
        def fetch(c):
            actions = []
            for action in c.compute.server_actions(server_id):
                full = c.compute.get_server_action(action.request_id, server_id)
                actions.append(clean_data(full.to_dict(computed=False)))
            return actions
        return self._cached(f"actions:{server_id}", f"GET /servers/{server_id}/os-instance-actions", fetch)

    def console_log(self, server_id: str, lines: int = 200) -> str:
        def fetch(c):
            out = c.compute.get_server_console_output(server_id, length=lines)
            return clean((out or {}).get("output", "") if isinstance(out, dict) else str(out or ""))
        return self._cached(f"console:{server_id}", f"POST /servers/{server_id}/action (os-getConsoleOutput)", fetch)

    # -- lookups --------------------------------------------------------------------------
    def find_server(self, name_or_id: str) -> dict[str, Any] | None:
        servers = self.servers()
        for s in servers:
            if s.get("id") == name_or_id:
                return s
        named = [s for s in servers if s.get("name") == name_or_id]
        if len(named) > 1:
            raise CloudError(t("server name {name} is ambiguous ({count} servers); pass the ID with --server",
                               name=repr(name_or_id), count=len(named)))
        return named[0] if named else None

    def _is_admin(self) -> bool:
        try:
            roles = self._conn.session.auth.get_access(self._conn.session).role_names
            return "admin" in roles
        except Exception:
            return False


def connect_from_config(cloud: str | None, *, api_timeout: float = 20.0) -> CloudReader:
    """A reader that connects the way openstacksdk reads clouds.yaml / OS_CLOUD / OS_*."""

    def connect():
        import openstack
        import openstack.config
        from openstack import exceptions as sdk

        check_clouds_files()
        config = openstack.config.OpenStackConfig()
        try:
            region = config.get_one(cloud=cloud, api_timeout=api_timeout)
        except sdk.ConfigException as exc:
            raise CloudError(t("clouds.yaml: {error} (check OS_CLOUD / --os-cloud and OS_CLIENT_CONFIG_FILE)",
                               error=exc)) from None
        except Exception as exc:  # a broken clouds.yaml (YAML error, wrong types)
            raise CloudError(t("clouds.yaml: cannot read it ({kind}: {error})", kind=type(exc).__name__,
                               error=str(exc).splitlines()[0] if str(exc) else "")) from None
        v3_type = versioned_auth_type(region.config)
        if v3_type:
            try:
                region = config.get_one(cloud=cloud, api_timeout=api_timeout, auth_type=v3_type)
            except Exception:  # keep the operator's own (generic) plugin if the v3 one cannot be built
                log.debug("auth_type %s could not be used; keeping %s", v3_type, region.config.get("auth_type"),
                          exc_info=True)
        conn = openstack.connection.Connection(config=region)
        bound_session(conn, api_timeout)
        return conn

    return CloudReader(connect, name=cloud or "")


MAX_BODY_BYTES = 32 * 1024 * 1024   # the largest answer a diagnosis reads (a /servers/detail of thousands)


class CloudRedirectRefused(CloudError):
    """A 3xx: following it would send the token (or the password) to wherever it points."""


def bound_session(conn: Any, api_timeout: float, *, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Every request of this connection: redirects refused (keystoneauth follows them itself, with the
    X-Auth-Token, or the password body on a 307), the body read with a total deadline (a server that
    sends a byte every few seconds never trips the per-read socket timeout) and a size cap."""
    import time

    ks = getattr(conn, "session", None)
    session = getattr(ks, "session", None)
    if session is None:
        return
    ks.redirect = False

    def bounded(response, *args, **kwargs):
        request = response.request
        where = f"{request.method} {request.url.split('?')[0]}" if request is not None else "the API"
        # (300 Multiple Choices is a version document: Glance answers discovery with it)
        if response.status_code in (301, 302, 303, 305, 307, 308):
            location = response.headers.get("Location", "?")
            response.close()
            raise CloudRedirectRefused(t(
                "{where}: the API answered {code} redirecting to {location}; not followed "
                "(the token would go along); check the endpoint URLs in the catalog and auth_url",
                where=where, code=response.status_code, location=location))
        if kwargs.get("stream") or response._content_consumed:
            return response
        end = time.monotonic() + max(0.5, api_timeout - response.elapsed.total_seconds())
        chunks, total = [], 0
        try:
            while True:
                if time.monotonic() > end:
                    raise CloudUnreachable(t("{where}: the answer did not finish within {seconds}s "
                                             "(it came too slowly); retry, or raise --api-timeout",
                                             where=where, seconds=f"{api_timeout:g}"))
                chunk = response.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise CloudError(t("{where}: the answer is larger than {mb} MB; "
                                       "stopped reading (a proxy or a failing service may be in the way)",
                                       where=where, mb=max_bytes // (1024 * 1024)))
                chunks.append(chunk)
        except CloudError:
            response.close()
            raise
        except Exception as exc:   # the connection broke mid-body: what requests would have raised
            response.close()
            raise CloudUnreachable(t("{where}: the connection broke while reading the answer ({kind})",
                                     where=where, kind=type(exc).__name__)) from None
        response._content = b"".join(chunks)
        response._content_consumed = True
        response.raw.release_conn()
        return response

    session.hooks.setdefault("response", []).insert(0, bounded)


# keystoneauth's generic plugins (auth_type password / token, openstacksdk's default) are "identity
# version independent": they GET the auth_url's version document before authenticating, and fall back
# to reading the version from the URL's path (/v3) when that fails (identity/generic/base.py). Their
# v3 twins take the same options minus default_domain_id/_name and POST straight to
# <auth_url>/auth/tokens. Application credentials, v3token, OIDC, ... are v3 plugins already.
_V3_TWIN = {"password": "v3password", "token": "v3token"}
_GENERIC_ONLY_OPTIONS = ("default_domain_id", "default_domain_name")


def versioned_auth_type(config: dict[str, Any]) -> str | None:
    """The v3 plugin that authenticates exactly like the configured generic one without the identity
    version discovery request, or None (keep the configured plugin). Only when nothing is left to
    discover: a generic password/token plugin, an auth_url whose path already ends in /v3, no
    identity_api_version other than 3, and none of the generic-only default_domain options."""
    from urllib.parse import urlparse

    twin = _V3_TWIN.get(str(config.get("auth_type") or ""))
    auth = config.get("auth") or {}
    if twin is None or not isinstance(auth, dict):
        return None
    if str(config.get("identity_api_version") or "3").split(".")[0] != "3":
        return None
    if any(auth.get(key) for key in _GENERIC_ONLY_OPTIONS):
        return None
    try:
        path = urlparse(str(auth.get("auth_url") or "")).path
    except ValueError:
        return None
    return twin if path.rstrip("/").lower().endswith("/v3") else None


def check_cloud_entry(cloud: str | None) -> None:
    """The named cloud must exist in clouds.yaml (or OS_* must describe one): a configuration
    error before the diagnosis starts, not three 'cannot connect' steps after."""
    import openstack.config
    from openstack import exceptions as sdk

    try:
        openstack.config.OpenStackConfig().get_one(cloud=cloud)
    except Exception as exc:
        if not cloud and not os.environ.get("OS_AUTH_URL"):
            # No cloud named anywhere: say where one is looked for, not openstacksdk's auth_url complaint.
            raise CloudError(t("no cloud chosen: {hint}", hint=no_cloud_hint())) from None
        if not isinstance(exc, sdk.ConfigException):
            raise CloudError(t("{files}: cloud {cloud} cannot be used ({kind}: {error})",
                               files=", ".join(clouds_files()) or "clouds.yaml", cloud=repr(cloud),
                               kind=type(exc).__name__, error=str(exc).splitlines()[0] if str(exc) else "")) from None

        files = ", ".join(clouds_files()) or t("no clouds.yaml found")
        raise CloudError(t("{files}: {error} (check --os-cloud / OS_CLOUD, OS_CLIENT_CONFIG_FILE, or the OS_* variables)",
                           files=files, error=str(exc).splitlines()[0] if str(exc) else t("no usable cloud"))) from None


def cloud_names() -> list[str]:
    """The clouds.yaml entries openstacksdk would offer, read as the diagnosis reads them
    (OS_CLIENT_CONFIG_FILE included); the CLI and the Start screen both use this."""
    from openstack.config import loader
    return sorted(set(loader.OpenStackConfig().get_cloud_names()) - {"envvars", "defaults"})


def no_cloud_hint() -> str:
    """What to do when no cloud is chosen: one text for the CLI and the Start screen."""
    names = []
    try:
        names = cloud_names()
    except Exception:  # a broken clouds.yaml is reported by check_clouds_files, with its line
        pass
    if names:
        return t("clouds.yaml ({files}) has {names}: pass --os-cloud NAME or set OS_CLOUD, or run with --demo to "
                 "try the embedded lab", files=", ".join(clouds_files()), names=", ".join(names))
    return t("no clouds.yaml found (looked in $OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/ and "
             "/etc/openstack/): put one there and pass --os-cloud NAME or set OS_CLOUD, "
             "or run with --demo to try the embedded lab")


def clouds_files() -> list[str]:
    """The clouds.yaml / secure.yaml files openstacksdk would read, in its own order."""
    import os

    from openstack.config import loader

    files = []
    for env, defaults in (("OS_CLIENT_CONFIG_FILE", loader.CONFIG_FILES), ("OS_CLIENT_SECURE_FILE", loader.SECURE_FILES)):
        chosen = os.environ.get(env)
        candidates = [chosen] if chosen else list(defaults)
        for path in candidates:
            if path and os.path.exists(path):
                files.append(path)
                break
    return files


def check_clouds_files() -> None:
    """openstacksdk silently skips a clouds.yaml it cannot parse and then says the cloud is
    missing; read it ourselves first so a broken file gets a file:line answer. Passwords found
    there are registered with the redaction pass."""
    from . import redact, yamlpos
    from .errors import ConfigError

    for path in clouds_files():
        try:
            with open(path, "rb") as fh:
                raw = fh.read(5_000_001)
        except OSError as exc:
            raise CloudError(t("{path}: cannot read it ({error})", path=path, error=exc.strerror)) from None
        if len(raw) > 5_000_000:
            raise CloudError(t("{path}: larger than 5 MB; this is not a clouds.yaml", path=path))
        try:
            data = yamlpos.load(raw.decode("utf-8"), path)
        except UnicodeDecodeError:
            raise CloudError(t("{path}: not UTF-8 text; is this really clouds.yaml?", path=path)) from None
        except ConfigError as exc:
            raise CloudError(exc.one_line()) from None
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("clouds", {}), dict):
            line = getattr(data, "line_of", lambda k: 1)("clouds") if isinstance(data, dict) else 1
            raise CloudError(t("{where}: 'clouds' must be a mapping of cloud names to settings", where=f"{path}:{line}"))
        for name, entry in (data.get("clouds") or {}).items():
            if not isinstance(entry, dict):
                raise CloudError(t("{where}: cloud {name} must be a mapping",
                                   where=f"{path}:{data['clouds'].line_of(str(name))}", name=repr(name)))
            auth = entry.get("auth") or {}
            if not isinstance(auth, dict):
                raise CloudError(t("{where}: cloud {name}: auth must be a mapping "
                                   "(auth_url, username, password, project_name, ...)",
                                   where=f"{path}:{entry.line_of('auth')}", name=repr(name)))
            for key, value in auth.items():
                if isinstance(value, (dict, list)):
                    raise CloudError(t("{where}: cloud {name}: auth.{key} must be a single value, not a list or mapping",
                                       where=f"{path}:{auth.line_of(str(key))}", name=repr(name), key=key))
            if isinstance(auth, dict):
                for key in ("password", "token", "application_credential_secret"):
                    redact.register_secret(auth.get(key))
