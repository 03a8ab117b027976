"""Probes of the no-valid-host tree: the server whose fault is NoValidHost, the scheduler's own
INFO lines about that request (nova/scheduler/manager.py "Got no allocation candidates from the
Placement API...", nova/filters.py "Filter %s returned 0 hosts" and "Filtering removed all hosts
for the request with instance ID '%(inst_uuid)s'. Filter results: %(str_results)s"), and the
nova-compute services as the scheduler sees them (up, forced down, disabled)."""
from __future__ import annotations

import re
from typing import Any

from ..cloud import CloudError
from ..evidence import Evidence, ProbeUnavailable
from ..probe_context import ProbeContext
from ..readings import nodes as _nodeio
from ..readings import nova_logs
from ..readings import rabbitmq as rx
from .compute import MAX_RETRIES, NO_VALID_HOST, _fault, server_facts
from .registry import probe
from ..i18n import t

NO_CANDIDATES = "Got no allocation candidates from the Placement API"
FILTER_ZERO_RE = re.compile(r"Filter (\w+) returned 0 hosts")
REMOVED_ALL = "Filtering removed all hosts for the request with instance ID"


def _is_no_valid_host(server: dict[str, Any]) -> bool:
    message = str(_fault(server).get("message") or "")
    return (NO_VALID_HOST in message and MAX_RETRIES not in message) or bool(NOT_MAPPED_RE.search(message)) \
        or message.strip() == "MessagingTimeout"


def _unplaced_build(server: dict[str, Any]) -> bool:
    """BUILD, scheduled or not, but no compute has claimed it (host is set by the compute's claim)."""
    return server.get("status") == "BUILD" and not (server.get("compute_host") or server.get("host")) \
        and server.get("task_state") in ("scheduling", None)


NOT_MAPPED_RE = re.compile(r"Host '([^']+)' is not mapped to any cell")


@probe("no_valid_host_fault", outcomes=("no-valid-host", "not-in-cell", "max-retries", "messaging-timeout", "stuck-build",
                                       "other-fault", "no-error-server"),
       summary="Find the server whose build ended in No valid host and read its fault", requires="cloud",
       provides=("server", "flavor", "compute"))
def no_valid_host_fault(ctx: ProbeContext, args, emit) -> Evidence:
    target = (getattr(ctx, "target", None) or {}).get("server")
    command = "openstack server list --status ERROR --long"
    try:
        if target:
            server = ctx.cloud.find_server(target)
            if server is None:
                raise ProbeUnavailable(t("no server named or with ID {target!r} in this project; check --server", target=target))
            candidates = [server]
        else:
            candidates = [s for s in ctx.cloud.servers() if s.get("status") == "ERROR" or _unplaced_build(s)]
    except CloudError as exc:
        raise ProbeUnavailable(t("{exc}; run `{command}` and answer", exc=exc.one_line(), command=command), sources=[command]) from None
    sources = ["GET /servers/detail"]
    if not candidates:
        return Evidence("no-error-server", facts={}, sources=sources, observations=[t("No server is in ERROR.")])
    candidates.sort(key=lambda s: (_is_no_valid_host(s), _unplaced_build(s),
                                   str(s.get("updated_at") or s.get("updated") or "")), reverse=True)
    server = candidates[0]
    facts = {"server": server_facts(server)}
    s = facts["server"]
    # Never placed: OS-EXT-AZ:availability_zone is the zone the request asked for, "" when none
    # (nova/availability_zones.py get_instance_availability_zone).
    s["availability_zone"] = str(server.get("availability_zone") or server.get("pinned_availability_zone") or "")
    obs = [t("Server {name} ({id}) is {status}; fault: {fault_message}", name=s['name'], id=s['id'], status=s['status'], fault_message=s.get('fault_message') or t("(none shown)"))]
    if _unplaced_build(server):
        # BUILD with no host yet: the conductor's build_and_run_instance to compute.<host> is a cast,
        # so nothing times out while no nova-compute consumes it (nova/compute/rpcapi.py).
        obs.append(t("It is still BUILD (task_state {task_state}) and no compute has taken it.",
                     task_state=server.get('task_state') or 'none'))
        return Evidence("stuck-build", facts=facts, observations=obs, sources=sources)
    if server.get("status") == "ERROR" and MAX_RETRIES in str(s.get("fault_message") or ""):
        # nova/conductor/manager.py build_instances: every compute tried failed the build
        obs.append(t("The scheduler placed it; the build failed on the computes it tried (MaxRetriesExceeded)."))
        return Evidence("max-retries", facts=facts, observations=obs, sources=sources)
    if server.get("status") == "ERROR" and str(s.get("fault_message") or "").strip() == MESSAGING_TIMEOUT:
        # nova/conductor/manager.py schedule_and_build_instances -> _bury_in_cell0: the conductor's
        # RPC call to the scheduler got no reply; the fault is the exception's class name.
        obs.append(t("The conductor never got the scheduler's answer: the build reached no compute."))
        return Evidence("messaging-timeout", facts=facts, observations=obs, sources=sources)
    if server.get("status") != "ERROR" or not _is_no_valid_host(server):
        return Evidence("other-fault", facts=facts, observations=obs, sources=sources)
    unmapped = NOT_MAPPED_RE.search(str(s.get("fault_message") or ""))
    if unmapped:
        # nova/conductor/manager.py schedule_and_build_instances: the scheduler chose a compute that
        # has no host mapping in the API database (HostMappingNotFound, buried in cell0).
        facts["compute"] = {"host": unmapped.group(1)}
        obs.append(t("The scheduler chose {unmapped}, but no cell maps it: nova-manage cell_v2 discover_hosts "
                     "has not run since it joined.", unmapped=unmapped.group(1)))
        return Evidence("not-in-cell", facts=facts, observations=obs, sources=sources, host=unmapped.group(1))
    try:
        flavor = next((f for f in ctx.cloud.flavors() if s.get("flavor") in (f.get("name"), f.get("id"))), None)
    except CloudError:
        flavor = None
    if flavor:
        facts["flavor"] = {"name": flavor.get("name"), "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"),
                           "disk": flavor.get("disk")}
    return Evidence("no-valid-host", facts=facts, observations=obs, sources=sources)


@probe("scheduler_decision", outcomes=("filtered", "no-candidates", "not-logged"),
       summary="nova-scheduler.log: which filter, or Placement, left no host for this request", requires="cloud",
       needs=("server",), provides=("scheduler",))
def scheduler_decision(ctx: ProbeContext, args, emit) -> Evidence:
    server = ctx.facts.get("server") or {}
    sid = server.get("id")
    if not sid:
        raise ProbeUnavailable(t("no failed server was identified in an earlier step"))
    request_id = None
    try:
        actions = ctx.cloud.instance_actions(sid)
        creates = sorted((a for a in actions if a.get("action") in ("create", "rebuild")),
                         key=lambda a: str(a.get("start_time") or ""))
        request_id = creates[-1].get("request_id") if creates else None
    except CloudError:
        pass
    schedulers = _nodeio.hosts_in_group(ctx, "nova-scheduler") or _nodeio.hosts_in_group(ctx, "control")
    # The request's lines: the filter summary names the instance; every line carries the request id.
    pattern = request_id or f"instance ID '{sid}'"
    sources: list[str] = []
    obs: list[str] = []
    lines: list[str] = []
    unread: list[str] = []
    for host, found in _nodeio.fan_out(ctx, schedulers,
                                       lambda node: _nodeio.grep_log(node, pattern, _nodeio.NOVA_SCHEDULER_LOG)).items():
        sources.append(f"{host}: grep -F {pattern!r} {_nodeio.NOVA_SCHEDULER_LOG}")
        if isinstance(found, Exception):
            unread.append(_nodeio.error_line(found))
            continue
        lines += [line for line in found or [] if " INFO " in line or " WARNING " in line or " ERROR " in line]
    facts: dict[str, Any] = {"scheduler": {"said": t("nova-scheduler.log says nothing about this request at INFO")}}
    if not lines and unread and not schedulers:
        unread.append(t("the Kolla inventory names no nova-scheduler host"))
    no_candidates = [ln for ln in lines if NO_CANDIDATES in ln]
    zero = [FILTER_ZERO_RE.search(ln) for ln in lines]
    zero_names = [m.group(1) for m in zero if m]
    removed = [ln for ln in lines if REMOVED_ALL in ln]
    if zero_names or removed:
        name = zero_names[-1] if zero_names else "a filter"
        said = nova_logs.without_stamp((removed or [ln for ln in lines if FILTER_ZERO_RE.search(ln)])[-1])
        facts["scheduler"] = {"said": t("The scheduler logged: {said}", said=said), "filter": name}
        obs.append(t("{source}: {line}", source="nova-scheduler.log", line=said))
        return Evidence("filtered", facts=facts, observations=obs, sources=sources)
    if no_candidates:
        said = nova_logs.without_stamp(no_candidates[-1])
        facts["scheduler"] = {"said": t("The scheduler logged: {said}", said=said), "filter": None}
        obs.append(t("{source}: {line}", source="nova-scheduler.log", line=said))
        return Evidence("no-candidates", facts=facts, observations=obs, sources=sources)
    if unread:
        obs.append(t("nova-scheduler.log not read: ") + "; ".join(unread) + ".")
        facts["scheduler"]["said"] = t("nova-scheduler.log could not be read")
    else:
        obs.append(t("No INFO line in nova-scheduler.log about request {pattern}.", pattern=pattern))
    return Evidence("not-logged", facts=facts, observations=obs, sources=sources)


@probe("compute_service_states", outcomes=("down", "forced-down", "disabled", "none", "usable"),
       summary="nova-compute services: up, forced down, disabled (in the zone the server asked for)",
       requires="cloud", provides=("computes", "compute"))
def compute_service_states(ctx: ProbeContext, args, emit) -> Evidence:
    command = "openstack compute service list --service nova-compute --long"
    try:
        services = [s for s in ctx.cloud.compute_services() if s.get("binary") == "nova-compute"]
    except CloudError as exc:
        raise ProbeUnavailable(t("{exc}; run `{command}` and answer", exc=exc.one_line(), command=command), sources=[command]) from None
    sources = ["GET /os-services"]
    facts: dict[str, Any] = {}
    zone = (ctx.facts.get("server") or {}).get("availability_zone") or ""
    scope: list[str] = []
    if zone:
        # The scheduler looks only at the zone's hosts (request_filter.map_az_to_placement_aggregate):
        # computes elsewhere being fine does not help this server.
        elsewhere = [s for s in services if _zone(s) != zone]
        services = [s for s in services if _zone(s) == zone]
        scope.append(t("The server asked for availability zone {zone}: its computes are {host}", zone=zone, host=', '.join(str(s.get('host')) for s in services) or t("none"))
                     + (t("; computes in other zones do not count ({host}).", host=', '.join(str(s.get('host')) for s in elsewhere))
                        if elsewhere else "."))
    if not services:
        return Evidence("none", facts={"computes": {"usable": "none"}}, sources=sources,
                        observations=scope + [t("No nova-compute service is registered")
                                              + (t(" in availability zone {zone}.", zone=zone) if zone else ".")])
    rows = [f"{s.get('host')}: {s.get('state')}/{s.get('status')}" + (" forced down" if s.get("forced_down", s.get("is_forced_down")) else "")
            + (f" ({s.get('disabled_reason')})" if s.get("disabled_reason") else "") for s in services]
    obs = scope + [t("nova-compute services: ") + ", ".join(rows) + "."]
    usable = [s for s in services if s.get("state") == "up" and s.get("status") == "enabled"]
    facts["computes"] = {"usable": ", ".join(str(s.get("host")) for s in usable) or "none"}
    if usable:
        return Evidence("usable", facts=facts, observations=obs, sources=sources)

    def pick(kind: str, rows: list[dict[str, Any]], why: str) -> Evidence:
        chosen = rows[0]
        if zone:
            why += t("; the server asked for availability zone {zone}, where no other compute can take it", zone=zone)
        facts["compute"] = {"host": chosen.get("host"), "why": why, "disabled_reason": chosen.get("disabled_reason")
                            or t("no reason given"), "hosts": [r.get("host") for r in rows]}
        return Evidence(kind, facts=facts, observations=obs, sources=sources, host=chosen.get("host"))

    forced = [s for s in services if s.get("forced_down", s.get("is_forced_down"))]
    if forced:
        return pick("forced-down", forced, "forced down")
    down = [s for s in services if s.get("state") != "up"]
    if down:
        return pick("down", down, t("no heartbeat since {updated_at}", updated_at=down[0].get('updated_at') or t("unknown")))
    return pick("disabled", [s for s in services if s.get("status") != "enabled"], "disabled")


def _zone(service: dict[str, Any]) -> str:
    """os-services' ``zone`` (openstacksdk names it availability_zone)."""
    return str(service.get("availability_zone") or service.get("zone") or "")


def _short(name: Any) -> str:
    return str(name or "").split(".", 1)[0]


PLACEMENT_CLASSES = (("VCPU", "vcpus"), ("MEMORY_MB", "ram"), ("DISK_GB", "disk"))
# What nova-compute reports when the operator sets nothing (nova/conf/compute.py): reserved_host_*
# and initial_*_allocation_ratio.
NOVA_DEFAULT_RESERVED = {"VCPU": 0, "MEMORY_MB": 512, "DISK_GB": 0}


def _shortfall(rc: str, inv: dict[str, Any], used: int, need: int) -> dict[str, Any] | None:
    """Placement's test (placement/objects/research_context.py): used + amount <= (total -
    reserved) * allocation_ratio and amount <= max_unit. None when the class has room."""
    total, reserved = int(inv.get("total") or 0), int(inv.get("reserved") or 0)
    ratio = float(inv.get("allocation_ratio") or 1.0)
    max_unit = int(inv.get("max_unit") or total)
    capacity = int((total - reserved) * ratio)
    if need <= max_unit and used + need <= (total - reserved) * ratio:
        return None
    if need > max_unit:
        cause = "max-unit"
    elif reserved > NOVA_DEFAULT_RESERVED[rc] and used + need <= (total - NOVA_DEFAULT_RESERVED[rc]) * ratio:
        cause = "reserved"
    else:
        cause = "used"
    return {"resource_class": rc, "needed": need, "total": total, "reserved": reserved, "allocation_ratio": ratio,
            "max_unit": max_unit, "used": used, "capacity": capacity, "free": max(capacity - used, 0), "cause": cause}


@probe("placement_room", outcomes=("no-room", "room"),
       summary="Placement: each compute's inventory (total, reserved, allocation ratio) and usage against the flavor",
       requires="cloud", needs=("server",), provides=("placement",))
def placement_room(ctx: ProbeContext, args, emit) -> Evidence:
    flavor = ctx.facts.get("flavor") or {}
    need = {rc: int(flavor.get(key) or 0) for rc, key in PLACEMENT_CLASSES if int(flavor.get(key) or 0) > 0}
    wanted = ",".join(f"{rc}:{n}" for rc, n in need.items())
    command = f"openstack allocation candidate list --resource {' --resource '.join(f'{rc}={n}' for rc, n in need.items())}"
    if not need:
        raise ProbeUnavailable(t("the flavor of the failed server could not be read; run `{command}` and answer", command=command))
    try:
        providers = ctx.cloud.resource_providers()
        zone = (ctx.facts.get("server") or {}).get("availability_zone") or ""
        if zone:    # only the zone's computes (provider name = the compute's node name)
            hosts = {_short(s.get("host")) for s in ctx.cloud.compute_services()
                     if s.get("binary") == "nova-compute" and _zone(s) == zone}
            providers = [rp for rp in providers if _short(rp.get("name")) in hosts]
        rows = []
        for rp in providers:
            rid = str(rp.get("id") or rp.get("uuid"))
            rows.append((rp, ctx.cloud.provider_inventories(rid), ctx.cloud.provider_usages(rid)))
        candidates = ctx.cloud.allocation_candidates(wanted, "!COMPUTE_STATUS_DISABLED")
    except CloudError as exc:
        raise ProbeUnavailable(t("{exc}; run `{command}` and answer", exc=exc.one_line(), command=command), sources=[command]) from None
    sources = ["GET /resource_providers", "GET /resource_providers/{uuid}/inventories and /usages",
               f"GET /allocation_candidates?resources={wanted}&required=!COMPUTE_STATUS_DISABLED"]
    obs = []
    short: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for rp, inv, used in rows:
        parts = []
        for rc, n in need.items():
            if rc not in inv:
                continue
            i = inv[rc]
            parts.append(t("{rc} {used} used of ({total} - {reserved} reserved) x {allocation_ratio:g}", rc=rc, used=int(used.get(rc) or 0), total=i.get('total'), reserved=i.get('reserved'), allocation_ratio=float(i.get('allocation_ratio') or 1.0)))
            gap = _shortfall(rc, i, int(used.get(rc) or 0), n)
            if gap:
                short.append((rp, gap))
        obs.append(t("Provider {name}: {parts}.", name=rp.get('name'), parts="; ".join(parts)))
    obs.append(t("The flavor {name} asks for {wanted}; Placement offers {count} allocation candidate(s).", name=flavor.get('name'), wanted=wanted, count=len(candidates)))
    facts: dict[str, Any] = {"placement": {"candidates": len(candidates), "wanted": wanted}}
    if candidates or not short:
        return Evidence("room", facts=facts, observations=obs, sources=sources)
    rp, gap = short[0]
    facts["placement"].update(gap, provider=rp.get("name"), provider_uuid=str(rp.get("id") or rp.get("uuid")),
                              host=rp.get("name"), flavor=flavor.get("name"))
    why = {"max-unit": t("the flavor asks for more {resource_class} than the host has (max_unit {max_unit})", resource_class=gap['resource_class'], max_unit=gap['max_unit']),
           "reserved": t("{reserved} {resource_class} reserved for the host leaves too little", reserved=gap['reserved'], resource_class=gap['resource_class']),
           "used": t("only {free} {resource_class} left", free=gap['free'], resource_class=gap['resource_class']),
           }[gap["cause"]]
    facts["placement"]["why"] = why
    obs.append(t("{host} cannot take {needed} {resource_class}: {why}.", host=rp.get('name'), needed=gap['needed'],
                 resource_class=gap['resource_class'], why=why))
    return Evidence("no-room", facts=facts, observations=obs, sources=sources, host=rp.get("name"))


MESSAGING_TIMEOUT = "MessagingTimeout"
# nova/conductor/manager.py schedule_and_build_instances: LOG.exception('Failed to schedule instances')
SCHEDULE_FAILED = "Failed to schedule instances"
QUEUES_ARGV = ("rabbitmqctl", "list_queues", "name", "messages", "consumers")


def parse_list_queues(text: str) -> dict[str, tuple[int, int]]:
    """``rabbitmqctl list_queues name messages consumers``: banner lines, a header row, then one
    tab-separated row per queue (deps/rabbitmq_cli .../list_queues_command.ex)."""
    out: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


@probe("rpc_bus", outcomes=("scheduler-not-consuming", "compute-not-consuming", "consumed"),
       summary="nova-conductor.log's MessagingTimeout and who consumes Nova's 'scheduler' queue (rabbitmqctl list_queues)",
       requires="node", needs=("server",), provides=("bus",))
def rpc_bus(ctx: ProbeContext, args, emit) -> Evidence:
    from .control_plane import _controllers, _sudo

    conductors = _nodeio.hosts_in_group(ctx, "nova-conductor") or _nodeio.hosts_in_group(ctx, "control")
    rabbits = _controllers(ctx, "rabbitmq")
    sources: list[str] = []
    obs: list[str] = []
    said = ""
    for host, found in _nodeio.fan_out(ctx, conductors, lambda node: _nodeio.grep_log(
            node, SCHEDULE_FAILED, _nodeio.NOVA_CONDUCTOR_LOG)).items():
        sources.append(f"{host}: grep -F {SCHEDULE_FAILED!r} {_nodeio.NOVA_CONDUCTOR_LOG}")
        if isinstance(found, Exception) or not found:
            continue
        timed_out = [ln for ln in found if MESSAGING_TIMEOUT in ln]
        if timed_out:
            said = nova_logs.without_stamp(timed_out[-1])
            obs.append(f"{host}: nova-conductor.log: {said}")

    def queues(node: Any) -> tuple[str, dict[str, tuple[int, int]] | None, str]:
        argv = [_nodeio.container_engine(ctx, node.name), "exec", rx.CONTAINER, *QUEUES_ARGV]
        out = node.run(argv, sudo=_sudo(node), timeout=rx.CTL_TIMEOUT)
        if out.rc != 0:
            return " ".join(argv), None, ((out.stderr or out.stdout).strip().splitlines() or [f"rc {out.rc}"])[-1]
        return " ".join(argv), parse_list_queues(out.stdout), ""

    table: dict[str, tuple[int, int]] | None = None
    for host, value in _nodeio.fan_out(ctx, rabbits, queues).items():
        if isinstance(value, Exception):
            obs.append(t("{host}: cannot list RabbitMQ's queues: {error}", host=host, error=_nodeio.error_line(value)))
            continue
        command, parsed, error = value
        sources.append(f"{host}: {command}")
        if parsed is None:
            obs.append(f"{host}: `{command}` failed: {error[:200]}")
            continue
        table = parsed
        break
    if table is None:
        raise ProbeUnavailable(t("RabbitMQ's queues could not be listed; run `docker exec rabbitmq rabbitmqctl list_queues "
                                 "name messages consumers` on a controller and answer"), sources=sources)
    schedulers = _nodeio.hosts_in_group(ctx, "nova-scheduler") or _nodeio.hosts_in_group(ctx, "control")
    messages, consumers = table.get("scheduler", (0, 0))
    # oslo.messaging's server queue is scheduler.<[DEFAULT] host>, the node's host name
    per_host = {_nodeio.short(name.split(".", 1)[1]): c for name, (_m, c) in table.items()
                if name.startswith("scheduler.")}
    idle = [h for h in schedulers if per_host.get(_nodeio.short(h), 0) == 0]
    obs.append(t("RabbitMQ queue scheduler: {messages} message(s) waiting, {consumers} consumer(s)", messages=messages, consumers=consumers)
               + (t("; scheduler.<host> without a consumer: {idle}", idle=', '.join(idle)) if idle else "") + ".")
    facts = {"bus": {"said": said or t("nova-conductor.log has no MessagingTimeout line for it"),
                     "messages": messages, "consumers": consumers, "hosts": ", ".join(idle or schedulers),
                     "host": (idle or schedulers or [""])[0]}}
    if consumers == 0:
        return Evidence("scheduler-not-consuming", facts=facts, observations=obs, sources=sources,
                        host=facts["bus"]["host"] or None)
    stuck = sorted((name.split(".", 1)[1], m) for name, (m, c) in table.items()
                   if name.startswith("compute.") and c == 0 and m > 0)
    if stuck:
        host, waiting = stuck[0]
        obs.append(t("RabbitMQ queue compute.{host}: {waiting} message(s) waiting, no consumer: nova-compute on "
                     "{host} does not take the builds cast to it.", host=host, waiting=waiting))
        facts["bus"].update(compute=host, compute_messages=waiting)
        return Evidence("compute-not-consuming", facts=facts, observations=obs, sources=sources, host=host)
    return Evidence("consumed", facts=facts, observations=obs, sources=sources)
