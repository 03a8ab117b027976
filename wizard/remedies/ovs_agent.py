"""Remedies for the OVS agent side of max-retries: restart after a config change, create the
mapped bridge, start a stopped agent, fix a physnet name, align host names, and (not networking
at all) the scheduling checks for No valid host."""
from __future__ import annotations

import posixpath
from typing import Any

from ..findings import Finding, Remedy
from ..readings import nodes as _nodeio
from .actions import NodeCommand
from .provider_networks import (OVS_TAGS, become_for, engine_for, interface_note, model_or_none,
                                reconfigure_command, target_host)
from .quoting import join, quote
from .registry import remedy
from . import _edits
from ..probe_context import ProbeContext


@remedy("restart-ovs-agent", summary="Restart neutron_openvswitch_agent so it reads its deployed config")
def restart_ovs_agent(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    if not host:
        return []
    argv = [engine_for(ctx, host), "restart", _nodeio.OVS_AGENT_CONTAINER]
    return [Remedy(
        id="restart-ovs-agent", kind="command", durable=True,
        title=f"Restart the OVS agent on {host}",
        explain=(f"The deployed file already has the mapping (Kolla rendered it); the running agent only reads it "
                 f"at start. Restarting {_nodeio.OVS_AGENT_CONTAINER} on {host} loads it."),
        command=join(argv), host=host,
        actions=[NodeCommand(host, argv, sudo=become_for(ctx, host), timeout=120.0)], verify=finding.step)]


@remedy("reconfigure-openvswitch", also=("add-mapped-bridge",), summary="Create the bridge the agent's bridge_mappings names")
def create_mapped_bridge(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    ovs = finding.facts.get("ovs") or {}
    bridge = ovs.get("missing_bridge")
    if not host or not bridge:
        return []
    out: list[Remedy] = []
    model = model_or_none(ctx)
    expected = None
    if model is not None:
        try:
            expected = model.expected_ovs(host)
        except Exception:
            expected = None
    if expected is not None and bridge in (expected.bridges_created or []):
        argv = reconfigure_command(ctx, host, OVS_TAGS)
        note, warning, _iface = interface_note(ctx, host)
        out.append(Remedy(
            id="reconfigure-openvswitch", kind="command", durable=True,
            title=f"Reconfigure {host} with the openvswitch tag so Kolla creates {bridge}",
            explain=(f"Kolla's openvswitch role creates {bridge} on {host} and plugs neutron_external_interface "
                     f"into it; it runs only with the openvswitch tag (the last deploy probably ran with "
                     f"-t neutron only). {note}"),
            command=join(argv), host=None, warning=warning,
            # Proven at agent-state, like start-ovs-agent: node-agent reads a running container as
            # "agent down" (its ovs-agent-down branch), so a healed agent would look like a new fault.
            actions=[NodeCommand(None, argv, timeout=3600.0)], verify="agent-state"))
    engine = engine_for(ctx, host)
    # The bridge is missing, so the quick fix creates it: only with a known, safe uplink to plug in
    # (a bridge with no physical port binds ports that have no L2 path).
    from .provider_networks import held_back_quick_fix, uplink_problem
    why = uplink_problem(ctx, host, bridge, {}, "")
    if why is not None:
        held = held_back_quick_fix(ctx, host, (ovs.get("physnet") or "its physical network"), bridge, why, finding)
        held.id = "add-mapped-bridge"
        out.append(held)
        return out
    iface = str(model.resolve("neutron_external_interface", host).value)
    commands = [[engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-br", bridge],
                [engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-port", bridge, iface]]
    commands.append([engine, "restart", _nodeio.OVS_AGENT_CONTAINER])
    sudo = become_for(ctx, host)
    warning = None
    if expected is None or bridge not in (expected.bridges_created or []):
        warning = (f"Kolla does not create {bridge} on {host} in this configuration, so the mapping came from a "
                   f"hand edit or an override: the next reconfigure will not keep the two in step.")
    out.append(Remedy(
        id="add-mapped-bridge", kind="command", durable=False,
        title=f"Quick: create {bridge} on {host} and restart the OVS agent",
        explain=(f"Create {bridge} in Open vSwitch on {host}"
                 + (f", plug {iface} into it" if iface else "")
                 + f", then restart {_nodeio.OVS_AGENT_CONTAINER}; it stops exiting at start."),
        command="\n".join(join(c) for c in commands), host=host, warning=warning,
        actions=[NodeCommand(host, argv, sudo=sudo, timeout=120.0) for argv in commands], verify="agent-state"))
    return out


def kolla_unit(container: str) -> str:
    """The systemd unit Kolla runs a container under (kolla-ansible 16.0.0+: kolla_systemd_worker.py)."""
    return f"kolla-{container}-container.service"


@remedy("start-ovs-agent", summary="Start the stopped OVS agent through its systemd unit and read its log")
def ovs_agent_start(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    if not host:
        return []
    engine = engine_for(ctx, host)
    unit = kolla_unit(_nodeio.OVS_AGENT_CONTAINER)
    # Since kolla-ansible 16.0.0 each container is a systemd unit with StartLimitBurst 10: a crash
    # loop ends in a failed unit that a plain start leaves failed. Clear it, then restart the unit.
    reset = ["systemctl", "reset-failed", unit]
    start = ["systemctl", "restart", unit]
    logs = [engine, "logs", "--tail", "50", _nodeio.OVS_AGENT_CONTAINER]
    tail = ["tail", "-n", "50", _nodeio.OVS_AGENT_LOG]
    sudo = become_for(ctx, host)
    return [Remedy(
        id="start-ovs-agent", kind="command", durable=True,
        title=f"Start {_nodeio.OVS_AGENT_CONTAINER} on {host} and read why it stopped",
        explain=(f"Kolla runs the agent under the systemd unit {unit}; after a crash loop (10 starts, "
                 f"StartLimitBurst) the unit is failed and stays down. `systemctl reset-failed` clears that, "
                 f"`systemctl restart` starts the container again. Then read its log ({_nodeio.OVS_AGENT_LOG}) and the "
                 f"container output for the reason it stopped (RabbitMQ unreachable, OVSDB not answering on 6640, a "
                 f"bad config line). If it exits again, the log's last ERROR line is the next thing to fix."),
        command="\n".join(join(c) for c in (reset, start, logs, tail)), host=host,
        # Proven where Neutron says whether the agent lives (agent-state, then on down the tree):
        # node-agent alone reads "container running" as "agent down", started or not.
        actions=[NodeCommand(host, reset, sudo=sudo, timeout=60.0), NodeCommand(host, start, sudo=sudo, timeout=120.0)],
        verify="agent-state")]


@remedy("recreate-network-on-physnet",
        also=("reconfigure-host", "enable-provider-networks", "hand-edit-bridge-mapping", "fix-override-mapping"),
        summary="Use the physical network name Kolla maps (neutron_physical_networks)")
def physnet_fix(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    network = finding.facts.get("network") or {}
    mismatch = finding.facts.get("physnet_mismatch") or {}
    mapped = [p.strip() for p in str(mismatch.get("agent") or "").split(",") if p.strip()]
    if not network.get("id") or not mapped:
        return []
    if mismatch.get("side") == "host":
        return _physnet_fix_host(ctx, finding)
    physnet = mapped[0]
    ntype = network.get("type") or "flat"
    wanted = network.get("physnet")
    model = model_or_none(ctx)
    release = getattr(model, "release", None)
    config_dir = getattr(model, "config_dir", None) or "/etc/kolla"
    from ..kolla.release import Release
    has_physnet_var = release is None or release >= Release(2024, 2)
    show = ["openstack", "network", "show", network["id"], "-c", "provider:physical_network", "-c", "provider:network_type"]
    if has_physnet_var:
        rename = (f"or, if {wanted!r} is the name you want, set neutron_physical_networks: \"{wanted}\" in globals.yml "
                  f"and reconfigure with -t openvswitch,neutron.")
    else:
        # kolla-ansible 2024.1 and older hard-code physnet1, physnet2, ... (no neutron_physical_networks).
        rename = (f"or, if {wanted!r} is the name you want: kolla-ansible {release} has no neutron_physical_networks "
                  f"(the names are physnet1, physnet2, ... by position), so override both files Kolla renders: "
                  f"{config_dir}/config/neutron/openvswitch_agent.ini ([ovs] bridge_mappings = {wanted}:br-ex) and "
                  f"{config_dir}/config/neutron/ml2_conf.ini ([ml2_type_flat] flat_networks = {wanted}), then reconfigure "
                  f"with -t openvswitch,neutron.")
    lines = [join(show)]
    existing = None
    second = (f"A physical network {wanted!r} beside {physnet} needs its own bridge and NIC: list both in "
              f"neutron_bridge_name and neutron_external_interface (e.g. \"br-ex,br-ex2\" and \"<nic1>,<nic2>\")"
              + (f" and neutron_physical_networks: \"{physnet},{wanted}\" in globals.yml" if has_physnet_var else
                 f"; kolla-ansible {release} then names the second one physnet2") +
              ", and reconfigure with -t openvswitch,neutron; renaming the only one would strand the networks on "
              f"{physnet}.")
    if ntype == "flat":
        from ..cloud import CloudError
        try:
            existing = next((n for n in ctx.cloud.networks() if n.get("provider_network_type") == "flat"
                             and n.get("provider_physical_network") == physnet and n.get("id") != network["id"]), None)
        except CloudError:
            existing = None
    if existing is not None:
        # Neutron allows one flat network per physical network (type_flat.py: FlatNetworkInUse, 409).
        explain = (f"Network {network.get('name')} says physical network {wanted!r}, which no agent on the failing host "
                   f"maps; the agents map {physnet}. A second flat network on {physnet} is refused by Neutron "
                   f"(FlatNetworkInUse: \"Unable to create the flat network. Physical network {physnet} is in use.\"), "
                   f"and {physnet} already carries {existing.get('name') or existing.get('id')}: boot the servers on that "
                   f"network instead. {second}")
    elif ntype == "vlan":
        # Kolla renders [ml2_type_vlan] network_vlan_ranges empty: no VLAN provider network is accepted.
        explain = (f"Network {network.get('name')} is a VLAN network on {wanted!r}, which no agent on the failing host "
                   f"maps; the agents map {physnet}. Neutron accepts a VLAN network only on a physical network listed in "
                   f"[ml2_type_vlan] network_vlan_ranges, which Kolla renders empty: list {physnet} there (an override "
                   f"{config_dir}/config/neutron/ml2_conf.ini with network_vlan_ranges = {physnet}:<first>:<last>, "
                   f"then reconfigure -t neutron) before creating the network on {physnet} with the command below. "
                   f"{second}")
        name = f"{network.get('name') or 'provider'}-{physnet}"
        create = ["openstack", "network", "create", "--provider-network-type", "vlan",
                  "--provider-physical-network", physnet]
        if network.get("segmentation_id"):
            create += ["--provider-segment", str(network["segmentation_id"])]
        if network.get("external"):
            create += ["--external"]
        lines.append(join(create + (["--", name] if name.startswith("-") else [name])))
    else:
        name = f"{network.get('name') or 'provider'}-{physnet}"
        create = ["openstack", "network", "create", "--provider-network-type", ntype,
                  "--provider-physical-network", physnet]
        if network.get("external"):
            create += ["--external"]
        lines.append(join(create + (["--", name] if name.startswith("-") else [name])))
        explain = (f"Network {network.get('name')} says physical network {wanted!r}, which no agent on the failing host "
                   f"maps. Kolla names physical networks physnet1, physnet2, ... (one per neutron_bridge_name entry"
                   + (", or neutron_physical_networks in globals.yml" if has_physnet_var else "") +
                   f"). Create the network on {physnet} (and its subnet), move the servers to it, then delete the old "
                   f"one; {rename}")
    return [Remedy(
        id="recreate-network-on-physnet", kind="command", durable=True,
        title=(f"Use {existing.get('name') or existing.get('id')}, the flat network already on {physnet}"
               if existing is not None else f"Put the provider network on {physnet}, the physical network the agents map"),
        explain=explain, command="\n".join(lines), actions=[], verify=None)]


def _physnet_fix_host(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    """The network is right (other hosts map its physnet); the host's mapping is not."""
    from .provider_networks import bridge_mapping_quick, provider_networks_durable

    host = target_host(finding)
    physnet = (finding.facts.get("network") or {}).get("physnet")
    model = model_or_none(ctx)
    out: list[Remedy] = []
    expected = None
    if model is not None and host:
        try:
            expected = model.expected_ovs(_nodeio.inventory_name(ctx, host))
        except Exception:
            expected = None
    inv = _nodeio.inventory_name(ctx, host) if host else host
    if expected is not None and expected.bridge_mappings and physnet in expected.bridge_mappings:
        argv = reconfigure_command(ctx, inv, OVS_TAGS)
        out.append(Remedy(
            id="reconfigure-host", kind="command", durable=True,
            title=f"Reconfigure {inv} so Kolla renders its mapping again ({expected.bridge_mappings_text})",
            explain=(f"Kolla would render bridge_mappings {expected.bridge_mappings_text} on {inv} "
                     f"({expected.reason}). The deployed file differs, so it was edited by hand or by an override "
                     f"that no longer exists; a reconfigure writes Kolla's version and restarts the agent."),
            command=join(argv), host=None, actions=[NodeCommand(None, argv, timeout=3600.0)], verify=finding.step))
    elif expected is not None and expected.mappings_from not in ("template", "none", ""):
        # A /etc/kolla/config override sets the mapping: it is the source, and every reconfigure
        # deploys it again. Fix it there (provider networks are already on: Kolla renders the template).
        fixed = _override_fix(ctx, finding, expected, inv, physnet)
        if fixed is not None:
            out.append(fixed)
    elif model is not None:
        out.extend(provider_networks_durable(ctx, finding))
    quick = bridge_mapping_quick(ctx, finding)
    if expected is not None and expected.mappings_from not in ("template", "none", ""):
        for remedy in quick:
            if remedy.actions:
                remedy.warning = (f"This is a hand edit of a file Kolla owns, and the override at "
                                  f"{expected.mappings_from} puts {expected.bridge_mappings_text} back on the next "
                                  f"kolla-ansible deploy/reconfigure of {inv}: fix the override too.")
    out.extend(quick)
    return out


def _override_fix(ctx: ProbeContext, finding: Finding, expected: Any, inv: str, physnet: str | None) -> Remedy | None:
    path = expected.mappings_from.rpartition(":")[0]
    if not path or not physnet:
        return None
    try:
        old = _nodeio.deploy_file(ctx, path)   # the override the Kolla model read
    except Exception:
        return None
    if old is None:
        return None
    wrong = dict(expected.bridge_mappings or {})
    template = dict(expected.template_mappings or {})
    bridge = template.get(physnet) or next(iter(wrong.values()), "br-ex")
    # neutron wants each bridge once: the physnet that took this bridge gives it back.
    fixed = {k: v for k, v in wrong.items() if v != bridge}
    fixed[physnet] = bridge
    text = ",".join(f"{k}:{v}" for k, v in fixed.items())
    new = _edits.set_ini_option(old, "ovs", "bridge_mappings", text)
    argv = reconfigure_command(ctx, None, OVS_TAGS)
    per_host = f"/{inv}/" in path
    return Remedy(
        id="fix-override-mapping", kind="file_edit", durable=True,
        title=f"Fix the mapping where it comes from: {path}",
        explain=(f"The bridge_mappings on {inv} ({expected.bridge_mappings_text}) come from the "
                 f"{'per-host ' if per_host else ''}override at {expected.mappings_from}, which Kolla merges over its "
                 f"template on every deploy and reconfigure; provider networks are already enabled (Kolla's template "
                 f"renders {expected.template_mappings and ','.join(f'{k}:{v}' for k, v in template.items()) or 'the mapping'}). "
                 f"Set bridge_mappings = {text} there"
                 + (" (or delete the line to take Kolla's template)" if template.get(physnet) == bridge else "")
                 + f", then reconfigure with -t openvswitch,neutron: only {inv}'s file changes, so only its agent "
                 f"restarts."),
        path=path, host=None, diff=_edits.unified_diff(path, old, new), command=join(argv),
        actions=[_edits.file_edit(None, path, old, new, "ini"), NodeCommand(None, argv, timeout=3600.0)],
        verify=finding.step)


@remedy("align-host-names", summary="Pin the OVS agent's host name to nova-compute's (never rename nova-compute)")
def host_name_align(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    names = finding.facts.get("host_names") or {}
    nova, neutron = names.get("nova"), names.get("neutron")
    if not nova or not neutron:
        return []
    inv = _nodeio.inventory_name(ctx, neutron)
    model = model_or_none(ctx)
    config_dir = getattr(model, "config_dir", None) or getattr(ctx.settings, "kolla_config_dir", None) or "/etc/kolla"
    override = posixpath.join(config_dir, "config", "neutron", inv, "neutron.conf")
    from ..transport.base import FileMissing
    from ..errors import WizardError
    try:
        old = _nodeio.deploy_file(ctx, override)
    except FileMissing:
        old = None
    except WizardError:
        old = None
    new = _edits.set_ini_option(old or "", "DEFAULT", "host", nova)
    argv = reconfigure_command(ctx, None, "neutron")
    agent = (finding.facts.get("agent") or {}).get("id")
    after = ["openstack network agent list --agent-type open-vswitch --host " + quote(nova),
             "openstack network agent delete " + (quote(agent) if agent else "STALE_AGENT_ID")]
    actions: list[Any] = []
    if old is not None:
        actions = [_edits.file_edit(None, override, old, new, "ini"), NodeCommand(None, argv, timeout=3600.0)]
    return [Remedy(
        id="align-host-names", kind="file_edit", durable=True,
        title=f"Pin neutron's host on {inv} to nova-compute's name {nova!r}",
        explain=(f"Nova binds ports to {nova!r}, the OVS agent on {inv} registered as {neutron!r}, so Neutron finds no "
                 f"agent for the binding. Do not change nova-compute's host: nova-compute refuses to start on a "
                 f"renamed host (\"Possible rename detected, refusing to start!\", nova/compute/manager.py), and the "
                 f"instances and resource provider stay under the old name. Pin neutron's [DEFAULT] host on {inv} to "
                 f"{nova!r} instead, in Kolla's per-host override {override} "
                 f"({'edit it' if old is not None else 'create it'}; Kolla merges it into neutron.conf for every neutron "
                 f"service on {inv} only), then reconfigure with the neutron tag (no --limit: only {inv}'s files "
                 f"change, so only its containers restart). When the agent reports as {nova!r}, delete the old "
                 f"agent row {neutron!r}."),
        path=override, host=None, diff=_edits.unified_diff(override, old or "", new),
        command="\n".join([join(argv), *after]), actions=actions,
        warning=(f"If {inv} also runs the L3 or DHCP agent, they take the name {nova!r} too: their routers and "
                 f"networks are rescheduled from the old agent rows." if model is not None and
                 "network" in (_safe_groups(model, inv)) else None),
        verify=finding.step if actions else None)]


def _safe_groups(model: Any, host: str) -> list[str]:
    try:
        return list(model.groups_of(host))
    except Exception:
        return []


@remedy("check-scheduling", summary="Check compute services and Placement allocation candidates")
def placement_check(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    from ..cloud import CloudError

    server = finding.facts.get("server") or {}
    resources = ["--resource", "VCPU=1", "--resource", "MEMORY_MB=512", "--resource", "DISK_GB=1"]
    flavor_name = server.get("flavor")
    try:
        flavor = next((f for f in ctx.cloud.flavors() if flavor_name in (f.get("name"), f.get("id"))), None)
    except CloudError:
        flavor = None
    if flavor:
        resources = ["--resource", f"VCPU={flavor.get('vcpus') or 1}", "--resource", f"MEMORY_MB={flavor.get('ram') or 512}",
                     "--resource", f"DISK_GB={flavor.get('disk') or 1}"]
    cmds = [join(["openstack", "compute", "service", "list", "--service", "nova-compute"]),
            join(["openstack", "allocation", "candidate", "list", *resources]),
            join(["openstack", "resource", "provider", "list"])]
    found, fixes = _unusable_computes(ctx)
    if found:
        cause = ("What the wizard found: " + "; ".join(found) + ". That alone leaves the scheduler no host; fix it "
                 "with the commands below, then rebuild the server. ")
    else:
        cause = ""
    return [Remedy(
        id="check-scheduling", kind="command", durable=True,
        title=("Bring back the compute service the scheduler cannot use" if found else
               "Check where Nova can schedule: compute services and Placement candidates"),
        explain=(cause + "No valid host comes from the scheduler, before any network work: either no nova-compute is "
                 "up and enabled, or Placement has no provider with room for the flavor. `compute service list` shows "
                 "the compute services (State up, Status enabled); `allocation candidate list` asks Placement for "
                 "hosts that fit the flavor (it needs the osc-placement plugin: pip install osc-placement); an empty "
                 "answer means no capacity or a compute that never registered its resource provider."),
        command="\n".join([*fixes, *cmds]), actions=[], verify=None)]


def _unusable_computes(ctx: ProbeContext) -> tuple[list[str], list[str]]:
    """(what is wrong with each nova-compute that is down or disabled, the commands that fix it)."""
    from ..cloud import CloudError
    from ..errors import WizardError
    from ..evidence import ProbeUnavailable
    try:
        services = [s for s in ctx.cloud.compute_services() if s.get("binary") == "nova-compute"]
    except CloudError:
        return [], []
    found: list[str] = []
    fixes: list[str] = []
    for service in services:
        host = str(service.get("host") or "")
        if not host:
            continue
        if service.get("status") == "disabled":
            reason = service.get("disabled_reason")
            found.append(f"nova-compute on {host} is disabled" + (f" ({reason})" if reason else ""))
            fixes.append(join(["openstack", "compute", "service", "set", "--enable", host, "nova-compute"]))
        if service.get("state") != "down":
            continue
        inv = _nodeio.inventory_name(ctx, host)
        state: dict[str, Any] = {}
        try:
            from ..probes.node_ovs import container_state
            state = container_state(ctx, ctx.node(inv), inv, "nova_compute")
        except (WizardError, ProbeUnavailable):
            state = {}
        status = state.get("status")
        if status and status != "running":
            unit = kolla_unit("nova_compute")
            found.append(f"nova-compute on {host} is down: its container nova_compute on {inv} is {status}"
                         + (f" (exit code {state.get('exit_code')})" if state.get("exit_code") not in (None, 0) else ""))
            found[-1] += (f"; on {inv} run `{join(['systemctl', 'reset-failed', unit])}`, then "
                          f"`{join(['systemctl', 'restart', unit])}` (Kolla's systemd unit for the container), and read "
                          f"`{join(['tail', '-n', '50', '/var/log/kolla/nova/nova-compute.log'])}` for why it stopped")
        else:
            found.append(f"nova-compute on {host} is down (no heartbeat)"
                         + (f" although its container on {inv} is running: read /var/log/kolla/nova/nova-compute.log "
                            f"there (RabbitMQ, a rename refused at start)" if status == "running" else ""))
    return found, fixes
