"""Remedies of the cloud-down tree: Kolla's own recovery commands in the release's CLI form
(kolla-ansible mariadb-recovery / rabbitmq-reset-state; ``kolla-ansible -i INV mariadb_recovery``
up to 2024.1), container starts, and advice where only the operator can decide.

The Galera bootstrap is applied only when the operator types the host it bootstraps from
(``Remedy.confirm``): kolla-ansible's recover_cluster.yml with mariadb_recover_inventory_name set
skips its own seqno comparison and forces safe_to_bootstrap: 1 on that host, so a wrong name
silently discards the commits only the other nodes had."""
from __future__ import annotations

import posixpath
from datetime import datetime, timezone
from typing import Any

from ..probe_context import ProbeContext
from ..findings import Finding, Remedy
from ..kolla.release import LATEST_KNOWN, Release
from ..readings import galera as gx
from .actions import NodeCommand
from .provider_networks import become_for, engine_for, model_or_none
from .quoting import join
from .registry import remedy
from ..i18n import t


def _inventory(ctx: Any) -> str:
    model = model_or_none(ctx)
    return (getattr(model, "inventory_path", None) or ctx.settings.inventory
            or posixpath.join(ctx.settings.kolla_config_dir, "multinode"))


def _release(ctx: Any) -> Release:
    from ..kolla.cli_syntax import detect_release
    model = model_or_none(ctx)
    release = getattr(model, "release", None)
    if isinstance(release, Release):
        return release
    return (Release.parse(str(release)) if release else None) or detect_release() or LATEST_KNOWN


def kolla_ansible_argv(action: str, inventory: str, release: Release, *extra: str) -> list[str]:
    """``kolla-ansible mariadb-recovery -i INV ...`` (2024.2+: action first, dashed names) or
    ``kolla-ansible -i INV mariadb_recovery ...`` (<= 2024.1 bash CLI: underscored names)."""
    if release.has_python_cli:
        return ["kolla-ansible", action, "-i", inventory, *extra]
    old = {"mariadb-recovery": "mariadb_recovery"}.get(action, action)
    return ["kolla-ansible", "-i", inventory, old, *extra]


@remedy("mariadb-recovery", summary="kolla-ansible mariadb-recovery from the host with the last commit")
def mariadb_recovery(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    galera = finding.facts.get("galera") or {}
    host = galera.get("bootstrap_host")
    hosts = list(galera.get("hosts") or [])
    if not host or host not in hosts:
        return []
    volume = galera.get("volume") or gx.VOLUME_DIR
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    # Stopped first (a crash-looping container would write while it is copied), then copied beside itself.
    backups = [NodeCommand(h, argv, sudo=True, timeout=1800.0) for h in hosts
               for argv in ([engine_for(ctx, h), "stop", gx.CONTAINER], ["cp", "-a", volume, f"{volume}.kolla-wizard-{stamp}"])]
    argv = kolla_ansible_argv("mariadb-recovery", _inventory(ctx), _release(ctx),
                              "-e", f"mariadb_recover_inventory_name={host}")
    others = [h for h in hosts if h != host]
    lost = (t("If the choice were wrong, the commits only {others} had would be lost: they rejoin "
              "{host}'s history and take a full copy (SST) of it, overwriting their own data.", others=', '.join(others), host=host))
    return [Remedy(
        id="mariadb-recovery", kind="command", durable=True,
        title=t("Back up every node's data, then bootstrap Galera from {host}", host=host),
        explain=(t("First mariadb is stopped on {hosts} and its volume ({volume}) copied beside it. Then "
                   "kolla-ansible sets safe_to_bootstrap: 1 in {host}'s grastate.dat, starts it with "
                   "--wsrep-new-cluster and restarts {others} one by one; they fetch what they miss from "
                   "{host}. {host} has seqno {seqno} (all: {positions_text}). {lost}", hosts=', '.join(hosts), volume=volume, host=host, others=', '.join(others) or t("the others"), seqno=galera.get('seqno'), positions_text=galera.get('positions_text'), lost=lost)),
        command="\n".join([*(f"ssh {b.host} sudo {join(b.argv)}" for b in backups), join(argv)]), host=None,
        warning=(t("kolla-ansible does not compare seqnos when mariadb_recover_inventory_name is given: it "
                   "trusts the name. Type {host} to apply.", host=host)),
        actions=[*backups, NodeCommand(None, argv, timeout=3600.0)], verify="galera", confirm=host)]


@remedy("mariadb-wsrep-recover", summary="Recover the committed position of crashed Galera nodes")
def mariadb_wsrep_recover(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    galera = finding.facts.get("galera") or {}
    unknown = list(galera.get("unknown") or [])
    if not unknown:
        return []
    images = galera.get("images") or {}
    lines = []
    for host in unknown:
        engine = engine_for(ctx, host)
        image = images.get(host) or "<the image of the mariadb container: docker inspect mariadb>"
        lines.append(f"ssh {host} sudo {join([engine, 'stop', 'mariadb'])}")
        lines.append(f"ssh {host} sudo " + join([
            engine, "run", "--rm", "--name", "mariadb_wsrep_recovery", "-v", "mariadb:/var/lib/mysql",
            "-v", "kolla_logs:/var/log/kolla/", "-v", "/etc/kolla/mariadb/:/var/lib/kolla/config_files/:ro",
            "-e", "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS", "-e", "BOOTSTRAP_ARGS=--wsrep-recover", image]))
    return [Remedy(
        id="mariadb-wsrep-recover", kind="command", durable=True,
        title=t("Recover the committed position on {unknown}, then walk the tree again", unknown=', '.join(unknown)),
        explain=(t("This is kolla-ansible's own wsrep recovery step (recover_cluster.yml): mariadbd "
                   "--wsrep-recover reads the last committed transaction from InnoDB and logs \"WSREP: "
                   "Recovered position: <uuid>:<seqno>\" to {LOG}. It does not join any cluster. Run the walk "
                   "again afterwards: the wizard then names the node with the highest position.", LOG=gx.LOG)),
        command="\n".join(lines), host=None, actions=[])]


@remedy("mariadb-start-node", summary="Start the mariadb container on the nodes that are down")
def mariadb_start_node(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    galera = finding.facts.get("galera") or {}
    down = list(galera.get("down") or [])
    if not down:
        return []
    actions = [NodeCommand(h, [engine_for(ctx, h), "start", gx.CONTAINER], sudo=become_for(ctx, h), timeout=300.0)
               for h in down]
    return [Remedy(
        id="mariadb-start-node", kind="command", durable=True,
        title=t("Start mariadb on {down}", down=', '.join(down)),
        explain=t("A primary component runs; a started node rejoins it and fetches what it missed (IST or "
                  "SST)."),
        command="\n".join(f"ssh {a.host} {join(a.argv)}" for a in actions), host=None,
        actions=actions, verify="galera")]


@remedy("rabbitmq-reset-state", summary="kolla-ansible rabbitmq-reset-state (drops queues and messages)")
def rabbitmq_reset_state(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    argv = kolla_ansible_argv("rabbitmq-reset-state", _inventory(ctx), _release(ctx))
    return [Remedy(
        id="rabbitmq-reset-state", kind="command", durable=True,
        title=t("Reset RabbitMQ's state on every rabbitmq host and let the nodes re-form one cluster"),
        explain=(t("kolla-ansible's rabbitmq-reset-state runs rabbitmqctl stop_app, force_reset (reset with "
                   "Khepri), start_app and await_online_nodes on each rabbitmq host. Its cost: every queue "
                   "and message is gone, in-flight RPC calls fail and the services reconnect and redeclare "
                   "their queues; users and vhosts come back from Kolla's definitions.")),
        command=join(argv), host=None, actions=[NodeCommand(None, argv, timeout=1800.0)], verify="rabbitmq")]


@remedy("rabbitmq-start-node", summary="Start the rabbitmq container where it is down")
def rabbitmq_start_node(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    down = list((finding.facts.get("rabbitmq") or {}).get("down") or [])
    if not down:
        return []
    actions = [NodeCommand(h, [engine_for(ctx, h), "start", "rabbitmq"], sudo=become_for(ctx, h), timeout=300.0)
               for h in down]
    return [Remedy(
        id="rabbitmq-start-node", kind="command", durable=True, title=t("Start rabbitmq on {down}", down=', '.join(down)),
        explain=t("The node rejoins its cluster at start (its Mnesia/Khepri data names the peers)."),
        command="\n".join(f"ssh {a.host} {join(a.argv)}" for a in actions), host=None,
        actions=actions, verify="rabbitmq")]


@remedy("keepalived-restart", summary="Restart keepalived on the loadbalancer hosts")
def keepalived_restart(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    hosts = list((finding.facts.get("vip") or {}).get("hosts") or [])
    if not hosts:
        return []
    actions = [NodeCommand(h, [engine_for(ctx, h), "restart", "keepalived"], sudo=become_for(ctx, h), timeout=120.0)
               for h in hosts]
    return [Remedy(
        id="keepalived-restart", kind="command", durable=True,
        title=t("Restart keepalived on {hosts}", hosts=', '.join(hosts)),
        explain=(t("keepalived elects a MASTER among the loadbalancers and that one adds the VIP. If it still "
                   "holds nowhere, read `docker logs keepalived` for the reason (check_alive failing: HAProxy "
                   "down).")),
        command="\n".join(f"ssh {a.host} {join(a.argv)}" for a in actions), host=None,
        actions=actions, verify="vip")]


@remedy("vrid-change", summary="Give this cloud's keepalived a virtual router id nobody else uses")
def vrid_change(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    vip = finding.facts.get("vip") or {}
    try:
        new = (int(vip.get("vrid") or 51) % 255) + 1
    except ValueError:
        new = 52
    from ..kolla.cli_syntax import reconfigure_argv
    argv = reconfigure_argv(_inventory(ctx), tags="loadbalancer", release=_release(ctx))
    return [Remedy(
        id="vrid-change", kind="command", durable=True,
        title=t("Set keepalived_virtual_router_id to a free id (e.g. {new}) and reconfigure the "
                "loadbalancers", new=new),
        explain=(t("Add keepalived_virtual_router_id: \"{new}\" to /etc/kolla/globals.yml (any 1-255 no other "
                   "VRRP speaker on the LAN uses; `tcpdump -i <api_interface> vrrp` lists them), then run the "
                   "command. Both keepalived instances must change together.", new=new)),
        command=join(argv), host=None, actions=[])]


@remedy("vip-split-brain", summary="Let the keepalived instances hear each other")
def vip_split_brain(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return [Remedy(
        id="vip-split-brain", kind="command", durable=True,
        title=t("Let VRRP adverts through between the controllers, or switch keepalived to unicast"),
        explain=(t("VRRP is IP protocol 112 to 224.0.0.18: a firewall or a switch dropping it makes every "
                   "node MASTER. Allow it, or set keepalived_traffic_mode: \"unicast\" in globals.yml and "
                   "reconfigure -t loadbalancer.")),
        command="sudo tcpdump -ni any vrrp", host=None, actions=[])]


@remedy("haproxy-backends", summary="Read why HAProxy's backends fail their checks")
def haproxy_backends(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    down = list((finding.facts.get("haproxy") or {}).get("down") or [])
    services = sorted({d.split("/", 1)[0] for d in down})
    return [Remedy(
        id="haproxy-backends", kind="command", durable=True,
        title=t("Read the logs of {services}", services=', '.join(services) or t("the failing services")),
        explain=t("A backend is DOWN when its container does not answer HAProxy's check: start it, or read "
                  "its log."),
        command="\n".join(f"docker ps -a --filter name={s}" for s in services) or "docker ps -a", host=None,
        actions=[])]
