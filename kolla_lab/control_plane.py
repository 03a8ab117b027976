"""The lab's controllers after a reboot: MariaDB Galera, RabbitMQ, keepalived and HAProxy as the
cloud-down tree reads them (never imports wizard).

A node's scenario keys (docs/scenarios.md):
  galera:     {state: synced|stopped|crashed, seqno: N, safe_to_bootstrap: bool, recovered: N, uuid: U}
              stopped: a clean shutdown saved seqno N; crashed: seqno -1 stays in grastate.dat and
              gvwstate.dat remains; ``recovered`` adds the crash-looping restart's "Recovered position".
  rabbitmq:   {running: bool, cannot_reach: [hosts]}
  keepalived: {state: MASTER|BACKUP|down, clash_from: ADDRESS}
What the nodes answer follows the real tools: grastate.dat bytes from galera_model (compared with a
real Galera by tests/real/test_real_galera.py), ``rabbitmqctl cluster_status`` as RabbitMQ 4.1
prints it, keepalived's own log lines, HAProxy's ``show stat`` CSV."""
from __future__ import annotations

import hashlib

from .galera_model import GrastateFile, gvwstate_text
from .nodes import log_stamp

DEFAULT_UUID = "6f1f4a5e-2c1b-11ef-9a3c-5254000d1a01"
VOLUME = "/var/lib/docker/volumes/mariadb/_data"
LOG = "/var/log/kolla/mariadb/mariadb.log"
RMQ_VERSION = "RabbitMQ 4.1.8 on Erlang 27.3.4"


def _node_uuid(name: str) -> str:
    h = hashlib.sha1(name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-11ef-{h[12:16]}-{h[16:28]}"


def _stamp() -> str:
    return log_stamp().split(".")[0]


def build(state, node, spec: dict) -> None:
    """Apply a node's galera/rabbitmq/keepalived keys after its containers exist."""
    node.control = {}
    for key in ("galera", "rabbitmq", "keepalived"):
        if spec.get(key) is not None:
            node.control[key] = dict(spec[key])
    g = node.control.get("galera")
    if g is not None:
        _build_galera(state, node, g)
    r = node.control.get("rabbitmq")
    if r is not None and not r.get("running", True) and "rabbitmq" in node.containers:
        node.containers["rabbitmq"].status, node.containers["rabbitmq"].exit_code = "exited", 0
    k = node.control.get("keepalived")
    if k is not None:
        for cname in ("keepalived", "haproxy"):
            if cname not in node.containers:
                node.add_container(cname, state.release, "rocky")
        if k.get("state") == "down":
            node.containers["keepalived"].status, node.containers["keepalived"].exit_code = "exited", 1
        node.write("/var/lib/docker/volumes/kolla_logs/_data/keepalived/.placeholder", "")


def _galera_peers(state, node) -> list:
    return [n for n in state.nodes.values() if getattr(n, "control", {}).get("galera") is not None] or [node]


def _build_galera(state, node, g: dict) -> None:
    uuid = str(g.get("uuid") or DEFAULT_UUID)
    g["uuid"] = uuid
    kind = str(g.get("state", "synced"))
    seqno = int(g.get("seqno", 1000))
    f = GrastateFile()
    f.open()
    f.write(uuid, seqno - 40, False)          # the clean shutdown before the last start
    f.open()                                  # the last start: a running node writes seqno -1
    f.write(uuid, -1, False)
    log = [f"{_stamp()} 0 [Note] WSREP: Recovered position: {uuid}:{seqno - 40}",
           f"{_stamp()} 0 [Note] WSREP: Shifting JOINED -> SYNCED (TO: {seqno - 39})",
           f"{_stamp()} 2 [Note] WSREP: Synchronized with group, ready for connections"]
    container = node.containers.get("mariadb")
    if kind == "stopped":
        f.write(uuid, seqno, bool(g.get("safe_to_bootstrap", False)))
        log.append(f"{_stamp()} 0 [Note] /usr/sbin/mariadbd: Shutdown complete")
        if container:
            container.status, container.exit_code = "exited", 0
    elif kind == "crashed":
        if g.get("safe_to_bootstrap"):
            f.write(uuid, -1, True)
        members = [_node_uuid(n.name) for n in state.nodes.values()
                   if (getattr(n, "control", {}) or {}).get("galera") is not None or n is node]
        node.write(f"{VOLUME}/gvwstate.dat", gvwstate_text(_node_uuid(node.name), _node_uuid(node.name), 5, members))
        if g.get("recovered") is not None:
            log.append(f"{_stamp()} 0 [Note] WSREP: Recovered position: {uuid}:{int(g['recovered'])}")
            log.append(f"{_stamp()} 0 [ERROR] WSREP: failed to open gcomm backend connection: 110: failed to "
                       "reach primary view (pc.wait_prim_timeout): 110 (Connection timed out)")
        if container:
            container.status, container.exit_code = "restarting", 1
    node.write(f"{VOLUME}/grastate.dat", f.content)
    node.galera_file = f
    node.write(LOG, "\n".join(log) + "\n")


def galera_synced(node) -> bool:
    g = getattr(node, "control", {}).get("galera")
    c = node.containers.get("mariadb")
    return bool(g and g.get("state") == "synced" and c and c.status == "running")


# -- what the nodes answer ------------------------------------------------------------------------
def exec_in(state, node, cname: str, argv: list[str]):
    """(out, err, rc) for ``docker exec <cname> argv`` this module models, else None."""
    if cname == "mariadb" and argv and argv[0] in ("mysql", "mariadb"):
        text = " ".join(argv)
        if "--defaults-file=" not in text:
            return "", "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: NO)\n", 1
        if "wsrep" not in text:
            return "", "", 0
        if not galera_synced(node):
            return "", "ERROR 2002 (HY000): Can't connect to local server through socket '/var/lib/mysql/mysql.sock' (111)\n", 1
        peers = [n for n in _galera_peers(state, node) if galera_synced(n)]
        g = node.control["galera"]
        rows = [("wsrep_cluster_size", str(len(peers))), ("wsrep_cluster_state_uuid", g["uuid"]),
                ("wsrep_cluster_status", "Primary"), ("wsrep_connected", "ON"),
                ("wsrep_last_committed", str(g.get("seqno", 1000))), ("wsrep_local_state", "4"),
                ("wsrep_local_state_comment", "Synced"), ("wsrep_local_state_uuid", g["uuid"]), ("wsrep_ready", "ON")]
        return "".join(f"{k}\t{v}\n" for k, v in rows), "", 0
    if cname == "rabbitmq" and argv[:2] == ["rabbitmqctl", "cluster_status"]:
        return rabbitmq_cluster_status(state, node), "", 0
    if cname == "rabbitmq" and argv[:2] == ["rabbitmqctl", "list_queues"] and argv[2:] == ["name", "messages", "consumers"]:
        return rabbitmq_list_queues(state), "", 0
    if cname == "haproxy" and argv[:2] == ["sh", "-c"] and "show stat" in argv[2] and "socat" in argv[2]:
        return haproxy_stat(state, node), "", 0
    return None


NOVA_RPC_TOPICS = (("nova_conductor", "conductor"), ("nova_scheduler", "scheduler"), ("nova_compute", "compute"))


def rabbitmq_list_queues(state) -> str:
    """``rabbitmqctl list_queues name messages consumers`` (deps/rabbitmq_cli list_queues_command.ex:
    the timeout and "Listing queues for vhost / ..." banner, then a tab-separated table) for Nova's
    RPC queues: each service's topic queue and its ``topic.<host>`` queue (oslo.messaging
    rabbit driver: Target(topic, server=host)), one consumer per running service. A call sent
    while no nova-scheduler consumed stays in ``scheduler``."""
    rows: dict[str, list[int]] = {}
    for node in state.nodes.values():
        for cname, topic in NOVA_RPC_TOPICS:
            c = node.containers.get(cname)
            if c is None:
                continue
            host = state.cloud.service_overrides.get(node.name, {}).get("host", node.hostname) \
                if cname == "nova_compute" else node.hostname
            running = int(c.status == "running")
            rows.setdefault(topic, [0, 0])[1] += running
            rows.setdefault(f"{topic}.{host}", [0, 0])[1] += running
    if "scheduler" in rows and rows["scheduler"][1] == 0:
        rows["scheduler"][0] = state.cloud.scheduler_backlog
    for node in state.nodes.values():
        over = state.cloud.service_overrides.get(node.name, {})
        host = over.get("host", node.hostname)
        if over.get("not_consuming") and f"compute.{host}" in rows:
            rows[f"compute.{host}"] = [len(state.cloud.compute_backlog.get(host, [])), 0]
            rows["compute"][1] -= 1
    lines = ["Timeout: 60.0 seconds ...", "Listing queues for vhost / ...", "name\tmessages\tconsumers"]
    lines += [f"{name}\t{m}\t{c}" for name, (m, c) in sorted(rows.items())]
    return "\n".join(lines) + "\n"


def _rabbit_nodes(state) -> list:
    return [n for n in state.nodes.values() if "rabbitmq" in n.containers]


def rabbitmq_cluster_status(state, node) -> str:
    members = _rabbit_nodes(state)
    me = f"rabbit@{node.hostname}"
    unreachable = set((node.control.get("rabbitmq") or {}).get("cannot_reach") or [])
    running = [f"rabbit@{n.hostname}" for n in members if n.containers["rabbitmq"].status == "running"
               and n.name not in unreachable]
    partitions: dict[str, list[str]] = {}
    for n in members:
        cut = (getattr(n, "control", {}).get("rabbitmq") or {}).get("cannot_reach") or []
        if cut and n.containers["rabbitmq"].status == "running":
            partitions[f"rabbit@{n.hostname}"] = [f"rabbit@{state.nodes[c].hostname}" for c in cut if c in state.nodes]
    disk = sorted(f"rabbit@{n.hostname}" for n in members)
    lines = [f"Cluster status of node {me} ...", "Basics", "", f"Cluster name: rabbit@{members[0].hostname}",
             f"Total CPU cores available cluster-wide: {4 * len(running)}", "", "Cluster Tags", "", "(none)", "",
             "Disk Nodes", "", *disk, "", "Running Nodes", "", *sorted(running), "", "Versions", "",
             *(f"{r}: {RMQ_VERSION}" for r in sorted(running)), "", "CPU Cores", "",
             *(f"Node: {r}, available CPU cores: 4" for r in sorted(running)), "", "Maintenance status", "",
             *(f"Node: {r}, status: not under maintenance" for r in sorted(running)), "", "Alarms", "", "(none)", "",
             "Network Partitions", "",
             *([f"Node {k} cannot communicate with {', '.join(v)}" for k, v in sorted(partitions.items())]
               or ["(none)"]), "",
             "Listeners", "",
             *(f"Node: {r}, interface: {state.nodes[r.split('@')[1]].address if r.split('@')[1] in state.nodes else '[::]'}, "
               f"port: 5672, protocol: amqp, purpose: AMQP 0-9-1 and AMQP 1.0" for r in sorted(running)), "",
             "Feature flags", "", "Flag: khepri_db, state: disabled", "Flag: quorum_queue, state: enabled"]
    return "\n".join(lines) + "\n"


def vip_address(state) -> str | None:
    try:
        return str(state.kolla().global_value("kolla_internal_vip_address", "") or "") or None
    except FileNotFoundError:
        return None


def holds_vip(node) -> bool:
    k = getattr(node, "control", {}).get("keepalived")
    c = node.containers.get("keepalived")
    return bool(k and k.get("state") == "MASTER" and c and c.status == "running")


def ip_addr_lines(state, node) -> str:
    vip = vip_address(state)
    if not vip or not holds_vip(node):
        return ""
    dev = node.interfaces[0] if node.interfaces else "eth0"
    return f"2: {dev}    inet {vip}/32 scope global {dev}\\       valid_lft forever preferred_lft forever\n"


def keepalived_log(state, node) -> str:
    k = getattr(node, "control", {}).get("keepalived") or {}
    try:
        vrid = str(state.kolla().global_value("keepalived_virtual_router_id", "51") or "51")
    except FileNotFoundError:
        vrid = "51"
    inst = f"kolla_internal_vip_{vrid}"
    stamp = "Sun Nov 29 06:02:11 2026"
    lines = [f"{stamp}: Starting Keepalived v2.2.8 (04/04,2023), git commit v2.2.7-154-g292b299e+",
             f"{stamp}: Starting VRRP child process, pid=9",
             f"{stamp}: ({inst}) Entering BACKUP STATE (init)"]
    if k.get("clash_from"):
        lines.append(f"{stamp}: ({inst}) ip address associated with VRID {vrid} not present in MASTER advert : "
                     f"{vip_address(state)}")
    if k.get("state") == "MASTER":
        lines.append(f"{stamp}: ({inst}) Entering MASTER STATE")
    return "\n".join(lines) + "\n"


def haproxy_stat(state, node) -> str:
    head = ("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,"
            "status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,")
    rows = [head]
    controllers = [n for n in state.nodes.values() if "mariadb" in n.containers]
    db_up = any(galera_synced(n) for n in controllers)
    containers = {"keystone_internal": "keystone", "nova_api": "nova_api", "neutron_server": "neutron_server"}
    for service in ("mariadb", "keystone_internal", "nova_api", "neutron_server"):
        rows.append(f"{service},FRONTEND,,,0,0,4000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,")
        for n in controllers:
            c = n.containers.get(containers.get(service, ""))
            up = galera_synced(n) if service == "mariadb" else (db_up and c is not None and c.status == "running")
            rows.append(f"{service},{n.name},0,0,0,0,,0,0,0,,0,,0,0,0,0,{'UP' if up else 'DOWN'},1,1,0,0,0,10,0,,1,2,1,,0,,2,")
        rows.append(f"{service},BACKEND,0,0,0,0,400,0,0,0,0,0,,0,0,0,0,{'UP' if db_up else 'DOWN'},1,1,0,,0,10,0,,1,2,0,,0,,1,")
    return "\n".join(rows) + "\n\n"


# -- kolla-ansible mariadb-recovery / rabbitmq-reset-state on the deploy node ----------------------
def kolla_ansible_action(state, kc, action: str, extra: dict):
    if action in ("mariadb-recovery", "mariadb_recovery"):
        return _mariadb_recovery(state, kc, extra)
    return _rabbitmq_reset_state(state)


def _mariadb_recovery(state, kc, extra: dict):
    hosts = [h for h in sorted(kc.inventory.members("mariadb") or kc.inventory.members("control")) if h in state.nodes]
    bootstrap = extra.get("mariadb_recover_inventory_name")
    out = ["Kolla Ansible playbook: mariadb-recovery", ""]
    if not bootstrap:
        return "", "fatal: the lab's mariadb-recovery needs -e mariadb_recover_inventory_name=<host>\n", 2
    if bootstrap not in hosts:
        return "", (f"fatal: [{hosts[0] if hosts else 'localhost'}]: FAILED! => {{\"msg\": \"The task includes an "
                    f"option with an undefined variable\"}}\n"), 2
    chosen = state.nodes[bootstrap].control.get("galera") or {}
    # The bootstrap node's data becomes the cluster's; every node ends Synced at its position.
    seqno = _position(chosen)
    for h in hosts:
        n = state.nodes[h]
        g = n.control.setdefault("galera", {})
        g.update(state="synced", seqno=seqno, uuid=chosen.get("uuid", DEFAULT_UUID))
        g.pop("recovered", None)
        f = getattr(n, "galera_file", None) or GrastateFile()
        f.open()
        f.write(g["uuid"], -1, False)
        n.write(f"{VOLUME}/grastate.dat", f.content)
        n.append_log(LOG, f"{_stamp()} 2 [Note] WSREP: Synchronized with group, ready for connections")
        n.containers["mariadb"].status, n.containers["mariadb"].exit_code = "running", 0
    recap = [f"{h:<26}: ok=12   changed=4    unreachable=0    failed=0    skipped=6    rescued=0    ignored=0"
             for h in hosts]
    return "\n".join(out + ["PLAY RECAP *********************************************************************", *recap]) + "\n", "", 0


def _position(g: dict) -> int:
    if g.get("state") == "crashed" and g.get("recovered") is not None:
        return int(g["recovered"])
    return int(g.get("seqno", 0))


def _rabbitmq_reset_state(state):
    for n in _rabbit_nodes(state):
        r = n.control.setdefault("rabbitmq", {})
        r["cannot_reach"] = []
        n.containers["rabbitmq"].status = "running"
    return "Kolla Ansible playbook: rabbitmq-reset-state\n", "", 0


def copy_tree(node, src: str, dst: str) -> bool:
    """``cp -a SRC DST`` of a directory in the node's file tree."""
    src = src.rstrip("/")
    if not node.is_dir(src):
        return False
    node.mkdir(dst)
    for path, text in list(node.files.items()):
        if path.startswith(src + "/"):
            node.write(dst + path[len(src):], text)
    return True
