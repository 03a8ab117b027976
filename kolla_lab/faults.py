"""Fault switches: make one API endpoint or one node misbehave the way real ones do, so tests can
prove the wizard keeps its head (docs/scenarios.md, "Faults").

    lab.faults.set("network", "/v2.0/agents", status=503)        # API: per service and path (glob)
    lab.faults.set("compute", "/v2.1/servers/detail", delay=3)    # slow past the client's timeout
    lab.faults.set("network", body='{"agents": [')                # malformed JSON, HTTP 200
    lab.faults.set("image", refuse=True)                          # endpoint down: connection refused
    lab.faults.set("network", "/v2.0/ports", expire_token=True, times=1)   # 401, then re-auth works
    lab.faults.set_node("compute01", silent=True)                 # accepts TCP, never speaks SSH
    lab.faults.set_node("compute01", drop="*ovs-vsctl*")          # connection dies mid-command
    lab.faults.clear()

The same switches load from a scenario's ``faults:`` key. Paths are the request path below the
service's URL prefix (``/network``, ``/compute``, ``/image``; identity has none), matched as a
shell glob. Never imports other ``wizard.*`` modules."""
from __future__ import annotations

import fnmatch
import socket
import threading
from dataclasses import dataclass
from typing import Any, Callable

SERVICES = ("identity", "compute", "network", "image")
API_KEYS = {"service", "path", "method", "status", "delay", "body", "refuse", "expire_token", "times"}
NODE_KEYS = {"auth", "host_key", "silent", "down", "drop", "sudo_password", "flood", "flood_bytes", "hang",
             "hang_seconds"}
DEFAULT_FLOOD_BYTES = 8 * 1024 * 1024
DEFAULT_HANG_SECONDS = 30.0


class FaultError(ValueError):
    """A fault switch that makes no sense (unknown service, key or value)."""


@dataclass
class APIFault:
    service: str
    path: str = "*"
    method: str | None = None
    status: int | None = None
    delay: float = 0.0
    body: str | None = None
    refuse: bool = False
    expire_token: bool = False
    times: int | None = None          # None: until cleared

    def matches(self, service: str, path: str, method: str) -> bool:
        if service != self.service or (self.method and self.method.upper() != method.upper()):
            return False
        return fnmatch.fnmatchcase(path, self.path) or fnmatch.fnmatchcase(path.rstrip("/"), self.path.rstrip("/"))


def dead_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then closed): connecting is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._api: list[APIFault] = []
        self._nodes: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._dead_port: int | None = None
        self.fired: list[str] = []       # what fired, in order ("network GET /v2.0/agents: status 503")

    # --- switching ----------------------------------------------------------------------------
    def set(self, service: str, path: str = "*", *, method: str | None = None, status: int | None = None,
            delay: float = 0.0, body: str | None = None, refuse: bool = False, expire_token: bool = False,
            times: int | None = None) -> APIFault:
        if service not in SERVICES:
            raise FaultError(f"unknown service {service!r} (known: {', '.join(SERVICES)})")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise FaultError(f"status {status!r} must be an HTTP error code (400-599)")
        if not (status or delay or body is not None or refuse or expire_token):
            raise FaultError("an API fault needs status, delay, body, refuse or expire_token")
        fault = APIFault(service, path or "*", method, status, float(delay or 0), body, bool(refuse),
                         bool(expire_token), times)
        with self._lock:
            self._api.append(fault)
        self._changed()
        return fault

    def set_node(self, node: str, **switches: Any) -> None:
        unknown = set(switches) - NODE_KEYS
        if unknown:
            raise FaultError(f"unknown node fault {', '.join(sorted(unknown))} (known: {', '.join(sorted(NODE_KEYS))})")
        if switches.get("auth") not in (None, "fail"):
            raise FaultError("auth must be 'fail'")
        if switches.get("host_key") not in (None, "unknown", "changed"):
            raise FaultError("host_key must be 'unknown' or 'changed'")
        with self._lock:
            self._nodes.setdefault(node, {}).update(switches)
        self._changed()

    def clear(self) -> None:
        with self._lock:
            self._api.clear()
            self._nodes.clear()
            self.fired.clear()
        self._changed()

    def load(self, spec: dict) -> None:
        """Switch on the faults of a scenario's validated ``faults:`` mapping."""
        for item in spec.get("api") or []:
            item = dict(item)
            self.set(item.pop("service"), item.pop("path", "*"), **item)
        for node, switches in (spec.get("nodes") or {}).items():
            self.set_node(str(node), **dict(switches))

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # --- reading (the API and the SSH servers ask) --------------------------------------------
    def api_fault(self, service: str, path: str, method: str) -> APIFault | None:
        with self._lock:
            for fault in self._api:
                if fault.matches(service, path, method):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._api.remove(fault)
                    self.fired.append(f"{service} {method} {path}: " + describe(fault))
                    return fault
        return None

    def service_down(self, service: str) -> bool:
        with self._lock:
            return any(f.service == service and f.refuse and f.path in ("*", "") for f in self._api)

    def dead_port(self) -> int:
        with self._lock:
            if self._dead_port is None:
                self._dead_port = dead_port()
            return self._dead_port

    def node(self, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._nodes.get(name, {}))

    def node_command(self, name: str, command: str) -> tuple[str, Any] | None:
        """The command-level fault for this command on this node: (kind, value) or None."""
        spec = self.node(name)
        for kind in ("drop", "hang", "flood"):
            pattern = spec.get(kind)
            if pattern and fnmatch.fnmatchcase(command, pattern if isinstance(pattern, str) else "*"):
                with self._lock:
                    self.fired.append(f"{name}: {kind} on {command}")
                if kind == "flood":
                    return kind, int(spec.get("flood_bytes") or DEFAULT_FLOOD_BYTES)
                if kind == "hang":
                    return kind, float(spec.get("hang_seconds") or DEFAULT_HANG_SECONDS)
                return kind, None
        return None


def describe(fault: APIFault) -> str:
    parts = []
    if fault.refuse:
        parts.append("refused")
    if fault.delay:
        parts.append(f"delay {fault.delay:g}s")
    if fault.expire_token:
        parts.append("token expired")
    if fault.status:
        parts.append(f"status {fault.status}")
    if fault.body is not None:
        parts.append("raw body")
    return ", ".join(parts)


def validate_spec(spec: Any, where: Callable[[Any, Any], str], error: Callable[[str, str], Exception]) -> None:
    """Validate a scenario's ``faults:`` mapping; ``where(obj, key)`` gives ``file:line``."""
    if not isinstance(spec, dict):
        raise error(where(spec, None), "faults must be a mapping with api: and/or nodes:")
    for key in spec:
        if key not in ("api", "nodes"):
            raise error(where(spec, key), f"unknown faults key {key!r} (allowed: api, nodes)")
    api = spec.get("api") or []
    if not isinstance(api, list):
        raise error(where(spec, "api"), "faults.api must be a list of {service, path, status|delay|body|refuse|expire_token}")
    probe = Faults()
    for item in api:
        if not isinstance(item, dict):
            raise error(where(api, None), "each faults.api entry must be a mapping")
        for key in item:
            if key not in API_KEYS:
                raise error(where(item, key), f"unknown API fault key {key!r} (allowed: {', '.join(sorted(API_KEYS))})")
        if "service" not in item:
            raise error(where(item, None), "an API fault needs service: (identity, compute, network or image)")
        try:
            args = dict(item)
            probe.set(str(args.pop("service")), str(args.pop("path", "*")), **args)
        except (FaultError, TypeError, ValueError) as exc:
            raise error(where(item, None), f"bad API fault: {exc}") from None
    nodes = spec.get("nodes") or {}
    if not isinstance(nodes, dict):
        raise error(where(spec, "nodes"), "faults.nodes must map node names to switches")
    for name, switches in nodes.items():
        if not isinstance(switches, dict):
            raise error(where(nodes, name), f"faults for node {name!r} must be a mapping")
        try:
            probe.set_node(str(name), **{str(k): v for k, v in switches.items()})
        except FaultError as exc:
            raise error(where(nodes, name), f"bad node fault: {exc}") from None
