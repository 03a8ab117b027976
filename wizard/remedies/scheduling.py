"""Remedies of the no-valid-host tree: bring a down nova-compute back (its Kolla systemd unit),
unset forced-down, enable a disabled service. The `openstack compute service set` forms are
python-openstackclient's (``--enable``, ``--up``: microversions 2.53 / 2.11, chosen by osc)."""
from __future__ import annotations

from ..findings import Finding, Remedy
from ..probe_context import ProbeContext
from ..readings import nodes as _nodeio
from .actions import NodeCommand
from .ovs_agent import kolla_unit
from .provider_networks import become_for, engine_for
from .quoting import join
from .registry import remedy

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
        title=f"Start {NOVA_COMPUTE_CONTAINER} on {node} and read why it stopped",
        explain=(f"Kolla runs nova-compute under the systemd unit {unit}; `systemctl reset-failed` clears a unit "
                 f"that gave up after a crash loop, `systemctl restart` starts the container. The service reports "
                 f"up within a minute (`openstack compute service list --service nova-compute`). Then read "
                 f"{_nodeio.NOVA_COMPUTE_LOG} (or `{engine} logs {NOVA_COMPUTE_CONTAINER}`) for why it stopped: "
                 f"RabbitMQ unreachable, libvirt not running, a bad nova.conf line."),
        command="\n".join(join(c) for c in (reset, start, logs)), host=node,
        actions=[NodeCommand(node, reset, sudo=sudo, timeout=60.0), NodeCommand(node, start, sudo=sudo, timeout=120.0)],
        verify="compute-services")]


@remedy("compute-service-enable", summary="Enable the disabled nova-compute service")
def compute_service_enable(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    if not host:
        return []
    argv = ["openstack", "compute", "service", "set", "--enable", host, "nova-compute"]
    reason = (finding.facts.get("compute") or {}).get("disabled_reason") or "no reason given"
    return [Remedy(
        id="compute-service-enable", kind="command", durable=True,
        title=f"Enable nova-compute on {host}",
        explain=(f"It was disabled with the reason \"{reason}\": make sure that work is over, then enable it. Nova "
                 f"removes COMPUTE_STATUS_DISABLED from the host's resource provider and Placement offers it again. "
                 f"The server already in ERROR stays there: delete it and create it again."),
        command=join(argv), actions=[], verify=None)]


@remedy("compute-service-up", summary="Unset forced-down on the nova-compute service")
def compute_service_up(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = _host(finding)
    if not host:
        return []
    argv = ["openstack", "compute", "service", "set", "--up", host, "nova-compute"]
    return [Remedy(
        id="compute-service-up", kind="command", durable=True,
        title=f"Unset forced-down on nova-compute on {host}",
        explain=(f"Forced down is for a host that is really dead (it lets evacuate start at once). If {host} is "
                 f"back and nova-compute runs there, unset it; Nova then trusts its heartbeat again."),
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
        title=f"Map {host} to its cell with nova-manage cell_v2 discover_hosts",
        explain=(f"Run on {where or 'a controller'}: discover_hosts maps every registered nova-compute that has "
                 f"no host mapping yet (--by-service, as Kolla's nova-cell role runs it); `list_hosts` then shows "
                 f"{host} with its cell. A later `kolla-ansible deploy -t nova` would do the same. The server "
                 f"already in ERROR stays there: delete it and create it again."),
        command="\n".join(join(c) for c in (argv, check)), host=where, actions=[], verify=None)]
