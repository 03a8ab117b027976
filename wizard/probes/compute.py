"""Nova probes for the max-retries tree: the failed server's fault, its instance action events
(the traceback that names PortBindingFailed and the port), and the nova-compute services.

Strings matched here are Nova's own (nova/exception.py, nova/conductor/manager.py):
  PortBindingFailed   "Binding failed for port %(port_id)s, please check neutron logs for more information."
  MaxRetriesExceeded  "Exceeded maximum number of retries. %(reason)s"
  NoValidHost         "No valid host was found. %(reason)s"
"""
from __future__ import annotations

import re
from typing import Any

from ..cloud import CloudError, CloudForbidden
from ..evidence import Evidence, ProbeUnavailable
from .registry import probe

MAX_RETRIES = "Exceeded maximum number of retries"
BINDING_FAILED_RE = re.compile(r"Binding failed for port ([0-9a-fA-F-]{8,})")
NO_VALID_HOST = "No valid host was found"
BUILD_EVENT = "compute__do_build_and_run_instance"


def _fault(server: dict[str, Any]) -> dict[str, Any]:
    fault = server.get("fault") or {}
    return fault if isinstance(fault, dict) else {}


def _classify(message: str) -> str:
    if MAX_RETRIES in message or BINDING_FAILED_RE.search(message):
        return "build-failed"
    if NO_VALID_HOST in message:
        return "no-valid-host"
    return "other-fault"


def server_facts(server: dict[str, Any]) -> dict[str, Any]:
    fault = _fault(server)
    image = server.get("image") or {}
    flavor = server.get("flavor") or {}
    return {
        "id": server.get("id"),
        "name": server.get("name") or server.get("id"),
        "status": server.get("status"),
        "host": server.get("compute_host") or server.get("hypervisor_hostname") or server.get("host"),
        "image_id": image.get("id") if isinstance(image, dict) else image,
        "flavor": (flavor.get("original_name") or flavor.get("name") or flavor.get("id")) if isinstance(flavor, dict) else flavor,
        "key_name": server.get("key_name"),
        "fault_message": fault.get("message"),
        "fault_code": fault.get("code"),
    }


def _unavailable(exc: CloudError, command: str) -> ProbeUnavailable:
    return ProbeUnavailable(f"{exc.one_line()}; run `{command}` and answer the question", sources=[command])


@probe("server_build_fault",
       outcomes=("build-failed", "no-valid-host", "other-fault", "not-in-error", "no-error-server"),
       summary="Find the server whose build failed and read its fault", requires="cloud")
def server_build_fault(ctx, args, emit) -> Evidence:
    target = (getattr(ctx, "target", None) or {}).get("server")
    try:
        if target:
            server = ctx.cloud.find_server(target)
            if server is None:
                raise ProbeUnavailable(f"no server named or with ID {target!r} in this project; check --server "
                                       f"(`openstack server list --all-projects`)")
            candidates = [server]
        else:
            candidates = [s for s in ctx.cloud.servers() if s.get("status") == "ERROR"]
    except CloudError as exc:
        raise _unavailable(exc, "openstack server list --status ERROR") from None
    sources = ["GET /servers/detail"]
    if not candidates:
        return Evidence("no-error-server", facts={}, sources=sources,
                        observations=["No server is in ERROR, so no build has failed."])
    # Prefer servers whose fault is the max-retries/binding one, then the newest.
    candidates.sort(key=lambda s: (_classify(str(_fault(s).get("message") or "")) == "build-failed",
                                   str(s.get("updated_at") or s.get("updated") or "")), reverse=True)
    server = candidates[0]
    facts = {"server": server_facts(server)}
    s = facts["server"]
    if server.get("status") != "ERROR":
        return Evidence("not-in-error", facts=facts, sources=sources,
                        observations=[f"Server {s['name']} ({s['id']}) is {s['status']}, not ERROR."])
    message = str(s.get("fault_message") or "")
    outcome = _classify(message)
    obs = [f"Server {s['name']} ({s['id']}) is ERROR; fault (code {s.get('fault_code')}): {message or '(none shown)'}"]
    others = [c for c in candidates[1:] if c.get("status") == "ERROR"]
    if others:
        obs.append(f"{len(others)} other server(s) in ERROR; pass --server to look at another one "
                   f"(e.g. {others[0].get('name') or others[0].get('id')}).")
    if not message:
        obs.append("The API shows no fault text for it (faults are shown for ERROR servers only).")
    return Evidence(outcome, facts=facts, observations=obs, sources=sources)


def _events(action: dict[str, Any]) -> list[dict[str, Any]]:
    events = action.get("events") or []
    return [e if isinstance(e, dict) else dict(e) for e in events]


@probe("instance_build_events",
       outcomes=("port-binding-failed", "no-valid-host", "other-failure"),
       summary="Read the server's instance action events: which host failed and why", requires="cloud")
def instance_build_events(ctx, args, emit) -> Evidence:
    server = (ctx.facts.get("server") or {})
    sid = server.get("id")
    if not sid:
        raise ProbeUnavailable("no failed server was identified in an earlier step")
    command = f"openstack server event list --long {sid}"
    try:
        actions = ctx.cloud.instance_actions(sid)
    except CloudForbidden as exc:
        raise _unavailable(exc, command) from None
    except CloudError as exc:
        raise _unavailable(exc, command) from None
    sources = [f"GET /servers/{sid}/os-instance-actions", f"GET /servers/{sid}/os-instance-actions/<request-id>"]
    builds = [a for a in actions if a.get("action") in ("create", "rebuild", "evacuate", "unshelve")]
    if not builds:
        raise ProbeUnavailable(f"server {sid} has no create/rebuild action recorded; run `{command}`", sources=sources)
    builds.sort(key=lambda a: str(a.get("start_time") or ""))
    action = builds[-1]
    events = _events(action)
    errors = [e for e in events if str(e.get("result") or "").lower() == "error"]
    facts: dict[str, Any] = {"action": {"request_id": action.get("request_id"), "action": action.get("action")}}
    obs = [f"Action {action.get('action')} ({action.get('request_id')}): "
           + ", ".join(f"{e.get('event')} on {e.get('host') or '?'}: {e.get('result')}" for e in events)]
    if errors and not any(e.get("traceback") for e in errors):
        # Nova hides tracebacks (and event hosts) from non-admin users.
        raise ProbeUnavailable(
            f"the events of server {sid} show errors but no traceback (event details are admin-only); "
            f"run `openstack server event show {sid} {action.get('request_id')}` as admin and answer", sources=sources)
    port_ids: list[str] = []
    failed_hosts: list[str] = []
    for event in errors:
        tb = str(event.get("traceback") or "")
        for match in BINDING_FAILED_RE.finditer(tb):
            if match.group(1) not in port_ids:
                port_ids.append(match.group(1))
        if event.get("event") == BUILD_EVENT and event.get("host") and event["host"] not in failed_hosts:
            failed_hosts.append(event["host"])
    if port_ids:
        host = failed_hosts[0] if failed_hosts else None
        facts["port"] = {"id": port_ids[0], "ids": port_ids}
        facts["failed_hosts"] = failed_hosts
        if host:
            facts["host"] = host
        obs.append(f"The traceback names PortBindingFailed for port {port_ids[0]}"
                   + (f" on host {host}" if host else "") + ".")
        if len(failed_hosts) > 1:
            obs.append(f"Nova retried on {len(failed_hosts)} hosts ({', '.join(failed_hosts)}); each failed the same way.")
        obs.append("Nova deletes the ports it created after a failed build (a port passed with --port is kept), "
                   "so the port itself is gone now.")
        return Evidence("port-binding-failed", facts=facts, observations=obs, sources=sources, host=host)
    if any(NO_VALID_HOST in str(e.get("traceback") or "") and "MaxRetriesExceeded" not in str(e.get("traceback") or "")
           for e in errors):
        obs.append("The scheduler raised NoValidHost: no compute host was chosen at all.")
        return Evidence("no-valid-host", facts=facts, observations=obs, sources=sources)
    last = str(errors[-1].get("traceback") or "").strip().splitlines()[-1:] if errors else []
    obs.append("No PortBindingFailed in the tracebacks" + (f"; the last line is: {last[0]}" if last else "."))
    return Evidence("other-failure", facts=facts, observations=obs, sources=sources)


@probe("nova_compute_services",
       outcomes=("none-up", "some-up"),
       summary="Which nova-compute services are up and enabled (where Nova can schedule)", requires="cloud")
def nova_compute_services(ctx, args, emit) -> Evidence:
    command = "openstack compute service list --service nova-compute"
    try:
        services = ctx.cloud.compute_services()
    except CloudError as exc:
        raise _unavailable(exc, command) from None
    computes = [s for s in services if s.get("binary") == "nova-compute"]
    usable = [s for s in computes if s.get("state") == "up" and s.get("status") == "enabled"]
    unusable = [s for s in computes if s not in usable]
    summary = (f"{len(usable)} of {len(computes)} nova-compute service(s) up and enabled"
               + (": " + ", ".join(s.get("host") or "?" for s in usable) if usable else ""))
    if unusable:
        summary += "; not usable: " + ", ".join(f"{s.get('host')} ({s.get('state')}/{s.get('status')})" for s in unusable)
    facts = {"computes": {"up": [s.get("host") for s in usable], "down": [s.get("host") for s in unusable],
                          "summary": summary}}
    return Evidence("some-up" if usable else "none-up", facts=facts, observations=[summary],
                    sources=["GET /os-services"])
