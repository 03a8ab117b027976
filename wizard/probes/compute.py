"""Nova probes for the max-retries tree: the failed server's fault, the hosts its build was tried
on (instance action events) and why each attempt failed (nova-compute.log on those hosts, the
conductor's "Error from last host" lines), and the nova-compute services. A rescheduled attempt's
event ends Success with no traceback (RescheduledException is caught in
_do_build_and_run_instance), so the reason is read where Nova writes it: the logs.

Strings matched here are Nova's own (nova/exception.py, nova/conductor/manager.py):
  PortBindingFailed   "Binding failed for port %(port_id)s, please check neutron logs for more information."
  MaxRetriesExceeded  "Exceeded maximum number of retries. %(reason)s"
  NoValidHost         "No valid host was found. %(reason)s"
"""
from __future__ import annotations

from typing import Any

from ..cloud import CloudError
from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from ..readings import nova_logs
from .registry import probe
from ..probe_context import ProbeContext
from ..i18n import t

MAX_RETRIES = "Exceeded maximum number of retries"
BINDING_FAILED_RE = nova_logs.BINDING_FAILED_RE
NO_VALID_HOST = "No valid host was found"
BUILD_EVENT = "compute__do_build_and_run_instance"


def _fault(server: dict[str, Any]) -> dict[str, Any]:
    fault = server.get("fault") or {}
    return fault if isinstance(fault, dict) else {}


def _classify(message: str) -> str:
    if MAX_RETRIES in message or BINDING_FAILED_RE.search(message):
        return "build-failed"
    if NO_VALID_HOST in message or "is not mapped to any cell" in message:   # HostMappingNotFound: scheduling too
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
    return ProbeUnavailable(t("{error}; run `{command}` and answer the question", error=exc.one_line(), command=command),
                            sources=[command])


@probe("server_build_fault",
       outcomes=("build-failed", "no-valid-host", "other-fault", "not-in-error", "no-error-server"),
       summary="Find the server whose build failed and read its fault", requires="cloud", provides=("server",))
def server_build_fault(ctx: ProbeContext, args, emit) -> Evidence:
    target = (getattr(ctx, "target", None) or {}).get("server")
    try:
        if target:
            server = ctx.cloud.find_server(target)
            if server is None:
                raise ProbeUnavailable(t("no server named or with ID {target!r} in this project; check --server "
                                         "(`openstack server list --all-projects`)", target=target))
            candidates = [server]
        else:
            candidates = [s for s in ctx.cloud.servers() if s.get("status") == "ERROR"]
    except CloudError as exc:
        raise _unavailable(exc, "openstack server list --status ERROR") from None
    sources = ["GET /servers/detail"]
    if not candidates:
        return Evidence("no-error-server", facts={}, sources=sources,
                        observations=[t("No server is in ERROR, so no build has failed.")])
    # Prefer servers whose fault is the max-retries/binding one, then the newest.
    candidates.sort(key=lambda s: (_classify(str(_fault(s).get("message") or "")) == "build-failed",
                                   str(s.get("updated_at") or s.get("updated") or "")), reverse=True)
    server = candidates[0]
    facts = {"server": server_facts(server)}
    s = facts["server"]
    if server.get("status") != "ERROR":
        return Evidence("not-in-error", facts=facts, sources=sources,
                        observations=[t("Server {name} ({id}) is {status}, not ERROR.", name=s['name'], id=s['id'],
                                          status=s['status'])])
    message = str(s.get("fault_message") or "")
    outcome = _classify(message)
    obs = [t("Server {name} ({id}) is ERROR; fault (code {code}): {message}", name=s['name'], id=s['id'],
             code=s.get('fault_code'), message=message or t("(none shown)"))]
    others = [c for c in candidates[1:] if c.get("status") == "ERROR"]
    if others:
        obs.append(t("{count} other server(s) in ERROR; pass --server to look at another one (e.g. {example}).",
                     count=len(others), example=others[0].get('name') or others[0].get('id')))
    if not message:
        obs.append(t("The API shows no fault text for it (faults are shown for ERROR servers only)."))
    return Evidence(outcome, facts=facts, observations=obs, sources=sources)


def _events(action: dict[str, Any]) -> list[dict[str, Any]]:
    events = action.get("events") or []
    return [e if isinstance(e, dict) else dict(e) for e in events]


KIND_OUTCOME = {"port-binding": "port-binding-failed", "kvm": "virt-failed"}
KIND_WORDS = {"port-binding": "the port could not bind", "kvm": "libvirt could not run a KVM guest",
              "vif-plugging": "the VIF was never reported plugged (vif-plugging timeout)",
              "volume": "a volume could not be prepared", "other": "another error"}


def _attempt_hosts(events: list[dict[str, Any]]) -> list[str]:
    """Every host a build attempt started on: one compute__do_build_and_run_instance event per attempt
    (nova/compute/utils.py EventReporter), whatever its result (a rescheduled attempt ends Success)."""
    hosts: list[str] = []
    for event in events:
        if event.get("event") == BUILD_EVENT and event.get("host") and event["host"] not in hosts:
            hosts.append(event["host"])
    return hosts


def _compute_log_failures(ctx: ProbeContext, sid: str, hosts: list[str], since, sources: list[str], obs: list[str],
                          unread: list[str]) -> list[dict[str, Any]]:
    """'Failed to build and run instance' lines for this instance in nova-compute.log on each host."""
    pattern = nova_logs.instance_pattern(sid, nova_logs.BUILD_FAILED)
    by_inventory = {_nodeio.inventory_name(ctx, h): h for h in hosts}
    results = _nodeio.fan_out(ctx, list(by_inventory),
                              lambda node: _nodeio.grep_log(node, pattern, _nodeio.NOVA_COMPUTE_LOG))
    failures: list[dict[str, Any]] = []
    for inv, lines in results.items():
        host = by_inventory[inv]
        sources.append(f"{inv}: grep -F {pattern!r} {_nodeio.NOVA_COMPUTE_LOG}")
        if isinstance(lines, Exception):
            why = _nodeio.error_line(lines)
            unread.append(why if why.startswith(f"{inv}:") else f"{inv}: {why}")
            continue
        if lines is None:
            unread.append(t("{host}: {path} does not exist", host=inv, path=_nodeio.NOVA_COMPUTE_LOG))
            continue
        recent = [ln for ln in lines if since is None or (nova_logs.line_time(ln) or since) >= since] or lines
        if not recent:
            obs.append(t("{host} {path}: no '{pattern}' line for {instance}.", host=inv, path=_nodeio.NOVA_COMPUTE_LOG,
                         pattern=nova_logs.BUILD_FAILED, instance=sid))
            continue
        line = recent[-1]
        text = nova_logs.exception_text(line, nova_logs.BUILD_FAILED)
        when = nova_logs.line_time(line)
        failures.append({"host": host, "source": f"{inv} {_nodeio.NOVA_COMPUTE_LOG}",
                         "line": nova_logs.without_stamp(line), "time": when.isoformat() if when else None,
                         "exception": text, **nova_logs.classify(text)})
    return failures


def _conductor_log_failures(ctx: ProbeContext, sid: str, sources: list[str], unread: list[str]) -> list[dict[str, Any]]:
    """The conductor's 'Error from last host' lines for this instance (one per reschedule)."""
    controllers = _nodeio.hosts_in_group(ctx, "nova-conductor") or _nodeio.hosts_in_group(ctx, "control")
    pattern = nova_logs.instance_pattern(sid, nova_logs.LAST_HOST)
    failures: list[dict[str, Any]] = []
    for ctl, lines in _nodeio.fan_out(ctx, controllers,
                                      lambda node: _nodeio.grep_log(node, pattern, _nodeio.NOVA_CONDUCTOR_LOG)).items():
        sources.append(f"{ctl}: grep -F {pattern!r} {_nodeio.NOVA_CONDUCTOR_LOG}")
        if isinstance(lines, Exception):
            why = _nodeio.error_line(lines)
            unread.append(why if why.startswith(f"{ctl}:") else f"{ctl}: {why}")
            continue
        for line in lines or []:
            parsed = nova_logs.parse_last_host(line)
            if parsed and parsed["host"] not in [f["host"] for f in failures]:
                failures.append({**parsed, "source": f"{ctl} {_nodeio.NOVA_CONDUCTOR_LOG}",
                                 "line": f"Error from last host: {parsed['host']} ... {parsed['reason']}",
                                 "exception": parsed["reason"]})
    return failures


def _action_start(action: dict[str, Any]):
    import datetime as _dt
    text = str(action.get("start_time") or "")[:19]
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S") - _dt.timedelta(minutes=5)
    except ValueError:
        return None


@probe("instance_build_events",
       outcomes=("port-binding-failed", "virt-failed", "no-valid-host", "other-failure"),
       summary="Which hosts the build was tried on (events, fault) and why each failed (their nova-compute.log)",
       requires="cloud", needs=("server",), provides=("host", "port", "attempts", "build_failure"))
def instance_build_events(ctx: ProbeContext, args, emit) -> Evidence:
    server = (ctx.facts.get("server") or {})
    sid = server.get("id")
    if not sid:
        raise ProbeUnavailable(t("no failed server was identified in an earlier step"))
    command = f"openstack server event list --long {sid}"
    try:
        actions = ctx.cloud.instance_actions(sid)
    except CloudError as exc:
        raise _unavailable(exc, command) from None
    sources = [f"GET /servers/{sid}/os-instance-actions", f"GET /servers/{sid}/os-instance-actions/<request-id>"]
    builds = [a for a in actions if a.get("action") in ("create", "rebuild", "evacuate", "unshelve")]
    if not builds:
        raise ProbeUnavailable(t("server {server} has no create/rebuild action recorded; run `{command}`",
                                 server=sid, command=command), sources=sources)
    builds.sort(key=lambda a: str(a.get("start_time") or ""))
    action = builds[-1]
    # Nova lists an action's events newest first; attempts are read oldest first.
    events = sorted(_events(action), key=lambda e: str(e.get("start_time") or ""))
    facts: dict[str, Any] = {"action": {"request_id": action.get("request_id"), "action": action.get("action")}}
    obs = [t("Action {action} ({request_id}): {events}", action=action.get('action'),
             request_id=action.get('request_id'),
             events=", ".join(t("{event} on {host}: {result}", event=e.get('event'), host=e.get('host') or '?',
                                result=e.get('result') or t("no result")) for e in events)
             or t("no events"))]
    fault = str(server.get("fault_message") or "")
    # The scheduler chose no host: the conductor buries the instance in cell0 with an Error event
    # (nova/conductor/manager.py _create_instance_action_for_cell0).
    if any(NO_VALID_HOST in str(e.get("traceback") or e.get("details") or "") for e in events
           if str(e.get("result") or "").lower() == "error") and MAX_RETRIES not in fault:
        obs.append(t("The scheduler raised NoValidHost: no compute host was chosen at all."))
        return Evidence("no-valid-host", facts=facts, observations=obs, sources=sources)
    hosts = _attempt_hosts(events)
    builds_seen = [e for e in events if e.get("event") == BUILD_EVENT]
    if builds_seen and not hosts:
        # Nova shows the event's host to admins only (microversion 2.62+).
        raise ProbeUnavailable(
            t("the build events of server {server} show no host (event hosts are admin-only); run "
              "`{command}` as admin and answer", server=sid,
              command=f"openstack server event show {sid} {action.get('request_id')}"), sources=sources)
    if hosts:
        obs.append(t("Nova tried the build on {count} host(s): {hosts} "
                     "(one {event} event per attempt; a rescheduled attempt's event ends Success).",
                     count=len(hosts), hosts=', '.join(hosts), event=BUILD_EVENT))
    facts["failed_hosts"] = hosts
    # The fault names the port itself when reschedules stopped on max_attempts ('Last exception:
    # Binding failed for port ...') or were off (the reason is the fault).
    fault_port = BINDING_FAILED_RE.search(fault)
    unread: list[str] = []
    failures = _compute_log_failures(ctx, sid, hosts, _action_start(action), sources, obs, unread) if hosts else []
    if not failures:
        failures = _conductor_log_failures(ctx, sid, sources, unread)
    for failure in failures:
        # the log line verbatim (a code span in Korean, where it is the only English on the line)
        obs.append(t("{source}: {line}", source=failure['source'], line=failure['line'][:400]))
    if unread:
        obs.append(t("Not read: {items}.", items="; ".join(unread)))
    if not failures and fault_port:
        failures = [{"host": hosts[-1] if hosts else None, "kind": "port-binding", "port": fault_port.group(1),
                     "source": t("the server fault"), "line": fault, "exception": fault}]
    if not failures:
        where = "; ".join(unread) if unread else t("no '{pattern}' line was found", pattern=nova_logs.BUILD_FAILED)
        raise ProbeUnavailable(
            t("why the build failed on {hosts} is in nova-compute.log there, and it could "
              "not be read ({where}); run `{command}` on those hosts and answer",
              hosts=', '.join(hosts) or t("its hosts"), where=where,
              command=f"grep -F {nova_logs.instance_pattern(sid, nova_logs.BUILD_FAILED)!r} {_nodeio.NOVA_COMPUTE_LOG}"),
            sources=sources)
    facts["attempts"] = [{k: f.get(k) for k in ("host", "kind", "port", "exception", "source", "time")}
                         for f in failures]
    kinds = [f["kind"] for f in failures]
    chosen = next((f for f in failures if f["kind"] == "port-binding"), None) or \
        next((f for f in failures if f["kind"] == "kvm"), None) or failures[-1]
    host = chosen.get("host")
    if host:
        facts["host"] = host
    facts["build_failure"] = {"kind": chosen["kind"], "words": t(KIND_WORDS[chosen["kind"]]),
                              "line": chosen["line"][:400], "source": chosen["source"],
                              "exception": chosen["exception"][:300]}
    if chosen["kind"] == "port-binding":
        ports = [f["port"] for f in failures if f.get("port")]
        facts["port"] = {"id": chosen["port"], "ids": list(dict.fromkeys(ports))}
        if host:
            obs.append(t("PortBindingFailed for port {port} on host {host}. Nova deletes the ports it created after a "
                         "failed attempt (a port passed with --port is kept and unbound), so the port itself is usually "
                         "gone now.", port=chosen['port'], host=host))
        else:
            obs.append(t("PortBindingFailed for port {port}. Nova deletes the ports it created after a failed attempt "
                         "(a port passed with --port is kept and unbound), so the port itself is usually gone now.",
                         port=chosen['port']))
    elif chosen["kind"] == "kvm":
        obs.append(t("On {host} libvirt refused the KVM guest: {exception}", host=host,
                     exception=chosen['exception'][:200]))
    else:
        obs.append(t("The build failed on {host} because {words}: {exception}", host=host or t("its host"),
                     words=t(KIND_WORDS[chosen['kind']]), exception=chosen['exception'][:200]))
    if len(set(kinds)) > 1:
        obs.append(t("The attempts failed for different reasons: {items}.", items="; ".join(
            f"{f.get('host')}: {t(KIND_WORDS[f['kind']])}" for f in failures)))
    return Evidence(KIND_OUTCOME.get(chosen["kind"], "other-failure"), facts=facts, observations=obs,
                    sources=sources, host=host)


@probe("nova_compute_services",
       outcomes=("none-up", "some-up"),
       summary="Which nova-compute services are up and enabled (where Nova can schedule)", requires="cloud")
def nova_compute_services(ctx: ProbeContext, args, emit) -> Evidence:
    command = "openstack compute service list --service nova-compute"
    try:
        services = ctx.cloud.compute_services()
    except CloudError as exc:
        raise _unavailable(exc, command) from None
    computes = [s for s in services if s.get("binary") == "nova-compute"]
    usable = [s for s in computes if s.get("state") == "up" and s.get("status") == "enabled"]
    unusable = [s for s in computes if s not in usable]
    summary = (t("{up} of {total} nova-compute service(s) up and enabled", up=len(usable), total=len(computes))
               + (": " + ", ".join(s.get("host") or "?" for s in usable) if usable else ""))
    if unusable:
        summary += t("; not usable: {items}", items=", ".join(f"{s.get('host')} ({s.get('state')}/{s.get('status')})"
                                                             for s in unusable))
    facts = {"computes": {"up": [s.get("host") for s in usable], "down": [s.get("host") for s in unusable],
                          "summary": summary}}
    return Evidence("some-up" if usable else "none-up", facts=facts, observations=[summary],
                    sources=["GET /os-services"])
