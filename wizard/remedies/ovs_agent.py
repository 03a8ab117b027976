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
from .quoting import as_root, join, quote
from .registry import remedy
from ..i18n import t
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
        title=t("Restart the OVS agent on {host}", host=host),
        explain=(t("The deployed file already has the mapping (Kolla rendered it); the running agent only "
                   "reads it at start. Restarting {OVS_AGENT_CONTAINER} on {host} loads it.", OVS_AGENT_CONTAINER=_nodeio.OVS_AGENT_CONTAINER, host=host)),
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
            title=t("Reconfigure {host} with the openvswitch tag so Kolla creates {bridge}", host=host, bridge=bridge),
            explain=(t("Kolla's openvswitch role creates {bridge} on {host} and plugs neutron_external_interface "
                       "into it; it runs only with the openvswitch tag (the last deploy probably ran with -t "
                       "neutron only). {note}", bridge=bridge, host=host, note=note)),
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
        held = held_back_quick_fix(ctx, host, (ovs.get("physnet") or t("its physical network")), bridge, why, finding)
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
        warning = (t("Kolla does not create {bridge} on {host} in this configuration, so the mapping came from "
                     "a hand edit or an override: the next reconfigure will not keep the two in step.", bridge=bridge, host=host))
    out.append(Remedy(
        id="add-mapped-bridge", kind="command", durable=False,
        title=t("Quick: create {bridge} on {host} and restart the OVS agent", bridge=bridge, host=host),
        explain=(t("Create {bridge} in Open vSwitch on {host}", bridge=bridge, host=host)
                 + (t(", plug {iface} into it", iface=iface) if iface else "")
                 + t(", then restart {OVS_AGENT_CONTAINER}; it stops exiting at start.", OVS_AGENT_CONTAINER=_nodeio.OVS_AGENT_CONTAINER)),
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
        title=t("Start {OVS_AGENT_CONTAINER} on {host} and read why it stopped", OVS_AGENT_CONTAINER=_nodeio.OVS_AGENT_CONTAINER, host=host),
        explain=(t("Kolla runs the agent under the systemd unit {unit}; after a crash loop (10 starts, "
                   "StartLimitBurst) the unit is failed and stays down. `systemctl reset-failed` clears that, "
                   "`systemctl restart` starts the container again. Then read its log ({OVS_AGENT_LOG}) and "
                   "the container output for the reason it stopped (RabbitMQ unreachable, OVSDB not answering "
                   "on 6640, a bad config line). If it exits again, the log's last ERROR line is the next "
                   "thing to fix.", unit=unit, OVS_AGENT_LOG=_nodeio.OVS_AGENT_LOG)),
        command="\n".join(as_root(c) for c in (reset, start, logs, tail)), host=host,
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
        rename = (t("or, if {wanted!r} is the name you want, set neutron_physical_networks: \"{wanted}\" in "
                    "globals.yml and reconfigure with -t openvswitch,neutron.", wanted=wanted))
    else:
        # kolla-ansible 2024.1 and older hard-code physnet1, physnet2, ... (no neutron_physical_networks).
        rename = (t("or, if {wanted!r} is the name you want: kolla-ansible {release} has no "
                    "neutron_physical_networks (the names are physnet1, physnet2, ... by position), so "
                    "override both files Kolla renders: {config_dir}/config/neutron/openvswitch_agent.ini "
                    "([ovs] bridge_mappings = {wanted}:br-ex) and {config_dir}/config/neutron/ml2_conf.ini "
                    "([ml2_type_flat] flat_networks = {wanted}), then reconfigure with -t openvswitch,neutron.", wanted=wanted, release=release, config_dir=config_dir))
    lines = [join(show)]
    existing = None
    second = (t("A physical network {wanted!r} beside {physnet} needs its own bridge and NIC: list both in "
                "neutron_bridge_name and neutron_external_interface (e.g. \"br-ex,br-ex2\" and "
                "\"<nic1>,<nic2>\")", wanted=wanted, physnet=physnet)
              + (t(" and neutron_physical_networks: \"{physnet},{wanted}\" in globals.yml", physnet=physnet, wanted=wanted) if has_physnet_var else
                 t("; kolla-ansible {release} then names the second one physnet2", release=release)) +
              t(", and reconfigure with -t openvswitch,neutron; renaming the only one would strand the "
                "networks on {physnet}.", physnet=physnet))
    if ntype == "flat":
        from ..cloud import CloudError
        try:
            existing = next((n for n in ctx.cloud.networks() if n.get("provider_network_type") == "flat"
                             and n.get("provider_physical_network") == physnet and n.get("id") != network["id"]), None)
        except CloudError:
            existing = None
    if existing is not None:
        # Neutron allows one flat network per physical network (type_flat.py: FlatNetworkInUse, 409).
        explain = (t("Network {name} says physical network {wanted!r}, which no agent on the failing host maps; "
                     "the agents map {physnet}. A second flat network on {physnet} is refused by Neutron "
                     "(FlatNetworkInUse: \"Unable to create the flat network. Physical network {physnet} is in "
                     "use.\"), and {physnet} already carries {name2}: boot the servers on that network instead. "
                     "{second}", name=network.get('name'), wanted=wanted, physnet=physnet, name2=existing.get('name') or existing.get('id'), second=second))
    elif ntype == "vlan":
        # Kolla renders [ml2_type_vlan] network_vlan_ranges empty: no VLAN provider network is accepted.
        explain = (t("Network {name} is a VLAN network on {wanted!r}, which no agent on the failing host maps; "
                     "the agents map {physnet}. Neutron accepts a VLAN network only on a physical network "
                     "listed in [ml2_type_vlan] network_vlan_ranges, which Kolla renders empty: list {physnet} "
                     "there (an override {config_dir}/config/neutron/ml2_conf.ini with network_vlan_ranges = "
                     "{physnet}:<first>:<last>, then reconfigure -t neutron) before creating the network on "
                     "{physnet} with the command below. {second}", name=network.get('name'), wanted=wanted, physnet=physnet, config_dir=config_dir, second=second))
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
        explain = (t("Network {name} says physical network {wanted!r}, which no agent on the failing host maps. "
                     "Kolla names physical networks physnet1, physnet2, ... (one per neutron_bridge_name entry", name=network.get('name'), wanted=wanted)
                   + (t(", or neutron_physical_networks in globals.yml") if has_physnet_var else "") +
                   t("). Create the network on {physnet} (and its subnet), move the servers to it, then delete "
                     "the old one; {rename}", physnet=physnet, rename=rename))
    return [Remedy(
        id="recreate-network-on-physnet", kind="command", durable=True,
        title=(t("Use {name}, the flat network already on {physnet}", name=existing.get('name') or existing.get('id'), physnet=physnet)
               if existing is not None else t("Put the provider network on {physnet}, the physical network the agents map", physnet=physnet)),
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
            title=t("Reconfigure {inv} so Kolla renders its mapping again ({bridge_mappings_text})", inv=inv, bridge_mappings_text=expected.bridge_mappings_text),
            explain=(t("Kolla would render bridge_mappings {bridge_mappings_text} on {inv} ({reason}). The "
                       "deployed file differs, so it was edited by hand or by an override that no longer exists; "
                       "a reconfigure writes Kolla's version and restarts the agent.", bridge_mappings_text=expected.bridge_mappings_text, inv=inv, reason=expected.reason)),
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
                remedy.warning = (t("This is a hand edit of a file Kolla owns, and the override at {mappings_from} puts "
                                    "{bridge_mappings_text} back on the next kolla-ansible deploy/reconfigure of {inv}: fix "
                                    "the override too.", mappings_from=expected.mappings_from, bridge_mappings_text=expected.bridge_mappings_text, inv=inv))
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
        title=t("Fix the mapping where it comes from: {path}", path=path),
        explain=(t("The bridge_mappings on {inv} ({bridge_mappings_text}) come from the {value}override at "
                   "{mappings_from}, which Kolla merges over its template on every deploy and reconfigure; "
                   "provider networks are already enabled (Kolla's template renders {template_mappings}). Set "
                   "bridge_mappings = {text} there", inv=inv, bridge_mappings_text=expected.bridge_mappings_text, value=t("per-host ") if per_host else '', mappings_from=expected.mappings_from, template_mappings=expected.template_mappings and ','.join(f'{k}:{v}' for k, v in template.items()) or 'the mapping', text=text)
                 + (t(" (or delete the line to take Kolla's template)") if template.get(physnet) == bridge else "")
                 + t(", then reconfigure with -t openvswitch,neutron: only {inv}'s file changes, so only its "
                     "agent restarts.", inv=inv)),
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
        title=t("Pin neutron's host on {inv} to nova-compute's name {nova!r}", inv=inv, nova=nova),
        explain=(t("Nova binds ports to {nova!r}, the OVS agent on {inv} registered as {neutron!r}, so "
                   "Neutron finds no agent for the binding. Do not change nova-compute's host: nova-compute "
                   "refuses to start on a renamed host (\"Possible rename detected, refusing to start!\", "
                   "nova/compute/manager.py), and the instances and resource provider stay under the old "
                   "name. Pin neutron's [DEFAULT] host on {inv} to {nova!r} instead, in Kolla's per-host "
                   "override {override} ({value}; Kolla merges it into neutron.conf for every neutron service "
                   "on {inv} only), then reconfigure with the neutron tag (no --limit: only {inv}'s files "
                   "change, so only its containers restart). When the agent reports as {nova!r}, delete the "
                   "old agent row {neutron!r}.", nova=nova, inv=inv, neutron=neutron, override=override, value=t("edit it") if old is not None else t("create it"))),
        path=override, host=None, diff=_edits.unified_diff(override, old or "", new),
        command="\n".join([join(argv), *after]), actions=actions,
        warning=(t("If {inv} also runs the L3 or DHCP agent, they take the name {nova!r} too: their routers "
                   "and networks are rescheduled from the old agent rows.", inv=inv, nova=nova) if model is not None and
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
        cause = (t("What the wizard found: ") + "; ".join(found) + t(". That alone leaves the scheduler no host; fix it with the commands below, then rebuild "
                                                                  "the server. "))
    else:
        cause = ""
    return [Remedy(
        id="check-scheduling", kind="command", durable=True,
        title=(t("Bring back the compute service the scheduler cannot use") if found else
               t("Check where Nova can schedule: compute services and Placement candidates")),
        explain=(cause + t("No valid host comes from the scheduler, before any network work: either no nova-compute "
                           "is up and enabled, or Placement has no provider with room for the flavor. `compute "
                           "service list` shows the compute services (State up, Status enabled); `allocation "
                           "candidate list` asks Placement for hosts that fit the flavor (it needs the osc-placement "
                           "plugin: pip install osc-placement); an empty answer means no capacity or a compute that "
                           "never registered its resource provider.")),
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
            found.append(t("nova-compute on {host} is disabled", host=host) + (f" ({reason})" if reason else ""))
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
            found.append(t("nova-compute on {host} is down: its container nova_compute on {inv} is {status}", host=host, inv=inv, status=status)
                         + (f" (exit code {state.get('exit_code')})" if state.get("exit_code") not in (None, 0) else ""))
            found[-1] += (t("; on {inv} run `{reset}`, then `{restart}` (Kolla's systemd unit for the container), and "
                            "read `{tail}` for why it stopped", inv=inv, reset=as_root(['systemctl', 'reset-failed', unit]),
                            restart=as_root(['systemctl', 'restart', unit]),
                            tail=as_root(['tail', '-n', '50', '/var/log/kolla/nova/nova-compute.log'])))
        else:
            found.append(t("nova-compute on {host} is down (no heartbeat)", host=host)
                         + (t(" although its container on {inv} is running: read /var/log/kolla/nova/nova-compute.log "
                              "there (RabbitMQ, a rename refused at start)", inv=inv) if status == "running" else ""))
    return found, fixes
