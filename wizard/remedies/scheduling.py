"""Remedies of the no-valid-host tree: bring a down nova-compute back (its Kolla systemd unit),
unset forced-down, enable a disabled service. The `openstack compute service set` forms are
python-openstackclient's (``--enable``, ``--up``: microversions 2.53 / 2.11, chosen by osc)."""
from __future__ import annotations

import math
import posixpath

from ..errors import WizardError
from ..findings import Finding, Remedy
from ..probe_context import ProbeContext
from ..readings import nodes as _nodeio
from . import _edits
from .actions import NodeCommand
from .ovs_agent import kolla_unit
from .provider_networks import become_for, engine_for, reconfigure_command
from .quoting import as_root, join
from .registry import remedy
from ..i18n import t

NOVA_COMPUTE_CONTAINER = "nova_compute"


def _host(finding: Finding) -> str | None:
    return (finding.facts.get("compute") or {}).get("host") or finding.host


@remedy("start-nova-compute", summary="Start the stopped nova_compute container through its systemd unit")
def start_nova_compute(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    if not host:
        return []
    node = _nodeio.inventory_name(ctx, host)
    unit = kolla_unit(NOVA_COMPUTE_CONTAINER)
    reset, start = ["systemctl", "reset-failed", unit], ["systemctl", "restart", unit]
    logs = ["tail", "-n", "50", _nodeio.NOVA_COMPUTE_LOG]
    sudo = become_for(ctx, node)
    engine = engine_for(ctx, node)
    return [Remedy(
        id="start-nova-compute", kind="command", durable=True,
        title=t("Start {NOVA_COMPUTE_CONTAINER} on {node} and read why it stopped", NOVA_COMPUTE_CONTAINER=NOVA_COMPUTE_CONTAINER, node=node),
        explain=(t("Kolla runs nova-compute under the systemd unit {unit}; `systemctl reset-failed` clears a "
                   "unit that gave up after a crash loop, `systemctl restart` starts the container. The "
                   "service reports up within a minute (`openstack compute service list --service "
                   "nova-compute`). Then read {NOVA_COMPUTE_LOG} (or `{engine} logs "
                   "{NOVA_COMPUTE_CONTAINER}`) for why it stopped: RabbitMQ unreachable, libvirt not running, "
                   "a bad nova.conf line.", unit=unit, NOVA_COMPUTE_LOG=_nodeio.NOVA_COMPUTE_LOG, engine=engine, NOVA_COMPUTE_CONTAINER=NOVA_COMPUTE_CONTAINER)),
        command="\n".join(as_root(c) for c in (reset, start, logs)), host=node,
        actions=[NodeCommand(node, reset, sudo=sudo, timeout=60.0), NodeCommand(node, start, sudo=sudo, timeout=120.0)],
        verify="compute-services")]


@remedy("compute-service-enable", summary="Enable the disabled nova-compute service")
def compute_service_enable(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    if not host:
        return []
    argv = ["openstack", "compute", "service", "set", "--enable", host, "nova-compute"]
    reason = (finding.facts.get("compute") or {}).get("disabled_reason") or t("no reason given")
    return [Remedy(
        id="compute-service-enable", kind="command", durable=True,
        title=t("Enable nova-compute on {host}", host=host),
        explain=(t("It was disabled with the reason \"{reason}\": make sure that work is over, then enable it. "
                   "Nova removes COMPUTE_STATUS_DISABLED from the host's resource provider and Placement "
                   "offers it again. The server already in ERROR stays there: delete it and create it again.", reason=reason)),
        command=join(argv), actions=[], verify=None)]


@remedy("compute-service-up", summary="Unset forced-down on the nova-compute service")
def compute_service_up(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    if not host:
        return []
    argv = ["openstack", "compute", "service", "set", "--up", host, "nova-compute"]
    return [Remedy(
        id="compute-service-up", kind="command", durable=True,
        title=t("Unset forced-down on nova-compute on {host}", host=host),
        explain=(t("Forced down is for a host that is really dead (it lets evacuate start at once). If {host} "
                   "is back and nova-compute runs there, unset it; Nova then trusts its heartbeat again.", host=host)),
        command=join(argv), actions=[], verify=None)]


@remedy("discover-hosts", summary="Map new computes to their cell (nova-manage cell_v2 discover_hosts)")
def discover_hosts(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    controllers = _nodeio.hosts_in_group(ctx, "nova-conductor") or _nodeio.hosts_in_group(ctx, "control")
    where = controllers[0] if controllers else None
    engine = engine_for(ctx, where) if where else "docker"
    # What Kolla's nova-cell role runs itself (ansible/roles/nova-cell/tasks/discover_computes.yml).
    argv = [engine, "exec", "nova_conductor", "nova-manage", "cell_v2", "discover_hosts", "--by-service"]
    check = [engine, "exec", "nova_conductor", "nova-manage", "cell_v2", "list_hosts"]
    return [Remedy(
        id="discover-hosts", kind="command", durable=True,
        title=t("Map {host} to its cell with nova-manage cell_v2 discover_hosts", host=host),
        explain=(t("Run on {where}: discover_hosts maps every registered nova-compute that has no host "
                   "mapping yet (--by-service, as Kolla's nova-cell role runs it); `list_hosts` then shows "
                   "{host} with its cell. A later `kolla-ansible deploy -t nova` would do the same. The "
                   "server already in ERROR stays there: delete it and create it again.", where=where or t("a controller"), host=host)),
        command="\n".join(join(c) for c in (argv, check)), host=where, actions=[], verify=None)]


# nova/conf/compute.py: the options nova-compute reports into its provider's inventory.
RATIO_OPTION = {"VCPU": "cpu_allocation_ratio", "MEMORY_MB": "ram_allocation_ratio", "DISK_GB": "disk_allocation_ratio"}
RESERVED_OPTION = {"VCPU": ("reserved_host_cpus", 0), "MEMORY_MB": ("reserved_host_memory_mb", 512),
                   "DISK_GB": ("reserved_host_disk_mb", 0)}


def _override_target(ctx: ProbeContext, host: str) -> tuple[str, str | None]:
    """Kolla's nova.conf override to edit (roles/nova-cell/tasks/config.yml merges
    node_custom_config nova.conf, then nova/<inventory_hostname>/nova.conf): the per-host file
    when it exists, else the global one when it exists, else the per-host file to create."""
    from .provider_networks import model_or_none, read_deploy_file
    model = model_or_none(ctx)
    config_dir = getattr(model, "config_dir", None) or "/etc/kolla"
    per_host = posixpath.join(config_dir, "config", "nova", _nodeio.inventory_name(ctx, host), "nova.conf")
    for path in (per_host, posixpath.join(config_dir, "config", "nova.conf")):
        try:
            text = read_deploy_file(ctx, path)
        except WizardError:
            text = None
        if text is not None:
            return path, text
    return per_host, None


@remedy("nova-placement-override", summary="Raise the allocation ratio (or lower the reserve) nova-compute reports to Placement, in Kolla's nova.conf override")
def nova_placement_override(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    p = finding.facts.get("placement") or {}
    rc, host = p.get("resource_class"), p.get("host") or finding.host
    if rc not in RATIO_OPTION or not host or p.get("cause") == "max-unit":
        return []       # a flavor bigger than the whole host: no setting makes it fit
    total, reserved, used, need = (int(p.get(k) or 0) for k in ("total", "reserved", "used", "needed"))
    if p.get("cause") == "reserved":
        option, value = RESERVED_OPTION[rc]
        value_text = str(value)
        what = (t("{option} = {value_text} (Nova's default): the {reserved} {rc} reserved now leave too "
                  "little; Placement then counts ({total} - {value}) x {allocation_ratio}", option=option, value_text=value_text, reserved=reserved, rc=rc, total=total, value=value, allocation_ratio=p.get('allocation_ratio')))
    else:
        option = RATIO_OPTION[rc]
        ratio = max(math.ceil((used + need) / max(total - reserved, 1) * 10) / 10,
                    float(p.get("allocation_ratio") or 1.0) + 0.1)
        value_text = f"{ratio:g}"
        what = (t("{option} = {value_text}: Placement then counts ({total} - {reserved}) x {value_text} = "
                  "{value} {rc}, room for {need} more beside the {used} allocated", option=option, value_text=value_text, total=total, reserved=reserved, value=int((total - reserved) * ratio), rc=rc, need=need, used=used))
        if rc == "MEMORY_MB":
            what += (t(". Overcommitting memory lets guests together ask for more RAM than the host has: under "
                       "pressure the kernel's OOM killer ends one; adding RAM or a compute is the safer fix"))
        elif rc == "DISK_GB":
            what += (t(". Guests' qcow2 disks are thin, so they rarely fill what they were given, but if they do "
                       "the host's disk fills; watch `df -h /var/lib/docker/volumes/nova_compute` on the host"))
    path, old = _override_target(ctx, host)
    new = _edits.set_ini_option(old or "", "DEFAULT", option, value_text)
    argv = reconfigure_command(ctx, None, "nova")
    actions: list = []
    if old is not None:
        actions = [_edits.file_edit(None, path, old, new, "ini"), NodeCommand(None, argv, timeout=3600.0)]
    return [Remedy(
        id="nova-placement-override", kind="file_edit", durable=True,
        title=t("Set {option} = {value_text} for nova-compute on {host} and reconfigure nova", option=option, value_text=value_text, host=host),
        explain=(t("Set [DEFAULT] {what}. Kolla merges {path} into nova-compute's nova.conf ({value}), then "
                   "`{argv}` renders it and restarts nova_compute, which reports the new inventory to "
                   "Placement within a minute. A value set in nova.conf wins over one set through the "
                   "Placement API (nova/virt/driver.py _get_allocation_ratios). The server already in ERROR "
                   "stays there: delete it and create it again.", what=what, path=path, value=t("edit it") if old is not None else t("create it: the wizard only edits files that exist, so this one is print-only"), argv=join(argv))),
        path=path, host=None, diff=_edits.unified_diff(path, old or "", new), command=join(argv),
        actions=actions, verify=finding.step)]


@remedy("placement-flavor-that-fits", summary="Print a flavor that fits the room Placement has (print-only)")
def placement_flavor_that_fits(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    p = finding.facts.get("placement") or {}
    flavor = finding.facts.get("flavor") or {}
    rc = p.get("resource_class")
    room = int(p.get("max_unit") or 0) if p.get("cause") == "max-unit" else int(p.get("free") or 0)
    sizes = {"VCPU": int(flavor.get("vcpus") or 1), "MEMORY_MB": int(flavor.get("ram") or 512),
             "DISK_GB": int(flavor.get("disk") or 1)}
    if rc not in sizes or room < 1:
        return []
    sizes[rc] = room
    name = f"{flavor.get('name') or 'flavor'}-fit"
    argv = ["openstack", "flavor", "create", "--vcpus", str(sizes["VCPU"]), "--ram", str(sizes["MEMORY_MB"]),
            "--disk", str(sizes["DISK_GB"]), name]
    return [Remedy(
        id="placement-flavor-that-fits", kind="command", durable=False,
        title=t("Build with a flavor that fits the {room} {rc} {host} has left (print-only)", room=room, rc=rc, host=p.get('host')),
        explain=(t("A flavor with {rc} cut to {room} fits {provider} now. Print-only: the wizard does not "
                   "create flavors (what the guest needs is yours to judge) and it does not rebuild the "
                   "server; create the server again with this flavor. It lasts only until that room is taken "
                   "too.", rc=rc, room=room, provider=p.get('provider'))),
        command=join(argv), actions=[], verify=None)]


@remedy("start-nova-scheduler", summary="Start (restart) nova_scheduler through its systemd unit so it consumes its queue again")
def start_nova_scheduler(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    bus = finding.facts.get("bus") or {}
    hosts = [h.strip() for h in str(bus.get("hosts") or finding.host or "").split(",") if h.strip()]
    if not hosts:
        return []
    unit = kolla_unit("nova_scheduler")
    reset, start = ["systemctl", "reset-failed", unit], ["systemctl", "restart", unit]
    actions = []
    for host in hosts:
        node = _nodeio.inventory_name(ctx, host)
        sudo = become_for(ctx, node)
        actions += [NodeCommand(node, reset, sudo=sudo, timeout=60.0), NodeCommand(node, start, sudo=sudo, timeout=120.0)]
    logs = ["tail", "-n", "50", _nodeio.NOVA_SCHEDULER_LOG]
    return [Remedy(
        id="start-nova-scheduler", kind="command", durable=True,
        title=t("Restart nova_scheduler on {hosts}", hosts=', '.join(hosts)),
        explain=(t("Kolla runs nova-scheduler under the systemd unit {unit}; `systemctl reset-failed` clears "
                   "a unit that gave up, `systemctl restart` starts it and it connects to RabbitMQ and "
                   "consumes the 'scheduler' queue again (`docker exec rabbitmq rabbitmqctl list_queues name "
                   "messages consumers` shows a consumer). Then read {NOVA_SCHEDULER_LOG} for why it stopped: "
                   "RabbitMQ unreachable at boot, a bad nova.conf line.", unit=unit, NOVA_SCHEDULER_LOG=_nodeio.NOVA_SCHEDULER_LOG)),
        command="\n".join(as_root(c) for c in (reset, start, logs)), host=hosts[0] if len(hosts) == 1 else None,
        actions=actions, verify="bus")]


@remedy("restart-nova-compute", summary="Restart nova_compute so it consumes its compute.<host> queue again")
def restart_nova_compute(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = (finding.facts.get("bus") or {}).get("compute") or finding.host
    if not host:
        return []
    node = _nodeio.inventory_name(ctx, host)
    unit = kolla_unit(NOVA_COMPUTE_CONTAINER)
    restart = ["systemctl", "restart", unit]
    sudo = become_for(ctx, node)
    return [Remedy(
        id="restart-nova-compute", kind="command", durable=True,
        title=t("Restart nova_compute on {node} so it consumes compute.{host} again", node=node, host=host),
        explain=(t("`systemctl restart {unit}` restarts nova-compute, which reconnects to RabbitMQ and "
                   "consumes compute.{host}: the builds that waited there run (the server leaves BUILD). "
                   "`docker exec rabbitmq rabbitmqctl list_queues name messages consumers` then shows "
                   "compute.{host} with a consumer. If it loses its consumer again after each RabbitMQ "
                   "restart, read {NOVA_COMPUTE_LOG} and RabbitMQ's log around the restart.", unit=unit, host=host, NOVA_COMPUTE_LOG=_nodeio.NOVA_COMPUTE_LOG)),
        command=as_root(restart), host=node, actions=[NodeCommand(node, restart, sudo=sudo, timeout=120.0)],
        verify=finding.step)]
