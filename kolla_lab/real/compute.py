"""A small compute (and image) API of the real tier's own, on top of real Neutron.

Enough of Nova's API for openstacksdk's server list/show, instance actions, console output,
keypairs, flavors, services and hypervisors, and Glance's image list/show. A server build creates
and binds its port through Neutron (``binding:host_id``) on up to three candidate hosts, as Nova's
scheduler retries do; when every attempt ends in ``binding_failed`` the server gets the real
MaxRetriesExceeded fault. Tokens are validated by the real Keystone."""
from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from .. import nova_records
from .services import _http

MAX_ATTEMPTS = 3     # nova's [scheduler] max_attempts default


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ComputeError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Compute:
    def __init__(self, keystone_url: str, neutron_url: str, admin_token: Callable[[], str],
                 compute_hosts: Callable[[], list[str]], project_id: str, user_id: str):
        self.keystone_url, self.neutron_url = keystone_url, neutron_url
        self.admin_token = admin_token
        self.compute_hosts = compute_hosts
        self.project_id, self.user_id = project_id, user_id
        self.servers: dict[str, dict] = {}
        self.actions: dict[str, list[dict]] = {}
        self.keypairs: dict[str, dict] = {}
        self.flavors: dict[str, dict] = {}
        self.images: dict[str, dict] = {}
        self.lock = threading.RLock()
        self.valid_tokens: set[str] = set()
        self.requests = 0
        self.console_for: Callable[[str], str] = lambda name: ""
        # (nova host or None for the conductor, path, lines): where Nova's own log lines land
        self.write_log: Callable[[str | None, str, list], None] = lambda host, path, lines: None
        # (host, server id, ports, networks by id) once the server is ACTIVE; (port) before a
        # port is deleted: the VIF plug/unplug of the compute's virt driver (os-vif), where a
        # real agent watches that compute's br-int (lab.py)
        self.plug: Callable[[str, str, list, dict], None] = lambda host, server_id, ports, networks: None
        self.unplug: Callable[[dict], None] = lambda port: None

    # -- neutron through its API --------------------------------------------------------------
    def neutron(self, method: str, path: str, body: dict | None = None) -> dict:
        status, _, payload = _http(method, f"{self.neutron_url}/v2.0{path}", body, token=self.admin_token())
        if status >= 400:
            raise ComputeError(status, json.dumps(payload))
        return payload

    # -- model ---------------------------------------------------------------------------------
    def add_flavor(self, spec: dict) -> None:
        fid = str(spec.get("id") or len(self.flavors) + 1)
        self.flavors[fid] = {"id": fid, "name": spec["name"], "vcpus": int(spec.get("vcpus", 1)),
                             "ram": int(spec.get("ram", 512)), "disk": int(spec.get("disk", 1)),
                             "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 0, "rxtx_factor": 1.0,
                             "os-flavor-access:is_public": True, "OS-FLV-DISABLED:disabled": False,
                             "description": None, "extra_specs": {}, "links": []}

    def add_image(self, spec: dict) -> None:
        iid = str(uuid.uuid4())
        self.images[iid] = {"id": iid, "name": spec["name"], "status": "active", "visibility": "public",
                            "disk_format": "qcow2", "container_format": "bare", "size": spec.get("size", 0),
                            "os_distro": spec.get("os_distro"), "os_version": spec.get("os_version"),
                            "os_admin_user": spec.get("login_user"), "created_at": _now(), "updated_at": _now(),
                            "owner": self.project_id, "protected": False, "min_disk": 0, "min_ram": 0,
                            "tags": [], "self": f"/v2/images/{iid}", "schema": "/v2/schemas/image",
                            "file": f"/v2/images/{iid}/file"}

    def add_keypair(self, name: str, public_key: str) -> dict:
        keypair = {"name": name, "public_key": public_key, "fingerprint": "", "type": "ssh", "user_id": self.user_id,
                   "created_at": _now(), "id": len(self.keypairs) + 1, "deleted": False}
        self.keypairs[name] = keypair
        return keypair

    def find(self, table: dict, ref: str, what: str) -> dict:
        if ref in table:
            return table[ref]
        for item in table.values():
            if item.get("name") == ref:
                return item
        raise ComputeError(400, f"{what} {ref} could not be found.")

    def build_server(self, body: dict) -> dict:
        sid = str(uuid.uuid4())
        image = self.find(self.images, str(body.get("imageRef", "")), "Image")
        flavor = self.find(self.flavors, str(body.get("flavorRef", "")), "Flavor")
        networks = body.get("networks") or []
        request_id = "req-" + str(uuid.uuid4())
        server = {"id": sid, "name": body["name"], "status": "BUILD", "OS-EXT-STS:vm_state": "building",
                  "OS-EXT-STS:task_state": "scheduling", "OS-EXT-STS:power_state": 0,
                  "tenant_id": self.project_id, "user_id": self.user_id, "created": _now(), "updated": _now(),
                  "image": {"id": image["id"], "links": []},
                  "flavor": {"vcpus": flavor["vcpus"], "ram": flavor["ram"], "disk": flavor["disk"],
                             "ephemeral": 0, "swap": 0, "original_name": flavor["name"], "extra_specs": {}},
                  "key_name": body.get("key_name"), "addresses": {}, "metadata": body.get("metadata") or {},
                  "security_groups": [{"name": sg.get("name", "default")} for sg in
                                      (body.get("security_groups") or [{"name": "default"}])],
                  "OS-EXT-SRV-ATTR:host": None, "OS-EXT-SRV-ATTR:hypervisor_hostname": None,
                  "OS-EXT-SRV-ATTR:instance_name": f"instance-{len(self.servers) + 1:08x}",
                  "OS-EXT-AZ:availability_zone": "nova", "hostId": "", "accessIPv4": "", "accessIPv6": "",
                  "config_drive": "", "progress": 0, "links": [], "locked": False, "tags": [],
                  "os-extended-volumes:volumes_attached": [], "description": None,
                  "_console": [], "_networks": networks}
        action = {"action": "create", "instance_uuid": sid, "request_id": request_id, "user_id": self.user_id,
                  "project_id": self.project_id, "start_time": _now(), "message": None, "updated_at": _now(),
                  "events": []}
        with self.lock:
            self.servers[sid] = server
            self.actions[sid] = [action]
        self._build(server, action)
        return server

    def _security_group_ids(self, server: dict) -> list[str]:
        groups = self.neutron("GET", f"/security-groups?project_id={self.project_id}")["security_groups"]
        wanted = {sg["name"] for sg in server["security_groups"]}
        return [sg["id"] for sg in groups if sg["name"] in wanted or sg["id"] in wanted]

    def _build(self, server: dict, action: dict) -> None:
        """The records real Nova writes (kolla_lab/nova_records.py): one build event per attempt
        ending Success (the reschedule is caught), the compute's and the conductor's log lines,
        the created ports deleted, and the MaxRetriesExceeded fault with the conductor's traceback."""
        hosts = self.compute_hosts()
        ctx = nova_records.context_tag(action["request_id"], self.user_id, self.project_id)
        if not hosts:
            message = "No valid host was found. "
            traceback = ("Traceback (most recent call last):\n"
                         "nova.exception.NoValidHost: No valid host was found. \n")
            nova_records.event_start(action, "conductor_schedule_and_build_instances", "controller")
            nova_records.event_finish(action, "conductor_schedule_and_build_instances", error=message,
                                      traceback=traceback)
            self.write_log(None, nova_records.CONDUCTOR_LOG, nova_records.conductor_failure_lines(
                server["id"], ctx, message, "nova.exception.NoValidHost"))
            self._fail(server, {"code": 500, "created": _now(), "message": message, "details": traceback})
            return
        network_ids = [n.get("uuid") or n.get("net_id") for n in server["_networks"] if n.get("uuid") or n.get("net_id")]
        sg_ids = self._security_group_ids(server)
        attempts: list[nova_records.Attempt] = []
        for host in hosts[:MAX_ATTEMPTS]:
            nova_records.event_start(action, nova_records.BUILD_EVENT, host)
            ports, failed = [], None
            for network_id in network_ids:
                port = self.neutron("POST", "/ports", {"port": {
                    "network_id": network_id, "device_id": server["id"], "device_owner": "compute:nova",
                    "binding:host_id": host, "security_groups": sg_ids, "project_id": self.project_id}})["port"]
                ports.append(port)
                if port.get("binding:vif_type") in ("binding_failed", "unbound"):
                    failed = port
                    break
            if failed is None:
                nova_records.event_finish(action, nova_records.BUILD_EVENT)
                addresses: dict[str, list] = {}
                nets: dict[str, dict] = {}
                for port in ports:
                    net = nets[port["network_id"]] = self.neutron("GET", f"/networks/{port['network_id']}")["network"]
                    for fixed in port["fixed_ips"]:
                        addresses.setdefault(net["name"], []).append({
                            "version": 4, "addr": fixed["ip_address"], "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
                server.update({"status": "ACTIVE", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": None,
                               "OS-EXT-STS:power_state": 1, "OS-EXT-SRV-ATTR:host": host,
                               "OS-EXT-SRV-ATTR:hypervisor_hostname": host, "addresses": addresses,
                               "updated": _now()})
                self.plug(host, server["id"], ports, nets)
                return
            attempt = nova_records.Attempt(host, port_id=failed["id"])
            attempts.append(attempt)
            self.write_log(host, nova_records.COMPUTE_LOG,
                           attempt.compute_lines(server["id"], ctx, server["OS-EXT-SRV-ATTR:instance_name"], "kvm"))
            for port in ports:
                self.neutron("DELETE", f"/ports/{port['id']}")
            nova_records.event_finish(action, nova_records.BUILD_EVENT)
            self.write_log(None, nova_records.CONDUCTOR_LOG, attempt.conductor_lines(server["id"], ctx))
        fault = nova_records.max_retries_fault(server["id"], len(attempts), attempts[-1].reason, MAX_ATTEMPTS)
        self.write_log(None, nova_records.CONDUCTOR_LOG, nova_records.conductor_failure_lines(
            server["id"], ctx, fault["message"], "nova.exception.MaxRetriesExceeded"))
        self._fail(server, fault)

    def _fail(self, server: dict, fault: dict) -> None:
        server.update({"status": "ERROR", "OS-EXT-STS:vm_state": "error", "OS-EXT-STS:task_state": None,
                       "updated": _now(), "fault": fault})

    def view(self, server: dict) -> dict:
        return {k: v for k, v in server.items() if not k.startswith("_")}

    def services(self) -> list[dict]:
        rows = [{"id": 1, "binary": "nova-scheduler", "host": "controller", "zone": "internal", "status": "enabled",
                 "state": "up", "updated_at": _now(), "disabled_reason": None, "forced_down": False}]
        for index, host in enumerate(self.compute_hosts(), start=2):
            rows.append({"id": index, "binary": "nova-compute", "host": host, "zone": "nova", "status": "enabled",
                         "state": "up", "updated_at": _now(), "disabled_reason": None, "forced_down": False})
        return rows

    def token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        if token in self.valid_tokens:
            return True
        status, _, _ = self._validate(token)
        return status == 200

    def _validate(self, token: str):
        import urllib.request
        request = urllib.request.Request(f"{self.keystone_url}/v3/auth/tokens", method="GET")
        request.add_header("X-Auth-Token", self.admin_token())
        request.add_header("X-Subject-Token", token)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                self.valid_tokens.add(token)
                return response.status, {}, {}
        except Exception:       # noqa: BLE001 - any failure is "not valid"
            return 401, {}, {}


VERSION = {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
           "links": [], "media-types": [{"base": "application/json",
                                         "type": "application/vnd.openstack.compute+json;version=2.1"}]}


# What the lab's image stand-in serves: Glance's image properties it sets, others allowed (as Glance's
# own schema allows additional string properties; None is allowed here for the unset os_* ones).
IMAGE_SCHEMA = {"name": "image", "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                                           {"rel": "describedby", "href": "{schema}"}],
                "properties": {"id": {"type": "string"}, "name": {"type": ["null", "string"]},
                               "status": {"type": "string"}, "visibility": {"type": "string"}},
                "additionalProperties": True}


class ComputeHandler(BaseHTTPRequestHandler):
    compute: Compute
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, payload: dict | None, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("OpenStack-API-Version", "compute 2.96")
        self.send_header("X-OpenStack-Nova-API-Version", "2.96")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        c = self.compute
        c.requests += 1
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            if path in ("", "/compute"):
                return self._send(300 if path == "" else 200, {"versions": [VERSION]})
            if path.startswith("/image"):
                return self._image(path[len("/image"):])
            if path == "/compute/v2.1":
                return self._send(200, {"version": VERSION})
            if not c.token_ok(self.headers.get("X-Auth-Token")):
                return self._send(401, {"error": {"code": 401, "title": "Unauthorized",
                                                  "message": "The request you have made requires authentication."}})
            route = path[len("/compute/v2.1"):]
            return self._compute(method, route)
        except ComputeError as error:
            return self._send(error.status, {"badRequest" if error.status == 400 else "itemNotFound":
                                             {"code": error.status, "message": error.message}})

    def _image(self, route: str) -> None:
        c = self.compute
        if route in ("", "/"):
            return self._send(300, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [
                {"rel": "self", "href": f"http://127.0.0.1:{self.server.server_address[1]}/image/v2/"}]}]})
        if route == "/v2/schemas/image":
            # glanceclient (Nova's image API) validates image bodies against this schema.
            return self._send(200, IMAGE_SCHEMA)
        if route == "/v2/images":
            return self._send(200, {"images": list(c.images.values()), "schema": "/v2/schemas/images",
                                    "first": "/v2/images"})
        match = re.fullmatch(r"/v2/images/([^/]+)", route)
        if match and match.group(1) in c.images:
            return self._send(200, c.images[match.group(1)])
        raise ComputeError(404, "Image not found")

    def _compute(self, method: str, route: str) -> None:
        c = self.compute
        if route in ("/servers/detail", "/servers") and method == "GET":
            return self._send(200, {"servers": [c.view(s) for s in c.servers.values()]})
        if route == "/servers" and method == "POST":
            server = c.build_server(self._body()["server"])
            return self._send(202, {"server": {"id": server["id"], "links": [], "adminPass": "",
                                               "security_groups": server["security_groups"]}})
        match = re.fullmatch(r"/servers/([^/]+)(/.*)?", route)
        if match:
            server = c.servers.get(match.group(1))
            if server is None:
                raise ComputeError(404, f"Instance {match.group(1)} could not be found.")
            rest = match.group(2) or ""
            if rest == "" and method == "GET":
                return self._send(200, {"server": c.view(server)})
            if rest == "" and method == "DELETE":
                for port in c.neutron("GET", f"/ports?device_id={server['id']}")["ports"]:
                    c.unplug(port)      # the driver unplugs the VIFs before the ports go
                    c.neutron("DELETE", f"/ports/{port['id']}")
                c.servers.pop(server["id"], None)
                return self._send(204, None)
            if rest == "/os-instance-actions":
                return self._send(200, {"instanceActions": [
                    {k: v for k, v in a.items() if k != "events"} for a in c.actions.get(server["id"], [])]})
            found = re.fullmatch(r"/os-instance-actions/([^/]+)", rest)
            if found:
                for action in c.actions.get(server["id"], []):
                    if action["request_id"] == found.group(1):
                        return self._send(200, {"instanceAction": {
                            **action, "events": nova_records.events_newest_first(action)}})
                raise ComputeError(404, f"Action {found.group(1)} not found")
            if rest == "/action" and method == "POST":
                body = self._body()
                if "os-getConsoleOutput" in body:
                    # No real guest boots: the guest's side (cloud-init) comes from the lab's guest model.
                    text = c.console_for(server["name"]) if server["status"] == "ACTIVE" else ""
                    length = (body["os-getConsoleOutput"] or {}).get("length")
                    if length not in (None, -1, "-1"):
                        lines = text.splitlines(keepends=True)
                        text = "".join(lines[-int(length):]) if int(length) > 0 else ""
                    return self._send(200, {"output": text})
                raise ComputeError(400, "Unsupported action")
        if route.startswith("/os-keypairs"):
            name = route[len("/os-keypairs/"):] if route.startswith("/os-keypairs/") else ""
            if method == "GET" and not name:
                return self._send(200, {"keypairs": [{"keypair": k} for k in c.keypairs.values()], "keypairs_links": []})
            if method == "GET":
                if name not in c.keypairs:
                    raise ComputeError(404, f"Keypair {name} not found for user {c.user_id}")
                return self._send(200, {"keypair": c.keypairs[name]})
            if method == "POST":
                spec = self._body()["keypair"]
                return self._send(200, {"keypair": c.add_keypair(spec["name"], spec.get("public_key", ""))})
        if route in ("/flavors", "/flavors/detail"):
            return self._send(200, {"flavors": list(c.flavors.values())})
        if route.startswith("/flavors/"):
            return self._send(200, {"flavor": c.find(c.flavors, route[len("/flavors/"):], "Flavor")})
        if route == "/os-services":
            return self._send(200, {"services": c.services()})
        if route in ("/os-hypervisors/detail", "/os-hypervisors"):
            return self._send(200, {"hypervisors": [
                {"id": str(i), "hypervisor_hostname": h, "state": "up", "status": "enabled",
                 "hypervisor_type": "QEMU", "host_ip": "127.0.0.1", "service": {"host": h, "id": i}}
                for i, h in enumerate(c.compute_hosts(), start=1)]})
        if route == "/limits":
            return self._send(200, {"limits": {"absolute": {}, "rate": []}})
        raise ComputeError(404, f"The resource could not be found. ({route})")


def serve(compute: Compute) -> ThreadingHTTPServer:
    handler = type("BoundComputeHandler", (ComputeHandler,), {"compute": compute})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server
