"""Nodes over SSH with paramiko, the way the operator's own ``ssh`` would reach them.

What we honour from ssh_config: Host, HostName, User, Port, IdentityFile, IdentitiesOnly,
UserKnownHostsFile, HostKeyAlias, ProxyJump. StrictHostKeyChecking is always "yes": a host key
that is unknown or changed is refused with its fingerprint and the exact command to fix it; the
wizard never writes known_hosts itself. One paramiko client per host is kept and shared by
threads (paramiko multiplexes channels), so a diagnosis opens each node once."""
from __future__ import annotations

import base64
import errno
import getpass
import hashlib
import os
import posixpath
import secrets
import shlex
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TypeVar

from .paramiko_loader import paramiko

from ..errors import ConfigError
from ..i18n import t
from ..redact import learn_file
from .base import (MAX_OUTPUT_BYTES, AuthFailed, CommandResult, CommandTimeout, FileMissing,
                   HostKeyChanged, HostKeyUnknown, HostUnreachable, OutputTooLarge, TransportError,
                   check_sudo, command_text, sudo_wrap)

T = TypeVar("T")

DEFAULT_SSH_CONFIG = "~/.ssh/config"
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
MAX_JUMP_DEPTH = 8
# How long a waiting reader sleeps between looks at the channel; the exit status wakes it early.
POLL_SECONDS = 0.02

# Ansible's `| bool`: what counts as true in ansible_become and friends.
_TRUE_WORDS = {"yes", "true", "1", "on", "y", "t"}


def ansible_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


def sha256_fingerprint(key: paramiko.PKey) -> str:
    """The fingerprint as OpenSSH prints it (ssh-keygen -lf, ssh's own warnings)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class Endpoint:
    """Everything needed to open one SSH connection, resolved from ssh_config and the inventory."""

    alias: str                      # the inventory (or ssh_config Host) name the operator uses
    hostname: str                   # what we dial
    port: int
    user: str
    identity_files: list[str] = field(default_factory=list)
    identities_only: bool = False
    known_hosts: list[str] = field(default_factory=list)
    host_key_alias: str | None = None
    jump: "Endpoint | None" = None

    @property
    def key(self) -> tuple[str, str, int, str, tuple]:
        jump_key = self.jump.key if self.jump else ()
        return (self.alias, self.hostname, self.port, self.user, jump_key)

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH files this host's key under in known_hosts."""
        if self.host_key_alias:
            return self.host_key_alias
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    def lookup_names(self) -> list[str]:
        names = [self.known_hosts_name]
        # Also accept entries recorded under the alias the operator types (ssh-keyscan output is
        # often edited that way); the primary name is still checked first, so a changed key
        # recorded under it is never masked by an alias entry.
        for extra in (self.alias if self.port == 22 else f"[{self.alias}]:{self.port}", self.alias):
            if extra not in names:
                names.append(extra)
        return names

    @property
    def fix_known_hosts_file(self) -> str:
        return self.known_hosts[0] if self.known_hosts else os.path.expanduser(DEFAULT_KNOWN_HOSTS)


_RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256")


class _StrictKnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Checks the server key against our known_hosts stores (the paramiko client holds none, so
    every key comes here). Accepts a match; raises HostKeyUnknown or HostKeyChanged otherwise."""

    def __init__(self, endpoint: Endpoint, stores: list[paramiko.HostKeys]) -> None:
        self.endpoint = endpoint
        self.stores = stores

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        ep = self.endpoint
        key_type = key.get_name()
        fingerprint = sha256_fingerprint(key)
        for index, name in enumerate(ep.lookup_names()):
            recorded = known_keys_for(self.stores, name)
            if not recorded:
                continue
            if any(candidate == key for candidate in recorded.get(key_type, [])):
                return
            if index == 0 or key_type in recorded:
                raise HostKeyChanged(ep.alias, name, key_type, fingerprint, ep.fix_known_hosts_file)
        raise HostKeyUnknown(ep.alias, ep.known_hosts_name, ep.port, key_type, fingerprint,
                             ep.fix_known_hosts_file)


def known_keys_for(stores: list[paramiko.HostKeys], name: str) -> dict[str, list[paramiko.PKey]]:
    found: dict[str, list[paramiko.PKey]] = {}
    for store in stores:
        entry = store.lookup(name)
        if entry is None:
            continue
        for key_type in entry.keys():
            found.setdefault(key_type, []).append(entry[key_type])
    return found


def parse_jump_spec(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (also ``ssh://user@host:port``) → (user, host, port)."""
    spec = spec.strip()
    if spec.startswith("ssh://"):
        spec = spec[len("ssh://"):]
    user = None
    if "@" in spec:
        user, spec = spec.rsplit("@", 1)
    port = None
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif spec.count(":") == 1 and spec.split(":")[1].isdigit():
        host, port_text = spec.split(":")
        port = int(port_text)
    else:
        host = spec
    return user, host, port


class SSHPool:
    def __init__(
        self,
        ssh_config: str | os.PathLike | None = DEFAULT_SSH_CONFIG,
        known_hosts: list[str | os.PathLike] | None = None,
        identity_files: list[str | os.PathLike] | None = None,
        connect_timeout: float = 5.0,
        command_timeout: float = 15.0,
        max_parallel: int = 16,
        use_agent: bool = True,
    ) -> None:
        self.ssh_config_path = os.path.expanduser(str(ssh_config)) if ssh_config else None
        self.known_hosts = [os.path.expanduser(str(p)) for p in known_hosts] if known_hosts else None
        self.identity_files = [os.path.expanduser(str(p)) for p in identity_files or []]
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.max_parallel = max(1, max_parallel)
        self.use_agent = use_agent
        self.notes: list[str] = []     # set-ups not honoured, one line each (the report's assumptions)
        self._revoked: set[tuple[str, bytes]] = set()   # known_hosts @revoked keys
        self._config = self._load_ssh_config()
        # Host blocks only: paramiko's get_hostnames() raises KeyError('host') on any Match block.
        self._explicit_hosts = {
            name for entry in getattr(self._config, "_config", []) for name in entry.get("host", [])
            if not any(ch in name for ch in "*?!")
        }
        self._clients: dict[tuple, paramiko.SSHClient] = {}
        # A node that could not be reached is not dialled again for a while: a diagnosis reads
        # many files from the same host, and a hung node would cost a full timeout per file.
        self._failures: dict[tuple, tuple[float, TransportError]] = {}
        self.failure_ttl = 30.0
        self.idle_limit = 2 * self.max_parallel
        self._locks: dict[tuple, threading.Lock] = {}
        self._pool_lock = threading.Lock()
        self._host_key_cache: dict[str, tuple[float, paramiko.HostKeys]] = {}

    # -- configuration -------------------------------------------------------------------------

    def _load_ssh_config(self) -> paramiko.SSHConfig:
        path = self.ssh_config_path
        if not path or not os.path.exists(path):
            return paramiko.SSHConfig()
        try:
            return paramiko.SSHConfig.from_path(path)
        except (paramiko.ssh_exception.ConfigParseError, ValueError) as exc:
            raise ConfigError(path, t('cannot parse ssh_config: {exc}',
                                      exc=exc), t('fix the file or pass another')) from None
        except OSError as exc:
            raise ConfigError(path, t('cannot read ssh_config: {strerror}', strerror=exc.strerror)) from None

    def _note(self, line: str) -> None:
        """One line for the operator about a set-up the wizard cannot honour (it goes on without it)."""
        if line not in self.notes:
            self.notes.append(line)

    def _lookup(self, name: str) -> Any:
        """ssh_config for a name as OpenSSH resolves it, Match blocks included. A Match paramiko
        cannot evaluate (e.g. ``exec`` without the invoke package) is skipped, said in one line."""
        try:
            return self._config.lookup(name)
        except Exception as exc:   # paramiko raises from inside a Match evaluation
            self._note(f"{self.ssh_config_path}: a Match block could not be evaluated for {name} "
                       f"({type(exc).__name__}: {exc}); Match blocks are ignored for it")
            plain = paramiko.SSHConfig()
            plain._config = [entry for entry in getattr(self._config, "_config", []) if "host" in entry]
            return plain.lookup(name)

    def resolve(self, alias: str, *, user: str | None = None, address: str | None = None,
                port: int | None = None, _depth: int = 0) -> Endpoint:
        """Where and how to connect for an inventory name.

        An explicit ``Host alias`` block in ssh_config wins (the operator wrote it for this node);
        otherwise the inventory's ``ansible_host`` is dialled, else the name itself. ansible_user
        and ansible_port override ssh_config, as they do for Ansible."""
        if alias in self._explicit_hosts or not address:
            looked_up_as = alias
        else:
            looked_up_as = address
        cfg = self._lookup(looked_up_as)
        if alias in self._explicit_hosts:
            hostname = cfg.get("hostname", alias)
        else:
            hostname = address or cfg.get("hostname", alias)
        try:
            config_port = int(cfg.get("port", 22))
        except ValueError:
            raise ConfigError(self.ssh_config_path or "ssh_config", t('Port for {alias} is not a number',
                                                                      alias=alias)) from None
        files = [os.path.expanduser(p) for p in cfg.get("identityfile", [])]
        # The ssh_config file comes first: it is where the operator's own ssh looks, so it is the
        # file the fix line appends to. The pool's list (default ~/.ssh/known_hosts) is also read.
        known: list[str] = []
        user_known = cfg.get("userknownhostsfile")
        if user_known:
            known.extend(os.path.expanduser(p) for p in shlex.split(user_known))
        known.extend(self.known_hosts or [os.path.expanduser(DEFAULT_KNOWN_HOSTS)])
        endpoint = Endpoint(
            alias=alias,
            hostname=hostname,
            port=port or config_port,
            user=user or cfg.get("user") or getpass.getuser(),
            identity_files=files + self.identity_files,
            identities_only=str(cfg.get("identitiesonly", "no")).lower() == "yes",
            known_hosts=known,
            host_key_alias=cfg.get("hostkeyalias"),
        )
        jump = cfg.get("proxyjump")
        if jump and jump.lower() != "none":
            endpoint.jump = self._resolve_jump_chain(jump, _depth)
        return endpoint

    def _resolve_jump_chain(self, spec: str, depth: int) -> Endpoint:
        if depth >= MAX_JUMP_DEPTH:
            raise ConfigError(self.ssh_config_path or "ssh_config",
                              t('ProxyJump chain deeper than {MAX_JUMP_DEPTH} (a loop?)',
                                MAX_JUMP_DEPTH=MAX_JUMP_DEPTH))
        previous: Endpoint | None = None
        hops = [h for h in spec.split(",") if h.strip()]
        for position, hop in enumerate(hops):
            user, host, port = parse_jump_spec(hop)
            hop_endpoint = self.resolve(host, user=user, port=port, _depth=depth + 1)
            # In a list, each hop goes through the previous one (as ssh -J a,b does); only the
            # first hop keeps its own ProxyJump from ssh_config.
            if position > 0:
                hop_endpoint.jump = previous
            previous = hop_endpoint
        assert previous is not None
        return previous

    def _known_host_stores(self, endpoint: Endpoint) -> list[paramiko.HostKeys]:
        stores = []
        for path in [*endpoint.known_hosts, GLOBAL_KNOWN_HOSTS]:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            cached = self._host_key_cache.get(path)
            if cached and cached[0] == mtime:
                stores.append(cached[1])
                continue
            try:
                store = self._load_known_hosts(path)
            except (OSError, UnicodeDecodeError):
                # An unreadable file just contributes no keys; the host then shows up as "unknown
                # host key" with the fix line, which is the right next step anyway.
                continue
            self._host_key_cache[path] = (mtime, store)
            stores.append(store)
        return stores

    def _load_known_hosts(self, path: str) -> paramiko.HostKeys:
        """known_hosts as OpenSSH reads it, line by line: a line paramiko cannot parse is skipped
        alone (paramiko's load() dies on the first with InvalidHostKey); ``@revoked`` keys are
        remembered and refused on connect; ``@cert-authority`` (host certificates) is not supported
        by paramiko: said in one line, the plain key lines still work."""
        store = paramiko.HostKeys()
        with open(path, encoding="utf-8") as handle:
            for number, raw in enumerate(handle, 1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                marker = ""
                if line.startswith("@"):
                    marker, _, line = line.partition(" ")
                    line = line.strip()
                try:
                    entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
                except Exception:   # InvalidHostKey, SSHException, binascii errors: this line only
                    continue
                if entry is None:
                    continue
                if marker == "@revoked":
                    self._revoked.add((entry.key.get_name(), entry.key.asbytes()))
                elif marker == "@cert-authority":
                    self._note(f"{path}:{number}: @cert-authority (SSH host certificates) is not supported; "
                               "nodes need a plain host key line in known_hosts")
                elif marker:
                    self._note(f"{path}:{number}: unknown marker {marker}; line ignored")
                else:
                    store._entries.append(entry)
        return store

    @staticmethod
    def _agent_key_for(key_files: list[str]) -> paramiko.PKey | None:
        """The agent's key whose public half is one of the IdentityFiles' (``<file>.pub``), if any."""
        wanted = set()
        for path in key_files:
            try:
                with open(path + ".pub", encoding="utf-8") as handle:
                    fields = handle.read().split()
                wanted.add(base64.b64decode(fields[1]))
            except (OSError, IndexError, ValueError):
                continue
        if not wanted:
            return None
        agent = None
        try:
            agent = paramiko.Agent()
            return next((key for key in agent.get_keys() if key.asbytes() in wanted), None)
        except (paramiko.SSHException, OSError):
            return None

    def _check_not_revoked(self, endpoint: Endpoint, client: paramiko.SSHClient) -> None:
        transport = client.get_transport()
        key = transport.get_remote_server_key() if transport is not None else None
        if key is not None and (key.get_name(), key.asbytes()) in self._revoked:
            client.close()
            raise HostKeyChanged(endpoint.alias, endpoint.known_hosts_name, key.get_name(),
                                 sha256_fingerprint(key) + " (marked @revoked in known_hosts)",
                                 endpoint.fix_known_hosts_file)

    # -- connections ---------------------------------------------------------------------------

    def transport(self, host_alias: str, *, become: bool = False, user: str | None = None,
                  address: str | None = None, port: int | None = None) -> "SSHTransport":
        endpoint = self.resolve(host_alias, user=user, address=address, port=port)
        return SSHTransport(self, endpoint, become=become)

    def transport_for(self, host: str, host_vars: Mapping[str, Any]) -> "SSHTransport":
        """A transport from an inventory host and its resolved Ansible connection variables."""
        port = host_vars.get("ansible_port") or host_vars.get("ansible_ssh_port")
        try:
            port_number = int(port) if port not in (None, "") else None
        except (TypeError, ValueError):
            port_number = None
        return self.transport(
            host,
            become=ansible_bool(host_vars.get("ansible_become", False)),
            user=host_vars.get("ansible_user") or host_vars.get("ansible_ssh_user") or None,
            address=host_vars.get("ansible_host") or host_vars.get("ansible_ssh_host") or None,
            port=port_number,
        )

    def _lock_for(self, key: tuple) -> threading.Lock:
        with self._pool_lock:
            return self._locks.setdefault(key, threading.Lock())

    def client(self, endpoint: Endpoint) -> paramiko.SSHClient:
        """The shared live client for this endpoint, connecting (once) if needed."""
        key = endpoint.key
        with self._lock_for(key):
            existing = self._clients.get(key)
            if existing is not None:
                transport = existing.get_transport()
                if transport is not None and transport.is_active():
                    return existing
                existing.close()
                del self._clients[key]
            failed = self._failures.get(key)
            if failed is not None and time.monotonic() - failed[0] < self.failure_ttl:
                raise failed[1]
            try:
                fresh = self._connect(endpoint)
            except (HostUnreachable, AuthFailed, HostKeyUnknown, HostKeyChanged) as exc:
                self._failures[key] = (time.monotonic(), exc)
                raise
            self._failures.pop(key, None)
            self._clients[key] = fresh
            return fresh

    def release(self, endpoint: Endpoint) -> None:
        """Done with this host for now. Keeps the connection for reuse unless the pool already
        holds more than ``idle_limit`` of them: on a 500-node fan-out every open paramiko
        connection costs a thread on both ends, so finished hosts are let go."""
        with self._pool_lock:
            too_many = len(self._clients) > self.idle_limit
        if too_many:
            self.forget(endpoint)

    def forget(self, endpoint: Endpoint) -> None:
        with self._lock_for(endpoint.key):
            client = self._clients.pop(endpoint.key, None)
        if client is not None:
            client.close()

    def _open_socket(self, endpoint: Endpoint) -> socket.socket | paramiko.Channel:
        where = f"{endpoint.hostname}:{endpoint.port}"
        if endpoint.jump is not None:
            jump_client = self.client(endpoint.jump)
            try:
                return jump_client.get_transport().open_channel(
                    "direct-tcpip", (endpoint.hostname, endpoint.port), ("127.0.0.1", 0),
                    timeout=self.connect_timeout)
            except paramiko.ChannelException as exc:
                raise HostUnreachable(endpoint.alias,
                                      t('jump host {alias} cannot reach {where}: {text}',
                                        alias=endpoint.jump.alias, where=where, text=exc.text),
                                      t('check the node is up and HostName/Port in ssh_config')) from None
            except (paramiko.SSHException, EOFError, OSError) as exc:
                self.forget(endpoint.jump)
                raise HostUnreachable(endpoint.alias, f"jump host {endpoint.jump.alias} dropped: {exc}",
                                      t('retry; check the jump host')) from None
        try:
            return socket.create_connection((endpoint.hostname, endpoint.port), timeout=self.connect_timeout)
        except ConnectionRefusedError:
            raise HostUnreachable(endpoint.alias, t('connection refused at {where}', where=where),
                                  t('is the node up and sshd running? check HostName/Port')) from None
        except socket.timeout:
            raise HostUnreachable(endpoint.alias, t('no answer from {where} within {connect_timeout:g}s',
                                                    where=where, connect_timeout=self.connect_timeout),
                                  t('is the node up? is a firewall dropping SSH?')) from None
        except socket.gaierror:
            raise HostUnreachable(endpoint.alias, f"cannot resolve {endpoint.hostname}",
                                  t('add ansible_host to the inventory or a HostName in ssh_config')) from None
        except OSError as exc:
            raise HostUnreachable(endpoint.alias, t('cannot connect to {where}: {value}',
                                                    where=where, value=exc.strerror or exc),
                                  t('check the network path to the node')) from None

    def _disabled_host_key_algorithms(self, endpoint: Endpoint,
                                      stores: list[paramiko.HostKeys]) -> dict[str, list[str]] | None:
        """Ask the server only for key types we have on record, as OpenSSH does; otherwise a node
        known by its RSA key that prefers ed25519 would look "unknown"."""
        known_types: set[str] = set()
        for name in endpoint.lookup_names():
            known_types.update(known_keys_for(stores, name))
            if known_types:
                break
        if not known_types:
            return None
        allowed: set[str] = set()
        for key_type in known_types:
            allowed.update(_RSA_ALGORITHMS if key_type == "ssh-rsa" else (key_type,))
        offered = list(paramiko.Transport._preferred_keys)
        disabled = [alg for alg in offered if alg not in allowed]
        if len(disabled) == len(offered):
            return None
        return {"keys": disabled}

    def _connect(self, endpoint: Endpoint) -> paramiko.SSHClient:
        stores = self._known_host_stores(endpoint)
        sock = self._open_socket(endpoint)
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(_StrictKnownHostsPolicy(endpoint, stores))
        key_files = [p for p in dict.fromkeys(endpoint.identity_files) if os.path.exists(p)]
        where = f"{endpoint.user}@{endpoint.hostname}:{endpoint.port}"
        # IdentitiesOnly yes: OpenSSH still asks the agent, for the IdentityFiles' keys only (a
        # passphrase key the agent holds). paramiko would skip the agent altogether.
        agent_key = self._agent_key_for(key_files) if endpoint.identities_only and self.use_agent else None
        try:
            client.connect(
                hostname=endpoint.hostname,
                port=endpoint.port,
                username=endpoint.user,
                pkey=agent_key,
                key_filename=key_files or None,
                timeout=self.connect_timeout,
                allow_agent=self.use_agent and not endpoint.identities_only,
                look_for_keys=not endpoint.identities_only,
                sock=sock,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                disabled_algorithms=self._disabled_host_key_algorithms(endpoint, stores),
            )
        except TransportError:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyChanged(endpoint.alias, endpoint.known_hosts_name, exc.key.get_name(),
                                 sha256_fingerprint(exc.key), endpoint.fix_known_hosts_file) from None
        except paramiko.AuthenticationException:
            client.close()
            raise AuthFailed(endpoint.alias, t('{where} refused every key we offered', where=where),
                             t("put the deploy host's public key in ~{user}/.ssh/authorized_keys on the node, or "
                               "set User/IdentityFile in ssh_config or ansible_user",
                               user=endpoint.user)) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            transport = client.get_transport()
            spoke = bool(transport is not None and getattr(transport, "remote_version", None))
            client.close()
            text = str(exc) or exc.__class__.__name__
            if not spoke and isinstance(exc, (paramiko.SSHException, socket.timeout)):
                # paramiko words this "No existing session" or "Negotiation timed out": the TCP
                # handshake worked, but nothing answered in SSH (a hung node, a wrong port).
                raise HostUnreachable(endpoint.alias, t('{where} accepted the TCP connection but sent no SSH '
                                                        'greeting within {connect_timeout:g}s',
                                                        where=where, connect_timeout=self.connect_timeout),
                                      t('is the node hung or overloaded? is Port in ssh_config really sshd?')) from None
            if "banner" in text.lower():
                raise HostUnreachable(endpoint.alias, t('{where} accepted TCP but did not speak SSH ({text})',
                                                        where=where, text=text),
                                      t('check the Port in ssh_config or ansible_port')) from None
            if "host key" in text.lower():
                raise HostKeyChanged(endpoint.alias, endpoint.known_hosts_name, t('(no common type)'),
                                     "(not offered)", endpoint.fix_known_hosts_file) from None
            raise HostUnreachable(endpoint.alias, f"SSH to {where} failed: {text}",
                                  t('retry; check sshd on the node')) from None
        self._check_not_revoked(endpoint, client)
        return client

    # -- many hosts ----------------------------------------------------------------------------

    def fan_out(self, hosts: Iterable["str | SSHTransport"], fn: Callable[["SSHTransport"], T],
                max_workers: int | None = None) -> dict[str, T | TransportError]:
        """Run ``fn(transport)`` for each host, at most ``max_workers`` at a time. A host that fails
        with a TransportError gets the error as its result; the others carry on. Any other
        exception is a bug in ``fn`` and propagates."""
        transports = [h if isinstance(h, SSHTransport) else self.transport(h) for h in hosts]
        results: dict[str, T | TransportError] = {}
        if not transports:
            return results
        workers = min(max_workers or self.max_parallel, self.max_parallel, len(transports))

        def one(transport: SSHTransport) -> T | TransportError:
            try:
                return fn(transport)
            except TransportError as exc:
                return exc
            finally:
                transport.release()

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ssh-fan-out") as executor:
            futures = {tr.name: executor.submit(one, tr) for tr in transports}
            for name, future in futures.items():
                results[name] = future.result()
        return results

    def close(self) -> None:
        with self._pool_lock:
            clients = list(self._clients.values())
            self._clients.clear()
            self._failures.clear()
        for client in clients:
            client.close()

    def __enter__(self) -> "SSHPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _through_symlink(sftp: paramiko.SFTPClient, path: str) -> str:
    """The path a write must replace: a symlink's target (so the link stays a link), else path."""
    import stat as stat_module
    try:
        if not stat_module.S_ISLNK(sftp.lstat(path).st_mode or 0):
            return path
    except IOError:
        return path
    return sftp.normalize(path)


class SSHTransport:
    """One node over the pool's shared connection."""

    def __init__(self, pool: SSHPool, endpoint: Endpoint, *, become: bool = False) -> None:
        self.pool = pool
        self.endpoint = endpoint
        self.name = endpoint.alias
        self.become = become
        self._sftp: paramiko.SFTPClient | None = None
        self._sftp_lock = threading.Lock()

    def release(self) -> None:
        """Tell the pool this fan-out is done with the host (see SSHPool.release). A cached SFTP
        session on a closed connection is noticed and reopened by _sftp_client."""
        self.pool.release(self.endpoint)

    # -- commands ------------------------------------------------------------------------------

    def run(self, command: list[str] | str, *, sudo: bool = False,
            timeout: float | None = None) -> CommandResult:
        text = sudo_wrap(command) if sudo else command_text(command)
        result = self._exec(text, timeout)
        return check_sudo(result) if sudo else result

    def _exec(self, text: str, timeout: float | None, stdin: bytes | None = None) -> CommandResult:
        limit = timeout if timeout is not None else self.pool.command_timeout
        client = self.pool.client(self.endpoint)
        transport = client.get_transport()
        try:
            try:
                channel = transport.open_session(timeout=self.pool.connect_timeout)
            except (paramiko.SSHException, EOFError, OSError):
                # A pooled connection the node closed while idle ("Channel closed"): nothing ran
                # yet, so one fresh connection is safe; a second failure is reported below.
                self.pool.forget(self.endpoint)
                transport = self.pool.client(self.endpoint).get_transport()
                channel = transport.open_session(timeout=self.pool.connect_timeout)
            channel.exec_command(text)
            if stdin is not None:
                channel.sendall(stdin)
                channel.shutdown_write()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.pool.forget(self.endpoint)
            raise TransportError(self.name, t('connection lost before running {text}: {exc}', text=text, exc=exc),
                                 t('retry; the node may have rebooted')) from None
        try:
            return self._collect(channel, transport, text, limit)
        finally:
            channel.close()

    def _collect(self, channel: paramiko.Channel, transport: paramiko.Transport, text: str,
                 limit: float) -> CommandResult:
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + limit
        while True:
            progressed = False
            while channel.recv_ready():
                out += channel.recv(65536)
                progressed = True
            while channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
                progressed = True
            if len(out) + len(err) > MAX_OUTPUT_BYTES:
                raise OutputTooLarge(self.name, t('{text} printed more than {max_bytes} bytes; stopped reading',
                                                  text=text, max_bytes=MAX_OUTPUT_BYTES),
                                     t('narrow the command (grep, tail)'))
            # sshd may send the exit status before it has drained the child's pipes (the status is
            # sent when the child is reaped), so the end of output is EOF, not the status.
            finished = channel.exit_status_ready() and (channel.eof_received or channel.closed)
            if finished:
                if channel.recv_ready() or channel.recv_stderr_ready():
                    # The output, the status, EOF and the close often arrive in one burst: what the
                    # burst left in the buffer after our last look is read, not taken for a drop.
                    continue
                # paramiko also sets the status (to -1) when the whole connection dies.
                if channel.exit_status == -1 and not transport.is_active():
                    self._dropped(text)
                break
            if not transport.is_active():
                self._dropped(text)
            if time.monotonic() > deadline:
                raise CommandTimeout(self.name, t('{text} did not finish within {limit:g}s', text=text, limit=limit),
                                     t('the node may be overloaded; retry or raise the timeout'))
            if not progressed:
                channel.status_event.wait(POLL_SECONDS)
        return CommandResult(text, channel.recv_exit_status(), out.decode("utf-8", "replace"),
                             err.decode("utf-8", "replace"), self.name)

    def _dropped(self, text: str) -> None:
        self.pool.forget(self.endpoint)
        raise TransportError(self.name, t('connection dropped while running {text}', text=text),
                             t('the node may have rebooted or the network blinked; retry'))

    # -- files ---------------------------------------------------------------------------------

    def _sftp_client(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            channel = self._sftp.get_channel()
            if channel is not None and not channel.closed and channel.get_transport().is_active():
                return self._sftp
        client = self.pool.client(self.endpoint)
        limit = self.pool.command_timeout
        try:
            # Every SFTP request waits at most the command timeout: a node that freezes after the
            # diagnosis must not hang an apply (SSHClient.open_sftp waits without a bound).
            channel = client.get_transport().open_session(timeout=limit)
            channel.settimeout(limit)
            channel.invoke_subsystem("sftp")
            self._sftp = paramiko.SFTPClient(channel)
        except socket.timeout:
            raise TransportError(self.name, t('SFTP did not answer within {limit:g}s', limit=limit),
                                 t('the node may be frozen or overloaded; check it, then retry')) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransportError(self.name, t('SFTP is not available: {exc}', exc=exc),
                                 t("enable 'Subsystem sftp' in the node's sshd_config")) from None
        return self._sftp

    def _sftp_call(self, what: str, path: str, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        with self._sftp_lock:
            sftp = self._sftp_client()
            try:
                return fn(sftp)
            except FileNotFoundError:
                raise FileMissing(self.name, path) from None
            except PermissionError:
                raise
            except socket.timeout:
                self._sftp = None
                raise TransportError(self.name, t('SFTP did not answer within {command_timeout:g}s while trying to '
                                                  '{what} {path}',
                                                  command_timeout=self.pool.command_timeout, what=what, path=path),
                                     t('the node may be frozen or overloaded; check it, then retry')) from None
            except IOError as exc:
                if getattr(exc, "errno", None) == errno.ENOENT:
                    raise FileMissing(self.name, path) from None
                if getattr(exc, "errno", None) == errno.EACCES:
                    raise PermissionError(errno.EACCES, str(exc)) from None
                raise TransportError(self.name, f"cannot {what} {path}: {exc}") from None
            except (paramiko.SSHException, EOFError) as exc:
                self._sftp = None
                raise TransportError(self.name, t('connection lost while trying to {what} {path}: {exc}',
                                                  what=what, path=path, exc=exc),
                                     "retry") from None

    def read_file(self, path: str) -> str:
        text = self.read_bytes(path).decode("utf-8", "replace")
        learn_file(path, text)    # its secrets are masked on every output from now on
        return text

    def exists(self, path: str) -> bool:
        try:
            self._sftp_call("stat", path, lambda sftp: sftp.stat(path))
            return True
        except FileMissing:
            return False
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied looking at {path}', path=path)) from None
            return self.run(["test", "-e", path], sudo=True).rc == 0

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(self._sftp_call("list", path, lambda sftp: sftp.listdir(path)))
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied listing {path}', path=path)) from None
            result = self.run(["ls", "-A", "--", path], sudo=True)
            if result.rc != 0:
                raise FileMissing(self.name, path, f"cannot list {path}: {result.stderr.strip()}") from None
            return sorted(line for line in result.stdout.splitlines() if line)

    def read_bytes(self, path: str) -> bytes:
        """The file's exact bytes (a backup, a rewrite that must keep what it does not change); the
        one reader: read_file decodes these."""
        def read(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(path, "rb") as handle:
                return handle.read(MAX_OUTPUT_BYTES + 1)
        try:
            data = self._sftp_call("read", path, read)
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied reading {path}', path=path),
                                     t('set ansible_become=true for this host or read as a privileged user')) from None
            result = self.run(["cat", "--", path], sudo=True)
            if result.rc != 0:
                if "No such file" in result.stderr:
                    raise FileMissing(self.name, path) from None
                raise TransportError(self.name, f"cannot read {path}: {result.stderr.strip()}") from None
            data = result.stdout.encode("utf-8", "surrogateescape")
        if len(data) > MAX_OUTPUT_BYTES:
            raise OutputTooLarge(self.name, t('{path} is larger than {max_bytes} bytes',
                                              path=path, max_bytes=MAX_OUTPUT_BYTES))
        return data

    def write_file_atomic(self, path: str, content: str | bytes, *, like: str | None = None) -> None:
        """Write a temp file beside ``path`` and rename it over: readers see old or new, never half.
        A symlink is written through (its target is replaced, the link stays); mode and owner are
        the replaced file's, or ``like``'s (a backup keeps the original's 0600 and owner)."""
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        try:
            path = self._sftp_call("resolve", path, lambda sftp: _through_symlink(sftp, path))
        except (FileMissing, PermissionError):
            pass
        directory, base = posixpath.split(path)
        temp = posixpath.join(directory or ".", f".{base}.kolla-wizard.{secrets.token_hex(4)}")

        def write(sftp: paramiko.SFTPClient) -> None:
            owner = None
            try:
                st = sftp.stat(like or path)
                mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
            except IOError:
                mode = 0o644
            try:
                with sftp.open(temp, "wb") as handle:
                    handle.write(data)
                sftp.chmod(temp, mode)
                if owner is not None:
                    mine = sftp.stat(temp)
                    if (mine.st_uid, mine.st_gid) != owner:
                        try:
                            sftp.chown(temp, *owner)
                        except IOError:
                            pass   # not root: the file was writable to us, so it stays ours
                try:
                    sftp.posix_rename(temp, path)
                except IOError:
                    # No posix-rename@openssh.com extension: plain rename (fails if path exists
                    # on strict SFTPv3 servers, which is then reported).
                    sftp.rename(temp, path)
            except BaseException:
                try:
                    sftp.remove(temp)
                except IOError:
                    pass
                raise

        try:
            self._sftp_call("write", path, write)
        except FileMissing:
            raise TransportError(self.name, t('cannot write {path}: directory {directory} does not exist',
                                              path=path, directory=directory)) from None
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied writing {path}', path=path),
                                     t('set ansible_become=true for this host')) from None
            self._write_with_sudo(path, data, like=like)

    def create_exclusive(self, path: str, content: str) -> bool:
        """SFTP open with O_CREAT|O_EXCL (paramiko's 'x' mode): the server refuses when the file
        exists, so of two wizards racing for a lock exactly one wins. Under sudo, the shell's
        noclobber (set -C) opens with O_EXCL too."""
        data = content.encode("utf-8")

        def create(sftp: paramiko.SFTPClient) -> None:
            with sftp.open(path, "wbx") as handle:
                handle.write(data)

        try:
            self._sftp_call("create", path, create)
            return True
        except FileMissing:
            raise TransportError(self.name, t('cannot create {path}: its directory does not exist',
                                              path=path)) from None
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied creating {path}', path=path),
                                     t('set ansible_become=true for this host')) from None
        except TransportError:
            # SFTP reports an existing file as a generic failure (v3 has no "exists" status).
            if self.exists(path):
                return False
            raise
        text = sudo_wrap(["sh", "-c", 'set -C; cat > "$1"', "sh", path])
        result = check_sudo(self._exec(text, None, stdin=data))
        if result.rc == 0:
            return True
        if self.exists(path):
            return False
        raise TransportError(self.name, f"cannot create {path}: {result.stderr.strip()}")

    def remove(self, path: str) -> None:
        try:
            self._sftp_call("remove", path, lambda sftp: sftp.remove(path))
        except FileMissing:
            pass
        except PermissionError:
            if not self.become:
                raise TransportError(self.name, t('permission denied removing {path}', path=path)) from None
            result = self.run(["rm", "-f", "--", path], sudo=True)
            if result.rc != 0:
                raise TransportError(self.name, f"cannot remove {path}: {result.stderr.strip()}") from None

    def _write_with_sudo(self, path: str, data: bytes, *, like: str | None = None) -> None:
        # $2 is resolved through a symlink (readlink -f) so the link stays and its target changes;
        # mode and owner come from $3 (the file itself, or the original for a backup).
        script = ('set -e; p=$(readlink -f -- "$2" || printf %s "$2"); r=${3:-$p}; '
                  't=$(mktemp "$1.XXXXXX"); trap \'rm -f "$t"\' EXIT; cat > "$t"; '
                  'if [ -e "$r" ]; then chmod --reference="$r" "$t"; chown --reference="$r" "$t"; '
                  'else chmod 644 "$t"; fi; mv -f "$t" "$p"; trap - EXIT')
        directory, base = posixpath.split(path)
        stem = posixpath.join(directory or ".", f".{base}.kolla-wizard")
        text = sudo_wrap(["sh", "-c", script, "sh", stem, path, like or ""])
        result = check_sudo(self._exec(text, None, stdin=data))
        if result.rc != 0:
            raise TransportError(self.name, f"cannot write {path}: {result.stderr.strip()}")

    def close(self) -> None:
        with self._sftp_lock:
            if self._sftp is not None:
                self._sftp.close()
                self._sftp = None
