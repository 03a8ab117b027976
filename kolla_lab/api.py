"""The lab's HTTP API: Keystone v3, Nova v2.1 (microversions up to 2.96), Neutron v2.0 and
Glance v2 on one 127.0.0.1 port, with distinct URL prefixes. Every request is counted."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import nova_records, placement_api
from .cloud import Cloud, CloudError, iso, not_found

NOVA_MAX = (2, 96)
NOVA_MIN = (2, 1)


class Response:
    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


DROP = 0   # Response status: close the connection without an answer (an endpoint that is down)

FAULT_ERRORS = {
    400: ("BadRequest", "Bad request (lab fault)."),
    401: ("Unauthorized", "The request you have made requires authentication."),
    403: ("Forbidden", "Policy does not allow this action to be performed (admin only)."),
    404: ("NotFound", "The resource could not be found."),
    500: ("InternalServerError", "Request Failed: internal server error while processing your request."),
    502: ("BadGateway", "Bad Gateway: the service behind the load balancer did not answer."),
    503: ("ServiceUnavailable", "The server is currently unavailable. Please try again at a later time."),
    504: ("GatewayTimeout", "Gateway Timeout: the service did not answer in time."),
}


def _mv(text: str) -> tuple[int, int]:
    a, _, b = text.strip().partition(".")
    return int(a), int(b)


class API:
    def __init__(self, cloud: Cloud, faults=None):
        self.cloud = cloud
        self.faults = faults
        self.base = ""
        self.counts: Counter = Counter()
        self.count_lock = threading.Lock()
        self.routes = []
        self._setup()

    # --- plumbing ---------------------------------------------------------------------------
    def route(self, method: str, pattern: str, fn, service: str):
        self.routes.append((method, re.compile("^" + pattern + "$"), fn, service))

    def service_of(self, path: str) -> str:
        for prefix in ("compute", "network", "image", "placement"):
            if path == "/" + prefix or path.startswith("/" + prefix + "/"):
                return prefix
        return "identity"

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = re.sub("/+", "/", parts.path)
        if len(path) > 1:
            path = path.rstrip("/")
        query = parse_qs(parts.query, keep_blank_values=True)
        service = self.service_of(path)
        with self.count_lock:
            self.counts[service] += 1
        req = {"method": method, "path": path, "query": query, "headers": headers, "service": service}
        fault = self.faults.api_fault(service, self.sub_path(service, path), method) if self.faults else None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.refuse:
                return Response(DROP)
            if fault.expire_token:
                with self.cloud.lock:
                    self.cloud.tokens.pop(headers.get("X-Auth-Token") or "", None)
            elif fault.status:
                kind, message = FAULT_ERRORS.get(fault.status, ("Error", f"HTTP {fault.status} (lab fault)."))
                return self.error(service, CloudError(fault.status, kind, message), req)
            elif fault.body is not None:
                return Response(200, fault.body, {"Content-Type": "application/json"})
        try:
            req["json"] = json.loads(body) if body else {}
        except ValueError:
            return self.error(service, CloudError(400, "BadRequest", "Malformed request body"), req)
        if service == "compute":
            try:
                req["mv"] = self.negotiate(headers)
            except CloudError as exc:
                return self.error(service, exc, req)
        try:
            for m, rx, fn, svc in self.routes:
                match = rx.match(path)
                if match and (m == method or (m == "GET" and method == "HEAD")):
                    if fn.__name__ not in ("discovery_root", "keystone_v3", "auth_tokens", "compute_versions",
                                           "compute_version", "network_versions", "image_versions",
                                           "network_version", "image_version", "placement_root"):
                        info = self.cloud.token_info(headers.get("X-Auth-Token"))
                        if not info:
                            return self.error(service, CloudError(401, "Unauthorized",
                                              "The request you have made requires authentication."), req)
                        req["auth"] = info
                    with self.cloud.lock:
                        resp = fn(req, *[unquote(g) for g in match.groups()])
                    break
            else:
                if any(rx.match(path) for _, rx, _, _ in self.routes):
                    resp = self.error(service, CloudError(405, "HTTPMethodNotAllowed",
                                      "The method is not allowed for the requested URL."), req)
                else:
                    resp = self.error(service, CloudError(404, "HTTPNotFound", "The resource could not be found."), req)
        except CloudError as exc:
            resp = self.error(service, exc, req)
        if service == "placement" and "pmv" in req:
            resp.headers.update({"openstack-api-version": "placement %d.%d" % req["pmv"],
                                 "vary": "openstack-api-version"})
        if service == "compute" and "mv" in req:
            v = "%d.%d" % req["mv"]
            resp.headers.update({"OpenStack-API-Version": f"compute {v}", "X-OpenStack-Nova-API-Version": v,
                                 "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"})
        resp.headers.setdefault("x-openstack-request-id", "req-" + str(uuid.uuid4()))
        return resp

    @staticmethod
    def sub_path(service: str, path: str) -> str:
        """The path below the service's URL prefix (what fault switches match)."""
        if service == "identity":
            return path
        rest = path[len(service) + 1:]
        return rest or "/"

    def negotiate(self, headers) -> tuple[int, int]:
        value = None
        h = headers.get("OpenStack-API-Version")
        if h:
            for item in h.split(","):
                svc, _, ver = item.strip().partition(" ")
                if svc.lower() == "compute":
                    value = ver.strip()
        if value is None:
            value = headers.get("X-OpenStack-Nova-API-Version")
        if not value:
            return NOVA_MIN
        if value == "latest":
            return NOVA_MAX
        try:
            v = _mv(value)
        except ValueError:
            raise CloudError(400, "badRequest", f"Invalid API version request string {value}.") from None
        if v < NOVA_MIN or v > NOVA_MAX:
            raise CloudError(406, "HTTPNotAcceptable", f"Version {value} is not supported by the API. "
                             "Minimum is 2.1 and maximum is 2.96.")
        return v

    def error(self, service: str, exc: CloudError, req: dict) -> Response:
        if service == "network":
            body = {"NeutronError": {"type": exc.type, "message": exc.message, "detail": ""}}
        elif service == "compute":
            key = {400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest",
                   401: "unauthorized", 405: "HTTPMethodNotAllowed", 406: "HTTPNotAcceptable"}.get(exc.status, "computeFault")
            body = {key: {"code": exc.status, "message": exc.message}}
        elif service == "image":
            titles = {404: "Not Found", 400: "Bad Request", 401: "Unauthorized", 409: "Conflict"}
            return Response(exc.status, f"<html>\n <head>\n  <title>{exc.status} {titles.get(exc.status, 'Error')}</title>\n"
                            f" </head>\n <body>\n  <h1>{exc.status} {titles.get(exc.status, 'Error')}</h1>\n  "
                            f"{exc.message}<br /><br />\n\n\n\n </body>\n</html>",
                            {"Content-Type": "text/html; charset=UTF-8"})
        else:
            titles = {401: "Unauthorized", 404: "Not Found", 400: "Bad Request", 403: "Forbidden"}
            body = {"error": {"code": exc.status, "message": exc.message, "title": titles.get(exc.status, "Error")}}
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = f'Keystone uri="{self.base}"'
        return Response(exc.status, body, headers)

    # --- discovery & identity ----------------------------------------------------------------
    def _setup(self):
        r = self.route
        r("GET", "/", self.discovery_root, "identity")
        r("GET", "/v3", self.keystone_v3, "identity")
        r("POST", "/v3/auth/tokens", self.auth_tokens, "identity")
        r("GET", "/v3/auth/tokens", self.validate_token, "identity")
        r("GET", "/v3/projects", self.list_projects, "identity")
        r("GET", "/v3/auth/projects", self.list_projects, "identity")
        r("GET", "/v3/projects/([^/]+)", self.get_project, "identity")
        r("GET", "/v3/users", self.list_users, "identity")
        r("GET", "/v3/users/([^/]+)", self.get_user, "identity")
        r("GET", "/v3/domains", self.list_domains, "identity")
        r("GET", "/v3/domains/([^/]+)", self.get_domain, "identity")
        # compute
        r("GET", "/compute", self.compute_versions, "compute")
        r("GET", "/compute/v2.1", self.compute_version, "compute")
        r("GET", "/compute/v2.1/servers", self.list_servers, "compute")
        r("GET", "/compute/v2.1/servers/detail", self.list_servers_detail, "compute")
        r("POST", "/compute/v2.1/servers", self.create_server, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)", self.get_server, "compute")
        r("DELETE", "/compute/v2.1/servers/([^/]+)", self.delete_server, "compute")
        r("POST", "/compute/v2.1/servers/([^/]+)/action", self.server_action, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/os-instance-actions", self.list_actions, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/os-instance-actions/([^/]+)", self.get_action, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/os-interface", self.list_interfaces, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/ips", self.server_ips, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/os-security-groups", self.server_sgs, "compute")
        r("GET", "/compute/v2.1/servers/([^/]+)/metadata", self.server_metadata, "compute")
        r("GET", "/compute/v2.1/flavors", self.list_flavors, "compute")
        r("GET", "/compute/v2.1/flavors/detail", self.list_flavors, "compute")
        r("GET", "/compute/v2.1/flavors/([^/]+)", self.get_flavor, "compute")
        r("GET", "/compute/v2.1/flavors/([^/]+)/os-extra_specs", self.flavor_specs, "compute")
        r("GET", "/compute/v2.1/os-keypairs", self.list_keypairs, "compute")
        r("POST", "/compute/v2.1/os-keypairs", self.create_keypair, "compute")
        r("GET", "/compute/v2.1/os-keypairs/([^/]+)", self.get_keypair, "compute")
        r("DELETE", "/compute/v2.1/os-keypairs/([^/]+)", self.delete_keypair, "compute")
        r("GET", "/compute/v2.1/os-services", self.list_services, "compute")
        r("GET", "/compute/v2.1/os-hypervisors", self.list_hypervisors, "compute")
        r("GET", "/compute/v2.1/os-hypervisors/detail", self.list_hypervisors, "compute")
        r("GET", "/compute/v2.1/os-availability-zone", self.list_azs, "compute")
        r("GET", "/compute/v2.1/os-availability-zone/detail", self.list_azs, "compute")
        r("GET", "/compute/v2.1/limits", self.limits, "compute")
        r("GET", "/compute/v2.1/images", self.nova_images, "compute")
        r("GET", "/compute/v2.1/images/detail", self.nova_images, "compute")
        # network
        r("GET", "/network", self.network_versions, "network")
        r("GET", "/network/v2.0", self.network_version, "network")
        r("GET", "/network/v2.0/extensions", self.list_extensions, "network")
        r("GET", "/network/v2.0/extensions/([^/]+)", self.get_extension, "network")
        for coll in ("networks", "subnets", "ports", "routers", "floatingips", "security-groups",
                     "security-group-rules", "agents"):
            r("GET", f"/network/v2.0/{coll}", self._lister(coll), "network")
            r("GET", f"/network/v2.0/{coll}/([^/]+)", self._getter(coll), "network")
            r("POST", f"/network/v2.0/{coll}", self._creator(coll), "network")
            r("PUT", f"/network/v2.0/{coll}/([^/]+)", self._updater(coll), "network")
            r("DELETE", f"/network/v2.0/{coll}/([^/]+)", self._deleter(coll), "network")
        r("PUT", "/network/v2.0/routers/([^/]+)/add_router_interface", self.add_interface, "network")
        r("PUT", "/network/v2.0/routers/([^/]+)/remove_router_interface", self.remove_interface, "network")
        r("GET", "/network/v2.0/agents/([^/]+)/l3-routers", self.agent_routers, "network")
        r("GET", "/network/v2.0/routers/([^/]+)/l3-agents", self.router_agents, "network")
        r("GET", "/network/v2.0/networks/([^/]+)/dhcp-agents", self.network_dhcp_agents, "network")
        # placement
        r("GET", "/placement", self.placement_root, "placement")
        r("GET", "/placement/resource_providers", self._placement(
            lambda req: placement_api.list_providers(self.cloud, req["query"], req["pmv"])), "placement")
        r("GET", "/placement/resource_providers/([^/]+)", self._placement(
            lambda req, rp: placement_api.get_provider(self.cloud, rp, req["pmv"])), "placement")
        r("GET", "/placement/resource_providers/([^/]+)/inventories", self._placement(
            lambda req, rp: placement_api.inventories(self.cloud, rp)), "placement")
        r("GET", "/placement/resource_providers/([^/]+)/usages", self._placement(
            lambda req, rp: placement_api.usages(self.cloud, rp)), "placement")
        r("GET", "/placement/resource_providers/([^/]+)/traits", self._placement(
            lambda req, rp: placement_api.provider_traits(self.cloud, rp)), "placement")
        r("GET", "/placement/allocation_candidates", self._placement(
            lambda req: placement_api.allocation_candidates(self.cloud, req["query"], req["pmv"])), "placement")
        # image
        r("GET", "/image", self.image_versions, "image")
        r("GET", "/image/versions", self.image_versions, "image")
        r("GET", "/image/v2", self.image_version, "image")
        r("GET", "/image/v2/images", self.list_images, "image")
        r("GET", "/image/v2/images/([^/]+)", self.get_image, "image")
        r("GET", "/image/v2/schemas/image", self.image_schema, "image")

    def discovery_root(self, req):
        return Response(300, {"versions": {"values": [self._v3()]}})

    def _v3(self):
        return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{self.base}/v3/"}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}

    def keystone_v3(self, req):
        return Response(200, {"version": self._v3()})

    def _catalog(self):
        c = self.cloud
        out = []
        for stype, name, url in (("identity", "keystone", self.base), ("compute", "nova", f"{self.base}/compute/v2.1"),
                                 ("network", "neutron", f"{self.base}/network"), ("image", "glance", f"{self.base}/image"),
                                 ("placement", "placement", f"{self.base}/placement")):
            sid = uuid.uuid5(c._ns, "svc-" + stype).hex
            if self.faults is not None and self.faults.service_down(stype):
                # Endpoint down: the catalog sends clients to a port nothing listens on.
                url = url.replace(self.base, f"http://127.0.0.1:{self.faults.dead_port()}")
            eps = [{"id": uuid.uuid5(c._ns, f"ep-{stype}-{i}").hex, "interface": i, "region_id": c.region,
                    "region": c.region, "url": url} for i in ("public", "internal", "admin")]
            out.append({"id": sid, "type": stype, "name": name, "endpoints": eps})
        return out

    def _token_body(self, info, methods=("password",)):
        user = info["user"]
        body = {"methods": list(methods), "user": {"id": user["id"], "name": user["name"], "password_expires_at": None,
                                                   "domain": {"id": "default", "name": "Default"}},
                "audit_ids": [info["audit"]], "expires_at": info["expires"].strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "issued_at": info["issued"].strftime("%Y-%m-%dT%H:%M:%S.000000Z")}
        if info["project"]:
            p = info["project"]
            body["project"] = {"id": p["id"], "name": p["name"], "domain": {"id": "default", "name": "Default"}}
            body["is_domain"] = False
            body["roles"] = [{"id": uuid.uuid5(self.cloud._ns, "role-" + r).hex, "name": r}
                             for r in ("admin", "member", "reader")]
            body["catalog"] = self._catalog()
        return {"token": body}

    def auth_tokens(self, req):
        ident = req["json"].get("auth", {}).get("identity", {})
        scope = req["json"].get("auth", {}).get("scope", {})
        if "token" in ident.get("methods", []):
            info = self.cloud.token_info(ident.get("token", {}).get("id"))
            if not info:
                raise CloudError(401, "Unauthorized", "The request you have made requires authentication.")
            username, password = info["user"]["name"], info["user"]["password"]
        else:
            pw = ident.get("password", {}).get("user", {})
            username, password = pw.get("name") or pw.get("id"), pw.get("password")
            uid_match = [u["name"] for u in self.cloud.users.values() if u["id"] == username]
            username = uid_match[0] if uid_match else username
        project = scope.get("project", {}) if isinstance(scope, dict) else {}
        pname = project.get("name") or project.get("id")
        token, info = self.cloud.authenticate(username, password, pname)
        return Response(201, self._token_body(info), {"X-Subject-Token": token})

    def validate_token(self, req):
        info = self.cloud.token_info(req["headers"].get("X-Subject-Token"))
        if not info:
            raise CloudError(404, "NotFound", "Could not find token.")
        return Response(200, self._token_body(info))

    def list_projects(self, req):
        return Response(200, {"projects": list(self.cloud.projects.values()), "links": {"self": None, "next": None, "previous": None}})

    def get_project(self, req, pid):
        for p in self.cloud.projects.values():
            if pid in (p["id"], p["name"]):
                return Response(200, {"project": p})
        raise CloudError(404, "NotFound", f"Could not find project: {pid}.")

    def _user(self, u):
        return {k: v for k, v in u.items() if k != "password"}

    def list_users(self, req):
        return Response(200, {"users": [self._user(u) for u in self.cloud.users.values()]})

    def get_user(self, req, uid):
        for u in self.cloud.users.values():
            if uid in (u["id"], u["name"]):
                return Response(200, {"user": self._user(u)})
        raise CloudError(404, "NotFound", f"Could not find user: {uid}.")

    def list_domains(self, req):
        return Response(200, {"domains": list(self.cloud.domains.values())})

    def get_domain(self, req, did):
        for d in self.cloud.domains.values():
            if did in (d["id"], d["name"]):
                return Response(200, {"domain": d})
        raise CloudError(404, "NotFound", f"Could not find domain: {did}.")

    # --- compute ----------------------------------------------------------------------------
    def _nova_version(self):
        return {"id": "v2.1", "status": "CURRENT", "version": "%d.%d" % NOVA_MAX, "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/"},
                                                             {"rel": "describedby", "type": "text/html",
                                                              "href": "http://docs.openstack.org/"}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]}

    def compute_versions(self, req):
        v2 = {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
              "links": [{"rel": "self", "href": f"{self.base}/compute/v2/"}]}
        return Response(200, {"versions": [v2, self._nova_version()]})

    def compute_version(self, req):
        return Response(200, {"version": self._nova_version()})

    def _server_link(self, sid):
        return [{"rel": "self", "href": f"{self.base}/compute/v2.1/servers/{sid}"},
                {"rel": "bookmark", "href": f"{self.base}/compute/servers/{sid}"}]

    def server_view(self, s, req):
        c = self.cloud
        mv = req.get("mv", NOVA_MIN)
        addresses: dict = {}
        for p in c.server_ports(s["id"]):
            net = c.networks.get(p["network_id"], {})
            for ip in p["fixed_ips"]:
                addresses.setdefault(net.get("name", p["network_id"]), []).append(
                    {"version": 4, "addr": ip["ip_address"], "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
            for f in c.floatingips.values():
                if f["port_id"] == p["id"]:
                    addresses.setdefault(net.get("name", p["network_id"]), []).append(
                        {"version": 4, "addr": f["floating_ip_address"], "OS-EXT-IPS:type": "floating",
                         "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
        fl = s["flavor"]
        if mv >= (2, 47):
            flavor = {"vcpus": fl["vcpus"], "ram": fl["ram"], "disk": fl["disk"], "ephemeral": 0, "swap": 0,
                      "original_name": fl["name"], "extra_specs": {}}
        else:
            flavor = {"id": fl["id"], "links": [{"rel": "bookmark", "href": f"{self.base}/compute/flavors/{fl['id']}"}]}
        host_id = ""
        if s["host"]:
            import hashlib
            host_id = hashlib.sha224((s["project_id"] + s["host"]).encode()).hexdigest()
        out = {
            "id": s["id"], "name": s["name"], "status": s["status"], "tenant_id": s["project_id"],
            "user_id": s["user_id"], "metadata": s["metadata"], "hostId": host_id,
            "image": {"id": s["image"]["id"], "links": [{"rel": "bookmark", "href": f"{self.base}/compute/images/{s['image']['id']}"}]},
            "flavor": flavor, "created": iso(s["created"]), "updated": iso(s["updated"]), "addresses": addresses,
            "accessIPv4": "", "accessIPv6": "", "links": self._server_link(s["id"]), "OS-DCF:diskConfig": "MANUAL",
            "progress": 0, "OS-EXT-AZ:availability_zone": self.cloud.host_zone(s["host"]) if s["host"] else (s.get("requested_az") or ""), "config_drive": "",
            "key_name": s["key_name"], "OS-SRV-USG:launched_at": s["launched_at"].strftime("%Y-%m-%dT%H:%M:%S.%f") if s["launched_at"] else None,
            "OS-SRV-USG:terminated_at": None, "OS-EXT-SRV-ATTR:host": s["host"],
            "OS-EXT-SRV-ATTR:instance_name": s["instance_name"], "OS-EXT-SRV-ATTR:hypervisor_hostname": s["node_name"],
            "OS-EXT-STS:task_state": s["task_state"], "OS-EXT-STS:vm_state": s["vm_state"],
            "OS-EXT-STS:power_state": s["power_state"], "os-extended-volumes:volumes_attached": [],
            "security_groups": [{"name": n} for n in s["security_groups"]] if s["status"] != "ERROR" else None,
        }
        if out["security_groups"] is None:
            del out["security_groups"]
        if mv >= (2, 3):
            out.update({"OS-EXT-SRV-ATTR:reservation_id": "r-" + s["id"][:8], "OS-EXT-SRV-ATTR:launch_index": 0,
                        "OS-EXT-SRV-ATTR:hostname": s["name"].lower(), "OS-EXT-SRV-ATTR:kernel_id": "",
                        "OS-EXT-SRV-ATTR:ramdisk_id": "", "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                        "OS-EXT-SRV-ATTR:user_data": s["user_data"]})
        if mv >= (2, 9):
            out["locked"] = False
        if mv >= (2, 16):
            out["host_status"] = "UP" if s["host"] else ""
        if mv >= (2, 19):
            out["description"] = s["description"]
        if mv >= (2, 26):
            out["tags"] = []
        if mv >= (2, 63):
            out["trusted_image_certificates"] = None
        if mv >= (2, 71):
            out["server_groups"] = []
        if mv >= (2, 73):
            out["locked_reason"] = None
        if mv >= (2, 96):
            out["pinned_availability_zone"] = s.get("requested_az")
        if s["status"] in ("ERROR", "DELETED") and s["fault"]:
            # nova/api/openstack/compute/views/servers.py _get_fault: details only when not empty
            # (real Nova's HostMappingNotFound fault has none: code, created, message).
            out["fault"] = {k: v for k, v in s["fault"].items() if k != "details" or v}
        return out

    def _find_server(self, sid):
        s = self.cloud.servers.get(sid)
        if not s:
            raise CloudError(404, "itemNotFound", f"Instance {sid} could not be found.")
        return s

    def _server_filter(self, req):
        q = req["query"]
        out = []
        for s in self.cloud.servers.values():
            if "name" in q and not re.search(q["name"][0], s["name"]):
                continue
            if "status" in q and s["status"] != q["status"][0].upper():
                continue
            if "host" in q and s["host"] != q["host"][0]:
                continue
            out.append(s)
        return out

    def list_servers(self, req):
        return Response(200, {"servers": [{"id": s["id"], "name": s["name"], "links": self._server_link(s["id"])}
                                          for s in self._server_filter(req)]})

    def list_servers_detail(self, req):
        return Response(200, {"servers": [self.server_view(s, req) for s in self._server_filter(req)]})

    def get_server(self, req, sid):
        return Response(200, {"server": self.server_view(self._find_server(sid), req)})

    def create_server(self, req):
        body = req["json"].get("server") or {}
        if not body.get("name"):
            raise CloudError(400, "badRequest", "Invalid input for field/attribute server. Value: {}. 'name' is a required property")
        info = req["auth"]
        s = self.cloud.build_server(body, info["project"]["id"], info["user"]["id"])
        return Response(202, {"server": {"id": s["id"], "links": self._server_link(s["id"]), "OS-DCF:diskConfig": "MANUAL",
                                         "security_groups": [{"name": n} for n in s["security_groups"]],
                                         "adminPass": s["admin_pass"]}})

    def delete_server(self, req, sid):
        self.cloud.delete_server(self._find_server(sid))
        return Response(204)

    def server_action(self, req, sid):
        s = self._find_server(sid)
        body = req["json"]
        if "os-getConsoleOutput" in body:
            length = (body["os-getConsoleOutput"] or {}).get("length")
            text = s["console"]
            if length not in (None, -1, "-1"):
                lines = text.splitlines(keepends=True)
                text = "".join(lines[-int(length):]) if int(length) > 0 else ""
            return Response(200, {"output": text})
        if "rebuild" in body:
            self.cloud.rebuild_server(s, body["rebuild"] or {})
            return Response(202, {"server": self.server_view(s, req)})
        for key in ("addSecurityGroup", "removeSecurityGroup"):
            if key in body:
                return self._server_sg(s, key, (body[key] or {}).get("name"))
        if "addFloatingIp" in body:
            raise CloudError(404, "itemNotFound", "The resource could not be found.")
        for key in ("os-stop", "os-start", "reboot"):
            if key in body:
                if s["status"] == "ERROR" and key != "reboot":
                    raise CloudError(409, "conflictingRequest",
                                     f"Cannot '{key[3:] if key.startswith('os-') else key}' instance {sid} while it is in vm_state error")
                s["status"] = "SHUTOFF" if key == "os-stop" else "ACTIVE"
                s["vm_state"] = "stopped" if key == "os-stop" else "active"
                return Response(202)
        raise CloudError(400, "badRequest", "There is no such action: %s" % (next(iter(body), "")))

    def _server_sg(self, s, key, name):
        """Nova's addSecurityGroup/removeSecurityGroup: the group goes on (or off) every port."""
        c = self.cloud
        if not name:
            raise CloudError(400, "badRequest", "Security group name cannot be empty")
        matches = [g for g in c.security_groups.values()
                   if g["project_id"] == s["project_id"] and name in (g["name"], g["id"])]
        if not matches:
            raise CloudError(404, "itemNotFound", f"Security group {name} not found for project {s['project_id']}.")
        if len(matches) > 1:
            raise CloudError(409, "conflictingRequest", f"Multiple security groups named {name}.")
        sg = matches[0]
        ports = c.server_ports(s["id"])
        if key == "addSecurityGroup":
            if any(sg["id"] in p["security_groups"] for p in ports) and ports:
                raise CloudError(400, "badRequest",
                                 f"Security group {sg['name']} is already associated with the instance {s['id']}")
            for p in ports:
                p["security_groups"].append(sg["id"])
                c.stamp(p)
            if sg["name"] not in s["security_groups"]:
                s["security_groups"].append(sg["name"])
        else:
            if not any(sg["id"] in p["security_groups"] for p in ports):
                raise CloudError(404, "itemNotFound",
                                 f"Security group {sg['name']} not associated with the instance {s['id']}")
            for p in ports:
                if sg["id"] in p["security_groups"]:
                    p["security_groups"].remove(sg["id"])
                    c.stamp(p)
            s["security_groups"] = [n for n in s["security_groups"] if n not in (sg["name"], sg["id"])]
        return Response(202)

    def list_actions(self, req, sid):
        if sid not in self.cloud.servers:
            raise CloudError(404, "itemNotFound", f"Instance {sid} could not be found.")
        acts = [{k: v for k, v in a.items() if k != "events"} for a in reversed(self.cloud.actions.get(sid, []))]
        return Response(200, {"instanceActions": acts})

    def get_action(self, req, sid, rid):
        for a in self.cloud.actions.get(sid, []):
            if a["request_id"] == rid:
                out = {k: v for k, v in a.items() if k != "events"}
                events = []
                for e in nova_records.events_newest_first(a):
                    ev = dict(e)
                    if req.get("mv", NOVA_MIN) < (2, 62):
                        ev.pop("host"), ev.pop("hostId")
                    if req.get("mv", NOVA_MIN) < (2, 84):
                        ev.pop("details")
                    events.append(ev)
                out["events"] = events
                return Response(200, {"instanceAction": out})
        raise CloudError(404, "itemNotFound", f"Action {rid} on instance {sid} could not be found.")

    def list_interfaces(self, req, sid):
        self._find_server(sid)
        out = [{"port_id": p["id"], "net_id": p["network_id"], "mac_addr": p["mac_address"], "port_state": p["status"],
                "fixed_ips": [dict(i) for i in p["fixed_ips"]], "tag": None} for p in self.cloud.server_ports(sid)]
        return Response(200, {"interfaceAttachments": out})

    def server_ips(self, req, sid):
        return Response(200, {"addresses": self.server_view(self._find_server(sid), req)["addresses"]})

    def server_sgs(self, req, sid):
        s = self._find_server(sid)
        return Response(200, {"security_groups": [
            {"id": g, "name": self.cloud.security_groups[g]["name"], "description": "", "rules": [],
             "tenant_id": s["project_id"]} for g in self.cloud._sg_ids(s)]})

    def server_metadata(self, req, sid):
        return Response(200, {"metadata": self._find_server(sid)["metadata"]})

    def flavor_view(self, f):
        return {"id": f["id"], "name": f["name"], "vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
                "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 0, "rxtx_factor": 1.0, "os-flavor-access:is_public": True,
                "OS-FLV-DISABLED:disabled": False, "description": None, "extra_specs": {},
                "links": [{"rel": "self", "href": f"{self.base}/compute/v2.1/flavors/{f['id']}"}]}

    def list_flavors(self, req):
        return Response(200, {"flavors": [self.flavor_view(f) for f in self.cloud.flavors.values()]})

    def get_flavor(self, req, fid):
        for f in self.cloud.flavors.values():
            if f["id"] == fid:
                return Response(200, {"flavor": self.flavor_view(f)})
        raise CloudError(404, "itemNotFound", f"Flavor {fid} could not be found.")

    def flavor_specs(self, req, fid):
        return Response(200, {"extra_specs": {}})

    def keypair_view(self, k, full=False):
        out = {"name": k["name"], "public_key": k["public_key"], "fingerprint": k["fingerprint"], "type": "ssh"}
        if full:
            out.update({"user_id": k["user_id"], "deleted": False, "created_at": k["created_at"], "updated_at": None,
                        "deleted_at": None, "id": k["id"]})
        return out

    def list_keypairs(self, req):
        return Response(200, {"keypairs": [{"keypair": self.keypair_view(k)} for k in self.cloud.keypairs.values()]})

    def get_keypair(self, req, name):
        k = self.cloud.keypairs.get(name)
        if not k:
            raise CloudError(404, "itemNotFound", f"Keypair {name} not found for user {req['auth']['user']['id']}")
        return Response(200, {"keypair": self.keypair_view(k, True)})

    def create_keypair(self, req):
        body = req["json"].get("keypair") or {}
        name = body.get("name")
        if not name:
            raise CloudError(400, "badRequest", "Invalid input for field/attribute keypair.")
        if name in self.cloud.keypairs:
            raise CloudError(409, "conflictingRequest", f"Key pair '{name}' already exists.")
        if not body.get("public_key"):
            raise CloudError(400, "badRequest", "The lab does not generate key pairs; pass --public-key.")
        k = self.cloud_add_keypair(name, body["public_key"], req["auth"]["user"]["id"])
        return Response(200 if req.get("mv", NOVA_MIN) < (2, 2) else 201, {"keypair": self.keypair_view(k, True)})

    def cloud_add_keypair(self, name, public_key, user_id):
        import hashlib
        blob = public_key.split()[1] if len(public_key.split()) > 1 else public_key
        try:
            raw = base64.b64decode(blob)
        except ValueError:
            raise CloudError(400, "badRequest", "Keypair data is invalid: failed to generate fingerprint") from None
        fp = ":".join("%02x" % b for b in hashlib.md5(raw).digest())  # nova's legacy md5 fingerprint
        k = {"id": len(self.cloud.keypairs) + 1, "name": name, "public_key": public_key.strip(), "fingerprint": fp,
             "user_id": user_id, "created_at": iso(__import__("datetime").datetime.now(__import__("datetime").timezone.utc))}
        self.cloud.keypairs[name] = k
        return k

    def delete_keypair(self, req, name):
        if name not in self.cloud.keypairs:
            raise CloudError(404, "itemNotFound", f"Keypair {name} not found for user {req['auth']['user']['id']}")
        del self.cloud.keypairs[name]
        return Response(202 if req.get("mv", NOVA_MIN) < (2, 2) else 204)

    def list_services(self, req):
        q = req["query"]
        out = [s for s in self.cloud.compute_services()
               if ("binary" not in q or s["binary"] == q["binary"][0]) and ("host" not in q or s["host"] == q["host"][0])]
        if req.get("mv", NOVA_MIN) < (2, 53):
            for i, s in enumerate(out):
                s["id"] = i + 1
        return Response(200, {"services": out})

    def list_hypervisors(self, req):
        out = []
        for s in self.cloud.compute_services():
            if s["binary"] == "nova-compute":
                out.append({"id": s["id"], "hypervisor_hostname": s["host"], "state": s["state"], "status": s["status"],
                            "hypervisor_type": "QEMU", "host_ip": next((n.address for n in self.cloud.nodes.values()
                                                                         if n.hostname == s["host"]), ""),
                            "hypervisor_version": 8002000, "service": {"host": s["host"], "id": s["id"],
                                                                       "disabled_reason": None}, "uptime": None})
        return Response(200, {"hypervisors": out})

    def list_azs(self, req):
        return Response(200, {"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]})

    def limits(self, req):
        return Response(200, {"limits": {"rate": [], "absolute": {
            "maxTotalCores": 20, "maxTotalRAMSize": 51200, "maxTotalInstances": 10, "maxServerMeta": 128,
            "maxImageMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240, "maxTotalKeypairs": 100,
            "maxServerGroups": 10, "maxServerGroupMembers": 10, "totalCoresUsed": len(self.cloud.servers),
            "totalRAMUsed": sum(s["flavor"]["ram"] for s in self.cloud.servers.values()),
            "totalInstancesUsed": len(self.cloud.servers), "totalServerGroupsUsed": 0}}})

    def nova_images(self, req):
        return Response(200, {"images": [{"id": i["id"], "name": i["name"], "status": "ACTIVE",
                                          "links": []} for i in self.cloud.images.values()]})

    # --- network ----------------------------------------------------------------------------
    def network_versions(self, req):
        return Response(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                            "links": [{"href": f"{self.base}/network/v2.0/", "rel": "self"}]}]})

    def network_version(self, req):
        return Response(200, {"resources": [{"name": n[:-1], "collection": n, "links": [
            {"href": f"{self.base}/network/v2.0/{n}", "rel": "self"}]} for n in ("networks", "subnets", "ports")]})

    EXTENSIONS = ["agent", "allowed-address-pairs", "availability_zone", "binding", "binding-extended",
                  "default-subnetpools", "dhcp_agent_scheduler", "dns-integration", "external-net", "ext-gw-mode",
                  "extra_dhcp_opt", "extraroute", "fip-port-details", "filter-validation", "l3_agent_scheduler",
                  "multi-provider", "net-mtu", "net-mtu-writable", "network_availability_zone", "port-security",
                  "project-id", "provider", "quotas", "rbac-policies", "router", "router_availability_zone",
                  "security-group", "security-groups-default-rules", "standard-attr-description",
                  "standard-attr-revisions", "standard-attr-tag", "standard-attr-timestamp", "subnet_allocation",
                  "stateful-security-group", "port-resource-request"]

    def _ext(self, alias):
        return {"alias": alias, "name": alias, "description": alias, "links": [], "updated": "2013-01-01T00:00:00-00:00"}

    def list_extensions(self, req):
        return Response(200, {"extensions": [self._ext(a) for a in self.EXTENSIONS]})

    def get_extension(self, req, alias):
        if alias not in self.EXTENSIONS:
            raise CloudError(404, "ExtensionNotFound", f"Extension with alias {alias} does not exist")
        return Response(200, {"extension": self._ext(alias)})

    COLL = {"networks": ("network", "networks"), "subnets": ("subnet", "subnets"), "ports": ("port", "ports"),
            "routers": ("router", "routers"), "floatingips": ("floatingip", "floatingips"),
            "security-groups": ("security_group", "security_groups"),
            "security-group-rules": ("security_group_rule", "security_group_rules"), "agents": ("agent", "agents")}

    def _items(self, coll):
        c = self.cloud
        if coll == "networks":
            return list(c.networks.values())
        if coll == "subnets":
            return list(c.subnets.values())
        if coll == "ports":
            return list(c.ports.values())
        if coll == "routers":
            return [c.router_view(r) for r in c.routers.values()]
        if coll == "floatingips":
            return list(c.floatingips.values())
        if coll == "security-groups":
            return [c.sg_view(sg) for sg in c.security_groups.values()]
        if coll == "security-group-rules":
            return list(c.sg_rules.values())
        return c.agents()

    @staticmethod
    def _match(item, key, values):
        if key not in item:
            return True  # neutron ignores unknown filters for many attributes
        v = item[key]
        for want in values:
            if isinstance(v, bool):
                if str(v).lower() == want.lower():
                    return True
            elif isinstance(v, list):
                if want in v or any(isinstance(x, dict) and want in x.values() for x in v):
                    return True
            elif str(v) == want or (v is None and want in ("", "None")):
                return True
        return False

    def _filter(self, items, query):
        skip = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse", "tags", "tags-any",
                "not-tags", "not-tags-any"}
        for key, values in query.items():
            if key in skip:
                continue
            if key == "fixed_ips":
                wanted = dict(v.split("=", 1) for v in values if "=" in v)
                items = [i for i in items if any(all(ip.get(k) == w for k, w in wanted.items()) for ip in i.get("fixed_ips", []))]
                continue
            items = [i for i in items if self._match(i, key, values)]
        fields = query.get("fields")
        if fields:
            items = [{k: v for k, v in i.items() if k in fields} for i in items]
        return items

    def _lister(self, coll):
        def list_(req):
            _, plural = self.COLL[coll]
            return Response(200, {plural: self._filter(self._items(coll), req["query"])})
        list_.__name__ = "list_" + coll
        return list_

    def _get(self, coll, ident):
        for item in self._items(coll):
            if item["id"] == ident:
                return item
        raise not_found(self.COLL[coll][0], ident)

    def _getter(self, coll):
        def get(req, ident):
            single, _ = self.COLL[coll]
            item = self._get(coll, ident)
            fields = req["query"].get("fields")
            if fields:
                item = {k: v for k, v in item.items() if k in fields}
            return Response(200, {single: item})
        get.__name__ = "get_" + coll
        return get

    def _creator(self, coll):
        def create(req):
            single, _ = self.COLL[coll]
            body = req["json"].get(single)
            if not isinstance(body, dict):
                raise CloudError(400, "BadRequest", "Bad Request: Resource body required.")
            pid = body.get("project_id") or body.get("tenant_id") or req["auth"]["project"]["id"]
            c = self.cloud
            if coll == "networks":
                item = c.add_network(body, pid)
            elif coll == "subnets":
                item = c.add_subnet(body, pid)
            elif coll == "ports":
                item = c.add_port(body, pid)
            elif coll == "routers":
                item = c.router_view(c.add_router(body, pid))
            elif coll == "floatingips":
                item = c.add_floatingip(body, pid)
            elif coll == "security-groups":
                item = c.sg_view(c.add_security_group(body.get("name", ""), pid, body.get("description", "")))
            elif coll == "security-group-rules":
                item = c.add_sg_rule(body, pid)
            else:
                raise CloudError(405, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
            return Response(201, {single: item})
        create.__name__ = "create_" + coll
        return create

    def _updater(self, coll):
        def update(req, ident):
            single, _ = self.COLL[coll]
            body = req["json"].get(single) or {}
            c = self.cloud
            if coll == "routers":
                r = c.routers.get(ident)
                if not r:
                    raise not_found("router", ident)
                if "external_gateway_info" in body:
                    c.set_gateway(r, body["external_gateway_info"] or None)
                for k in ("name", "description", "admin_state_up"):
                    if k in body:
                        r[k] = body[k]
                c.stamp(r)
                return Response(200, {single: c.router_view(r)})
            if coll == "floatingips":
                f = c.floatingips.get(ident)
                if not f:
                    raise not_found("floatingip", ident)
                return Response(200, {single: c.update_floatingip(f, body)})
            store = {"networks": c.networks, "subnets": c.subnets, "ports": c.ports,
                     "security-groups": c.security_groups}.get(coll)
            if store is None or ident not in store:
                raise not_found(single, ident)
            item = store[ident]
            for k, v in body.items():
                if k in item and k not in ("id", "project_id", "tenant_id"):
                    item[k] = v
            if coll == "ports" and "binding:host_id" in body and body["binding:host_id"]:
                c.bind_port(item, body["binding:host_id"])
            c.stamp(item)
            return Response(200, {single: c.sg_view(item) if coll == "security-groups" else item})
        update.__name__ = "update_" + coll
        return update

    def _deleter(self, coll):
        def delete(req, ident):
            single, _ = self.COLL[coll]
            c = self.cloud
            if coll == "routers":
                r = c.routers.get(ident)
                if not r:
                    raise not_found("router", ident)
                c.delete_router(r)
            elif coll == "floatingips":
                if c.floatingips.pop(ident, None) is None:
                    raise not_found("floatingip", ident)
            elif coll == "ports":
                if ident not in c.ports:
                    raise not_found("port", ident)
                c.delete_port(ident)
            elif coll == "security-group-rules":
                if c.sg_rules.pop(ident, None) is None:
                    raise not_found("security_group_rule", ident)
            elif coll == "networks":
                net = c.networks.get(ident)
                if not net:
                    raise not_found("network", ident)
                if any(p["network_id"] == ident and p["device_owner"] != "network:dhcp" for p in c.ports.values()):
                    raise CloudError(409, "NetworkInUse", f"Unable to complete operation on network {ident}. "
                                     "There are one or more ports still in use on the network.")
                for p in [p for p in c.ports.values() if p["network_id"] == ident]:
                    c.delete_port(p["id"])
                for s in net["subnets"]:
                    c.subnets.pop(s, None)
                del c.networks[ident]
            elif coll == "security-groups":
                if c.security_groups.pop(ident, None) is None:
                    raise not_found("security_group", ident)
                for rid in [r["id"] for r in c.sg_rules.values() if r["security_group_id"] == ident]:
                    del c.sg_rules[rid]
            else:
                raise CloudError(405, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
            return Response(204)
        delete.__name__ = "delete_" + coll
        return delete

    def _router(self, rid):
        r = self.cloud.routers.get(rid)
        if not r:
            raise not_found("router", rid)
        return r

    def add_interface(self, req, rid):
        return Response(200, self.cloud.add_router_interface(self._router(rid), req["json"]))

    def remove_interface(self, req, rid):
        return Response(200, self.cloud.remove_router_interface(self._router(rid), req["json"]))

    def agent_routers(self, req, aid):
        agent = self._get("agents", aid)
        routers = [self.cloud.router_view(r) for r in self.cloud.routers.values() if r["_l3_host"] == agent["host"]] \
            if agent["binary"] == "neutron-l3-agent" else []
        return Response(200, {"routers": routers})

    def router_agents(self, req, rid):
        r = self._router(rid)
        agents = [a for a in self.cloud.agents() if a["binary"] == "neutron-l3-agent" and a["host"] == r["_l3_host"]]
        for a in agents:
            a["ha_state"] = None
        return Response(200, {"agents": agents})

    def network_dhcp_agents(self, req, nid):
        """DHCP agents hosting the network (neutron/extensions/dhcpagentscheduler.py): every
        network node's agent serves every DHCP-enabled network in this lab."""
        net = self.cloud.networks.get(nid)
        if net is None:
            return Response(404, {"NeutronError": {"type": "NetworkNotFound", "message": f"Network {nid} could not be found.",
                                                   "detail": ""}})
        served = any(self.cloud.subnets[s]["enable_dhcp"] for s in net["subnets"])
        hosts = {n.hostname for n in self.cloud.nodes_in("network")}
        agents = [a for a in self.cloud.agents() if served and a["binary"] == "neutron-dhcp-agent" and a["host"] in hosts]
        return Response(200, {"agents": agents})

    # --- placement --------------------------------------------------------------------------
    def _placement(self, fn):
        def handler(req, *groups):
            try:
                req["pmv"] = placement_api.version(req["headers"])
                return Response(200, fn(req, *groups))
            except placement_api.PlacementError as exc:
                return Response(exc.status, placement_api.error_body(exc, req.get("pmv"), "req-" + str(uuid.uuid4())))
        return handler

    def placement_root(self, req):
        try:
            req["pmv"] = placement_api.version(req["headers"])
        except placement_api.PlacementError as exc:
            return Response(exc.status, placement_api.error_body(exc, None, "req-" + str(uuid.uuid4())))
        return Response(200, placement_api.root())

    # --- image ------------------------------------------------------------------------------
    def image_versions(self, req):
        vals = [{"id": f"v2.{n}", "status": "CURRENT" if n == 16 else "SUPPORTED",
                 "links": [{"rel": "self", "href": f"{self.base}/image/v2/"}]} for n in range(16, -1, -1)]
        return Response(300 if req["path"] == "/image" else 200, {"versions": vals})

    def image_version(self, req):
        return Response(200, {"version": {"id": "v2.16", "status": "CURRENT",
                                          "links": [{"rel": "self", "href": f"{self.base}/image/v2/"}]}})

    def image_view(self, i):
        return {k: v for k, v in i.items() if not k.startswith("_")}

    def list_images(self, req):
        q = req["query"]
        imgs = [self.image_view(i) for i in self.cloud.images.values()
                if ("name" not in q or i["name"] == q["name"][0]) and ("status" not in q or i["status"] == q["status"][0])]
        return Response(200, {"images": imgs, "schema": "/v2/schemas/images", "first": "/v2/images"})

    def get_image(self, req, iid):
        for i in self.cloud.images.values():
            if i["id"] == iid:
                return Response(200, self.image_view(i))
        raise CloudError(404, "NotFound", f"No image found with ID {iid}")

    def image_schema(self, req):
        return Response(200, {"name": "image", "properties": {}, "additionalProperties": {"type": "string"}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kolla-lab"
    sys_version = ""

    def setup(self):
        super().setup()
        import socket
        # headers and body go out as two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # quiet: the lab must not print tokens or noise
        return

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        resp = self.server.api.handle(self.command, self.path, self.headers, body)
        if resp.status == DROP:
            self.close_connection = True
            return
        if resp.body is None:
            payload = b""
        elif isinstance(resp.body, str):
            payload = resp.body.encode()
        else:
            payload = json.dumps(resp.body).encode()
        self.send_response(resp.status)
        ctype = resp.headers.pop("Content-Type", "application/json")
        if payload:
            self.send_header("Content-Type", ctype)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve


class APIServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request, client_address):
        # A client that gave up (timeout fault, Ctrl-C) leaves a broken pipe: not worth a traceback.
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)

    def __init__(self, api: API):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        api.base = f"http://127.0.0.1:{self.server_address[1]}"
