"""Probes of the cloud-down tree: Keystone, MariaDB Galera, RabbitMQ, the VIP and HAProxy, read on
the controllers the Kolla inventory names (groups mariadb, rabbitmq, loadbalancer; else control).

Commands and paths are Kolla's: the mariadb volume's grastate.dat/gvwstate.dat, the mariadb log,
``docker exec mariadb mysql --defaults-file=<healthcheck.cnf>`` (the monitor user Kolla's own
healthcheck uses, so no password crosses the wire), ``docker exec rabbitmq rabbitmqctl
cluster_status``, ``ip -o addr show`` for kolla_internal_vip_address, ``docker logs keepalived``
and HAProxy's stats socket /var/lib/kolla/haproxy/haproxy.sock (loadbalancer role templates)."""
from __future__ import annotations

import re
from typing import Any

from ..errors import WizardError
from ..probe_context import ProbeContext
from ..evidence import Evidence, ProbeUnavailable
from ..readings import galera as gx
from ..readings import nodes as _nodeio
from ..readings import rabbitmq as rx
from .node_ovs import container_state
from .registry import probe
from ..i18n import t

KEEPALIVED_DEFAULT_VRID = "51"
HAPROXY_SOCKET = "/var/lib/kolla/haproxy/haproxy.sock"
LOG_PATTERN = "Recovered position|Synchronized with group|JOINED -> SYNCED|joined -> synced"


def _controllers(ctx: Any, group: str) -> list[str]:
    hosts = _nodeio.hosts_in_group(ctx, group) or _nodeio.hosts_in_group(ctx, "control")
    if not hosts:
        raise ProbeUnavailable(t("the Kolla inventory names no {group} (or control) hosts; pass --inventory", group=group))
    return hosts


def _global(ctx: Any, var: str, host: str, default: str | None = None) -> str | None:
    model = _nodeio.kolla_or_none(ctx)
    if model is None:
        return default
    try:
        res = model.resolve(var, host)
    except Exception:
        return default
    return str(res.value) if res.defined and res.value is not None else default


def _sudo(node: Any) -> bool:
    return bool(getattr(node, "become", False))


# -- Keystone ---------------------------------------------------------------------------------------
@probe("keystone_answers", outcomes=("answers", "down"),
       summary="Ask Keystone for a token (the first call every client makes)", requires="cloud")
def keystone_answers(ctx: ProbeContext, args: Any, emit) -> Evidence:
    from ..cloud import _translate
    try:
        conn = ctx.cloud.conn
        conn.authorize()
    except WizardError as exc:
        return Evidence("down", {"keystone": {"error": exc.one_line()}}, [t("Keystone does not answer: {exc}", exc=exc.one_line())],
                        ["POST /v3/auth/tokens"])
    except Exception as exc:
        err = _translate(exc, "Keystone token request")
        if "authentication failed (401)" in err.one_line():
            return Evidence("answers", {"keystone": {"error": ""}}, [err.one_line()], ["POST /v3/auth/tokens"])
        return Evidence("down", {"keystone": {"error": err.one_line()}}, [t("Keystone does not answer: {err}", err=err.one_line())],
                        ["POST /v3/auth/tokens"])
    return Evidence("answers", {"keystone": {"error": ""}}, [t("Keystone issued a token.")], ["POST /v3/auth/tokens"])


# -- MariaDB Galera ---------------------------------------------------------------------------------
def _healthcheck_cnf(ctx: Any, host: str) -> str:
    distro = _global(ctx, "kolla_base_distro", host, "rocky")
    return "/etc/mysql/healthcheck.cnf" if distro in ("debian", "ubuntu") else "/etc/healthcheck.cnf"


def read_node_galera(ctx: Any, node: Any, host: str) -> tuple[gx.NodeGalera, list[str], list[str]]:
    """One controller's Galera state: container, state files, log positions, wsrep status."""
    engine = _nodeio.container_engine(ctx, host)
    obs: list[str] = []
    sources: list[str] = []
    state = container_state(ctx, node, host, gx.CONTAINER)
    sources.append(f"{host}: {state['command']}")
    info = gx.NodeGalera(host, container=str(state.get("status") or "unknown"))
    if info.container != "missing":
        image = node.run([engine, "inspect", "--format", "{{.Config.Image}}", gx.CONTAINER], sudo=_sudo(node))
        info.image = image.stdout.strip() if image.rc == 0 else ""
    datadir = gx.volume_dir(engine)
    grastate_text = _nodeio.read_text(node, f"{datadir}/grastate.dat")
    sources.append(f"{host}: cat {datadir}/grastate.dat")
    if grastate_text is not None:
        info.grastate = gx.parse_grastate(grastate_text)
    gvw_text = _nodeio.read_text(node, f"{datadir}/gvwstate.dat")
    sources.append(f"{host}: cat {datadir}/gvwstate.dat")
    if gvw_text is not None:
        info.gvwstate = gx.parse_gvwstate(gvw_text)
    result = node.run(["grep", "-E", "-e", LOG_PATTERN, gx.LOG], sudo=_sudo(node))
    sources.append(f"{host}: grep -E '{LOG_PATTERN}' {gx.LOG}")
    if result.rc in (0, 1):
        info.recovered = gx.recovered_position(result.stdout.splitlines()[-5000:])
    if info.container == "running":
        argv = [engine, "exec", gx.CONTAINER, "mysql", f"--defaults-file={_healthcheck_cnf(ctx, host)}", "-N", "-B",
                "-e", "SHOW GLOBAL STATUS LIKE 'wsrep_%'"]
        out = node.run(argv, sudo=_sudo(node))
        sources.append(f"{host}: {' '.join(argv[:5])} -N -B -e \"SHOW GLOBAL STATUS LIKE 'wsrep_%'\"")
        if out.rc == 0:
            for line in out.stdout.splitlines():
                parts = line.split("\t")
                if len(parts) == 2:
                    info.wsrep[parts[0]] = parts[1]
    text = t("{host}: container {container} is {state}", host=host, container=gx.CONTAINER, state=info.container)
    if info.wsrep:
        text += (t("; wsrep {wsrep_local_state_comment}, cluster {wsrep_cluster_status} of "
                   "{wsrep_cluster_size}", wsrep_local_state_comment=info.wsrep.get('wsrep_local_state_comment', '?'), wsrep_cluster_status=info.wsrep.get('wsrep_cluster_status', '?'), wsrep_cluster_size=info.wsrep.get('wsrep_cluster_size', '?')))
    if info.grastate is not None:
        g = info.grastate
        text += t("; grastate.dat uuid {uuid} seqno {seqno} safe_to_bootstrap {safe_to_bootstrap}", uuid=g.uuid, seqno=g.seqno, safe_to_bootstrap=int(g.safe_to_bootstrap))
    else:
        text += t("; no readable grastate.dat")
    if info.gvwstate is not None:
        text += t("; gvwstate.dat lists {count} member(s) of the last primary view", count=len(info.gvwstate.members))
    if info.recovered is not None:
        text += (t("; log: Recovered position {uuid}:{seqno}", uuid=info.recovered.uuid, seqno=info.recovered.seqno)
                 + ("" if info.recovered.current else t(" (stale: the node ran in a primary component after it)")))
    obs.append(text + ".")
    return info, obs, sources


@probe("galera_cluster",
       outcomes=("healthy", "partial", "bootstrap-from-saved", "bootstrap-from-recovered", "position-unknown",
                 "diverged"),
       summary="On every mariadb host: container, grastate.dat, gvwstate.dat, recovered positions, wsrep status",
       requires="node")
def galera_cluster(ctx: ProbeContext, args: Any, emit) -> Evidence:
    hosts = _controllers(ctx, "mariadb")
    emit(t("reading Galera state on {hosts}", hosts=', '.join(hosts)))
    results = _nodeio.fan_out(ctx, hosts, lambda node: read_node_galera(ctx, node, node.name))
    nodes: list[gx.NodeGalera] = []
    obs: list[str] = []
    sources: list[str] = []
    for host in hosts:
        value = results.get(host)
        if isinstance(value, Exception):
            # A host we cannot read is a position we do not know: never decide around it.
            raise ProbeUnavailable(t("{host}: cannot read the Galera state: {error}", host=host, error=_nodeio.error_line(value)))
        info, o, s = value
        nodes.append(info)
        obs.extend(o)
        sources.extend(s)
    decision = gx.decide(nodes)
    obs.extend(decision.reasons)
    gvw = [n.host for n in nodes if n.gvwstate is not None]
    if decision.outcome == "position-unknown" and gvw:
        obs.append(t("gvwstate.dat is on {gvw}: they crashed inside a primary component; Galera's pc.recovery "
                     "may re-form it when all of them start together, but only a recovered position says who "
                     "has the last commit.", gvw=', '.join(gvw)))
    engine = _nodeio.container_engine(ctx, hosts[0])
    facts = {"galera": {
        "outcome": decision.outcome, "bootstrap_host": decision.host or "", "seqno": decision.seqno,
        "unknown": decision.unknown, "unknown_text": ", ".join(decision.unknown), "down": decision.down,
        "down_text": ", ".join(decision.down), "hosts": hosts,
        "positions": {h: p for h, p in decision.positions.items()},
        "positions_text": ", ".join(f"{h} {p if p is not None else 'unknown'}" for h, p in decision.positions.items()),
        "volume": gx.volume_dir(engine), "engine": engine, "images": {n.host: n.image for n in nodes},
        "others": ", ".join(h for h in hosts if h != decision.host)}}
    return Evidence(decision.outcome, facts, obs, sources, host=decision.host)


# -- RabbitMQ ---------------------------------------------------------------------------------------
@probe("rabbitmq_cluster", outcomes=("healthy", "partitioned", "nodes-down"),
       summary="rabbitmqctl cluster_status in each rabbitmq container: running nodes and partitions", requires="node")
def rabbitmq_cluster(ctx: ProbeContext, args: Any, emit) -> Evidence:
    hosts = _controllers(ctx, "rabbitmq")
    emit(t("reading RabbitMQ cluster status on {hosts}", hosts=', '.join(hosts)))

    def one(node: Any) -> tuple[str, rx.ClusterStatus | None, str]:
        engine = _nodeio.container_engine(ctx, node.name)
        argv = [engine, "exec", rx.CONTAINER, "rabbitmqctl", "cluster_status"]
        out = node.run(argv, sudo=_sudo(node), timeout=rx.CTL_TIMEOUT)
        if out.rc != 0:
            return " ".join(argv), None, (out.stderr or out.stdout).strip().splitlines()[-1:][0] if \
                (out.stderr or out.stdout).strip() else f"rc {out.rc}"
        return " ".join(argv), rx.parse_cluster_status(out.stdout), ""

    results = _nodeio.fan_out(ctx, hosts, one)
    obs: list[str] = []
    sources: list[str] = []
    down: list[str] = []
    partitions: dict[str, list[str]] = {}
    for host in hosts:
        value = results.get(host)
        if isinstance(value, Exception):
            raise ProbeUnavailable(t("{host}: cannot read RabbitMQ's state: {error}", host=host, error=_nodeio.error_line(value)))
        command, status, error = value
        sources.append(f"{host}: {command}")
        if status is None:
            if host not in down:
                down.append(host)
            obs.append(t("{host}: `{command}` failed: {error}", host=host, command=command, error=error[:200]))
            continue
        obs.append(t("{host}: {node}: running {running} of {nodes}", host=host, node=status.node,
                     running=', '.join(status.running) or t("none"), nodes=', '.join(status.disk_nodes) or t("none"))
                   + (t("; partitions: {partitions}", partitions=rx.partitions_text(status.partitions))
                      if status.partitions else "") + ".")
        for node_name, peers in status.partitions.items():
            partitions.setdefault(node_name, sorted(set(peers)))
        for member in status.disk_nodes:
            if member not in status.running and rx.host_of(member) in hosts and rx.host_of(member) not in down:
                down.append(rx.host_of(member))
    facts = {"rabbitmq": {"down": down, "down_text": ", ".join(down),
                          "partitions": partitions,
                          "partitions_text": rx.partitions_text(partitions),
                          "hosts": hosts}}
    if partitions:
        return Evidence("partitioned", facts, obs, sources)
    if down:
        return Evidence("nodes-down", facts, obs, sources, host=down[0])
    return Evidence("healthy", facts, obs, sources)


# -- VIP: keepalived and the internal VIP --------------------------------------------------------------
VRID_CLASH_RE = re.compile(r"ip address associated with VRID (\d+) not present in MASTER advert")
STATE_RE = re.compile(r"\((\S+)\) Entering (MASTER|BACKUP|FAULT) STATE")


@probe("vip_holder", outcomes=("held", "held-by-none", "vrid-clash", "held-by-several", "no-vip"),
       summary="Which loadbalancer holds kolla_internal_vip_address (ip addr) and what keepalived logs",
       requires="node")
def vip_holder(ctx: ProbeContext, args: Any, emit) -> Evidence:
    hosts = _controllers(ctx, "loadbalancer")
    enable = (_global(ctx, "enable_haproxy", hosts[0], "yes") or "yes").lower()
    vip = _global(ctx, "kolla_internal_vip_address", hosts[0])
    if enable in ("no", "false", "0") or not vip:
        return Evidence("no-vip", {"vip": {"address": vip or "", "holders": []}},
                        [t("enable_haproxy is off (or no kolla_internal_vip_address): no VIP to hold; the APIs answer "
                           "on the controller's own address.")], ["/etc/kolla/globals.yml"])
    vrid = _global(ctx, "keepalived_virtual_router_id", hosts[0], KEEPALIVED_DEFAULT_VRID) or KEEPALIVED_DEFAULT_VRID

    def one(node: Any) -> tuple[bool, list[str], str, list[str]]:
        engine = _nodeio.container_engine(ctx, node.name)
        out = node.run(["ip", "-o", "addr", "show"], sudo=False)
        if out.rc != 0:
            raise ProbeUnavailable(t("{name}: `ip -o addr show` failed: {stderr}", name=node.name, stderr=out.stderr.strip()[:200]))
        holds = any(re.search(rf"\binet {re.escape(vip)}/", line) for line in out.stdout.splitlines())
        logs = node.run([engine, "logs", "--tail", "200", "keepalived"], sudo=_sudo(node))
        lines = (logs.stdout + logs.stderr).splitlines() if logs.rc == 0 else []
        states = [m.group(2) for m in (STATE_RE.search(l) for l in lines) if m]
        clashes = [l.strip() for l in lines if VRID_CLASH_RE.search(l)]
        state = states[-1] if states else (t("no keepalived container") if logs.rc != 0 else t("no state logged"))
        return holds, clashes, state, [f"{node.name}: ip -o addr show", f"{node.name}: {engine} logs --tail 200 keepalived"]

    results = _nodeio.fan_out(ctx, hosts, one)
    obs: list[str] = []
    sources: list[str] = []
    holders: list[str] = []
    clash_lines: list[str] = []
    for host in hosts:
        value = results.get(host)
        if isinstance(value, Exception):
            raise ProbeUnavailable(f"{host}: {_nodeio.error_line(value)}")
        holds, clashes, state, src = value
        sources.extend(src)
        if holds:
            holders.append(host)
        clash_lines.extend(clashes[-1:])
        obs.append((t("{host}: holds {vip}; keepalived: {state}", host=host, vip=vip, state=state) if holds else
                    t("{host}: does not hold {vip}; keepalived: {state}", host=host, vip=vip, state=state))
                   + (f"; {clashes[-1]}" if clashes else "") + ".")
    facts = {"vip": {"address": vip, "vrid": vrid, "holders": holders, "holders_text": ", ".join(holders),
                     "hosts": hosts, "clash": clash_lines[0] if clash_lines else ""}}
    if clash_lines:
        return Evidence("vrid-clash", facts, obs, sources, host=hosts[0])
    if not holders:
        return Evidence("held-by-none", facts, obs, sources, host=hosts[0])
    if len(holders) > 1:
        return Evidence("held-by-several", facts, obs, sources, host=holders[0])
    return Evidence("held", facts, obs, sources, host=holders[0])


# -- HAProxy backends -----------------------------------------------------------------------------------
@probe("haproxy_backends", outcomes=("all-up", "backends-down", "explained"),
       summary="HAProxy's stats socket on the VIP holder: which backends are DOWN", requires="node")
def haproxy_backends(ctx: ProbeContext, args: Any, emit) -> Evidence:
    holders = (ctx.facts.get("vip") or {}).get("holders") or []
    hosts = holders or _controllers(ctx, "loadbalancer")
    host = hosts[0]
    node = _nodeio.transport(ctx, host)
    engine = _nodeio.container_engine(ctx, host)
    command = f'echo "show stat" | socat stdio unix-connect:{HAPROXY_SOCKET}'
    argv = [engine, "exec", "haproxy", "sh", "-c", command]
    out = node.run(argv, sudo=_sudo(node))
    source = f"{host}: {engine} exec haproxy sh -c '{command}'"
    if out.rc != 0:
        raise ProbeUnavailable(t("{host}: `{command}` failed (rc {rc}): {error}", host=host,
                                 command=source.split(': ', 1)[1], rc=out.rc,
                                 error=(out.stderr or out.stdout).strip()[:200]), sources=[source])
    down: list[str] = []
    for line in out.stdout.splitlines():
        if line.startswith("#") or "," not in line:
            continue
        cols = line.split(",")
        if len(cols) > 17 and cols[1] not in ("FRONTEND", "BACKEND") and cols[17].startswith("DOWN"):
            down.append(f"{cols[0]}/{cols[1]}")
    obs = [t("{host}: HAProxy reports {count} server(s) DOWN", host=host, count=len(down)) + (f": {', '.join(down)}" if down else "") + "."]
    facts = {"haproxy": {"down": down, "down_text": ", ".join(down), "host": host}}
    if not down:
        return Evidence("all-up", facts, obs, [source], host=host)
    galera = (ctx.facts.get("galera") or {}).get("outcome")
    rabbit = ctx.facts.get("rabbitmq") or {}
    if galera not in (None, "healthy") or rabbit.get("partitions") or rabbit.get("down"):
        obs.append(t("Every OpenStack API needs MariaDB and RabbitMQ: these backends fail their checks because "
                     "of the findings above, not on their own."))
        return Evidence("explained", facts, obs, [source], host=host)
    return Evidence("backends-down", facts, obs, [source], host=host)
