"""Remedies for a compute without a bridge mapping for the provider network's physnet
(bridge-mapping-missing, kolla-excludes-compute) and for a configuration not yet deployed
(config-not-deployed). Durable fixes go through Kolla (globals.yml + reconfigure); the quick fix
is the seed report's own hand edit of the deployed openvswitch_agent.ini, which the next
reconfigure overwrites. Facts: docs kolla-facts §1, §2.3, §4, §10.1-§10.5."""
from __future__ import annotations

import posixpath
from typing import Any

import yaml

from ..errors import WizardError
from ..evidence import ProbeUnavailable
from ..findings import Finding, Remedy
from ..readings import nodes as _nodeio
from .actions import NodeCommand
from .quoting import join, option, positional
from .registry import remedy
from . import _edits

PROVIDER_VAR = "enable_neutron_provider_networks"
OVS_TAGS = "openvswitch,neutron"


# -- shared helpers --------------------------------------------------------------------------------
def model_or_none(ctx: Any) -> Any:
    return _nodeio.kolla_or_none(ctx)


def target_host(finding: Finding) -> str | None:
    """The inventory name of the host at fault (the views/ovs facts carry it; else the API's name)."""
    facts = finding.facts
    return (facts.get("views") or {}).get("host") or (facts.get("ovs") or {}).get("inventory_host") or \
        finding.host or facts.get("host")


def reconfigure_command(ctx: Any, host: str, tags: str) -> list[str]:
    from ..kolla.cli_syntax import reconfigure_argv

    model = model_or_none(ctx)
    inventory = (getattr(model, "inventory_path", None) or ctx.settings.inventory
                 or posixpath.join(ctx.settings.kolla_config_dir, "multinode"))
    release = getattr(model, "release", None)
    return reconfigure_argv(inventory, tags=tags, limit=host, release=release)


def read_deploy_file(ctx: Any, path: str) -> str | None:
    from ..transport.base import FileMissing

    try:
        return ctx.deploy.read_file(path)
    except FileMissing:
        return None


def physnet_bridge(ctx: Any, finding: Finding) -> tuple[str, str]:
    """(physnet, bridge) Kolla pairs for this network: neutron_physical_networks × neutron_bridge_name
    as rendered for a [network] host (always mapped), else physnet1:br-ex."""
    physnet = (finding.facts.get("network") or {}).get("physnet") or "physnet1"
    model = model_or_none(ctx)
    if model is not None:
        for host in model.hosts_in("network") or model.hosts:
            try:
                expected = model.expected_ovs(host)
            except Exception:
                continue
            if expected.bridge_mappings and physnet in expected.bridge_mappings:
                return physnet, expected.bridge_mappings[physnet]
    return physnet, "br-ex"


def interface_note(ctx: Any, host: str) -> tuple[str, str | None, str | None]:
    """(explanation, warning, interface) about neutron_external_interface for the compute."""
    model = model_or_none(ctx)
    if model is None:
        return ("Set neutron_external_interface for the compute group to a NIC (or veth end) that carries the "
                "external network and has no IP address.", None, None)
    ext = model.resolve("neutron_external_interface", host)
    mgmt = model.resolve("network_interface", host).value
    api = model.resolve("api_interface", host).value
    where = ext.winner.describe() if ext.winner else "Kolla's default"
    text = (f"Kolla will plug neutron_external_interface into the bridge on {host}; there it is "
            f"{ext.value!r} ({where}). It must be a NIC or veth end that carries the external network and has "
            f"no IP address. Per-host values belong on the host's line in the inventory "
            f"(`{host} neutron_external_interface=...`) or in inventory group_vars/compute, never in globals.yml "
            f"(extra vars beat every per-host setting) and not in [compute:vars] (it loses to Kolla's group_vars/all).")
    warning = None
    if ext.value in (mgmt, api):
        warning = (f"neutron_external_interface on {host} is {ext.value!r}, the same NIC as the management "
                   f"network (network_interface/api_interface): Kolla would plug it into the OVS bridge and {host} "
                   f"loses its IP path. With a single NIC, put the host IP on a Linux bridge, create a veth pair, "
                   f"add one end to that Linux bridge and give the other end to Kolla as neutron_external_interface.")
    return text, warning, str(ext.value) if ext.value else None


def _safe_resolve(model: Any, var: str, host: str) -> Any:
    try:
        return model.resolve(var, host).value
    except Exception:
        return None


def engine_for(ctx: Any, host: str) -> str:
    return _nodeio.container_engine(ctx, host)


def become_for(ctx: Any, host: str) -> bool:
    try:
        return bool(getattr(ctx.node(host), "become", False))
    except (WizardError, ProbeUnavailable):
        return False


# -- durable: provider networks on through Kolla ---------------------------------------------------
@remedy("provider-networks-durable", summary="Enable provider networks in globals.yml and reconfigure the compute")
def provider_networks_durable(ctx: Any, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    model = model_or_none(ctx)
    if not host or model is None:
        return []
    config_dir = model.config_dir
    globals_path = posixpath.join(config_dir, "globals.yml")
    old_globals = read_deploy_file(ctx, globals_path)
    if old_globals is None:
        return []
    from .. import yamlpos
    # A broken globals.yml: ConfigError with file:line, and no edit offered on top of it.
    if not isinstance(yamlpos.load(old_globals, globals_path), (dict, type(None))):
        from ..errors import ConfigError
        raise ConfigError(f"{globals_path}:1", "is not a mapping of variable: value; not editing it")
    new_globals = _edits.set_yaml_scalar(old_globals, PROVIDER_VAR, "yes",
                                         "give compute hosts the external bridge and bridge_mappings "
                                         "for provider (flat/VLAN) networks")
    yaml.safe_load(new_globals)  # the edited file must still parse (it does; a failure is a bug)
    actions: list[Any] = [_edits.file_edit(None, globals_path, old_globals, new_globals, "yaml")]
    diffs = [_edits.unified_diff(globals_path, old_globals, new_globals)]
    explain = [f"Set {PROVIDER_VAR}: \"yes\" in {globals_path}: globals.yml is passed as extra vars, which beat "
               f"every other place, so computes_need_external_bridge becomes true for every compute and Kolla "
               f"renders bridge_mappings and creates the bridge on them."]
    attempt = finding.facts.get("attempt") or {}
    where = str(attempt.get("where") or "")
    path, _, line = where.rpartition(":")
    if attempt and path and line.isdigit() and path == model.inventory_path:
        old_inv = read_deploy_file(ctx, path)
        new_inv = _edits.comment_out_line(old_inv or "", int(line),
                                          f"never took effect: [group:vars] loses to Kolla's group_vars/all; "
                                          f"{attempt.get('var')} is set in globals.yml now") if old_inv else None
        if new_inv:
            actions.append(_edits.file_edit(None, path, old_inv, new_inv, "inventory"))
            diffs.append(_edits.unified_diff(path, old_inv, new_inv))
            explain.append(f"Comment out the {attempt.get('label')} line at {where}: it never worked, because in "
                           f"Ansible's order Kolla's playbook group_vars/all beats inventory-file group vars; leaving "
                           f"it there misleads the next reader.")
    note, warning, _iface = interface_note(ctx, host)
    explain.append(note)
    argv = reconfigure_command(ctx, host, OVS_TAGS)
    actions.append(NodeCommand(None, argv, timeout=3600.0))
    explain.append("Then reconfigure the compute with both tags: the openvswitch role creates the bridge and plugs "
                   "the interface, the neutron role renders bridge_mappings and restarts the agent. With the "
                   "neutron tag alone the agent would get a mapping to a bridge that does not exist and exit.")
    return [Remedy(
        id="enable-provider-networks", kind="file_edit", durable=True,
        title=f"Enable provider networks in globals.yml and reconfigure {host}",
        explain=" ".join(explain), path=globals_path, host=None, diff="".join(diffs),
        command=join(argv), actions=actions, warning=warning, verify=finding.step)]


# -- quick: the report's hand edit of the deployed file --------------------------------------------
@remedy("bridge-mapping-quick", summary="Hand-edit the deployed openvswitch_agent.ini and restart the agent")
def bridge_mapping_quick(ctx: Any, finding: Finding) -> list[Remedy]:
    from ..probes.node_ovs import ovs_show

    host = target_host(finding)
    if not host:
        return []
    try:
        node = ctx.node(host)
        old = _nodeio.read_text(node, _nodeio.OVS_AGENT_INI)
    except (WizardError, ProbeUnavailable):
        return []
    if old is None:
        return []
    physnet, bridge = physnet_bridge(ctx, finding)
    from ..kolla.ini import parse_bridge_mappings, parse_ini
    current: dict[str, str] = {}
    try:
        value = parse_ini(old, _nodeio.OVS_AGENT_INI).get("ovs", "bridge_mappings")
        if value is not None:
            current = parse_bridge_mappings(value.value)
    except WizardError:
        return []
    # neutron requires unique bridges in bridge_mappings: drop another physnet mapped to this bridge.
    current = {k: v for k, v in current.items() if v != bridge or k == physnet}
    current[physnet] = bridge
    new = _edits.set_ini_option(old, "ovs", "bridge_mappings",
                                ",".join(f"{k}:{v}" for k, v in current.items()))
    engine = engine_for(ctx, host)
    sudo = become_for(ctx, host)
    actions: list[Any] = [_edits.file_edit(host, _nodeio.OVS_AGENT_INI, old, new, "ini")]
    commands: list[list[str]] = []
    explain = [f"Add bridge_mappings = {physnet}:{bridge} under [ovs] in {_nodeio.OVS_AGENT_INI} on {host} "
               f"(the seed report's own fix)."]
    warning = (f"This is a hand edit of a file Kolla owns: the next kolla-ansible deploy/reconfigure of {host} "
               f"renders the file again and removes the mapping. Apply the durable fix too.")
    unread = ""
    try:
        bridges, _raw, _cmd = ovs_show(ctx, node, host)
    except (WizardError, ProbeUnavailable) as exc:
        bridges = None
        unread = exc.one_line() if isinstance(exc, WizardError) else exc.reason
    if bridges is None:
        # Not knowing is not "it exists": a mapping to a missing bridge kills the agent, so make
        # sure the bridge exists in a way that is harmless when it already does.
        commands.append([engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "--may-exist", "add-br",
                         bridge])
        explain.append(f"Whether {bridge} exists on {host} could not be checked ({unread}); "
                       f"`ovs-vsctl --may-exist add-br {bridge}` creates it only if it is missing, so the agent "
                       f"does not exit with \"Bridge {bridge} ... does not exist. Agent terminated!\".")
        warning += (f" The bridges on {host} could not be read: check that {bridge} has an uplink "
                    f"(ovs-vsctl list-ports {bridge}) before relying on the physical network.")
    elif bridge not in bridges:
        commands.append([engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-br", bridge])
        explain.append(f"{bridge} does not exist on {host} yet: create it first, or the agent exits with "
                       f"\"Bridge {bridge} for physical network {physnet} does not exist. Agent terminated!\".")
        model = model_or_none(ctx)
        iface = _safe_resolve(model, "neutron_external_interface", host) if model is not None else None
        mgmt = {_safe_resolve(model, "network_interface", host), _safe_resolve(model, "api_interface", host)} \
            if model is not None else set()
        if iface and iface not in mgmt:
            commands.append([engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-port", bridge, str(iface)])
            explain.append(f"Plug {iface} (neutron_external_interface) into {bridge} so the physical network has an "
                           f"uplink on {host}.")
        elif iface:
            warning += (f" Not plugging {iface} into {bridge}: it is the management NIC and {host} would lose its IP "
                        f"path; use a veth pair from a Linux bridge instead.")
    commands.append([engine, "restart", _nodeio.OVS_AGENT_CONTAINER])
    explain.append(f"Restart {_nodeio.OVS_AGENT_CONTAINER}: Kolla copies the config into the container at start.")
    actions.extend(NodeCommand(host, argv, sudo=sudo, timeout=120.0) for argv in commands)
    return [Remedy(
        id="hand-edit-bridge-mapping", kind="file_edit", durable=False,
        title=f"Quick: add {physnet}:{bridge} to the deployed agent config on {host} and restart the agent",
        explain=" ".join(explain), path=_nodeio.OVS_AGENT_INI, host=host,
        diff=_edits.unified_diff(_nodeio.OVS_AGENT_INI, old, new),
        command="\n".join(join(c) for c in commands), actions=actions, warning=warning, verify=finding.step)]


# -- the other design: tenant network + router + floating IP ----------------------------------------
@remedy("use-tenant-network", summary="Boot on a tenant (VXLAN) network and reach the VM through a floating IP")
def use_tenant_network(ctx: Any, finding: Finding) -> list[Remedy]:
    from ..cloud import CloudError

    server = finding.facts.get("server") or {}
    network = finding.facts.get("network") or {}
    try:
        networks = ctx.cloud.networks()
    except CloudError:
        return []
    tenant = [n for n in networks if not n.get("is_router_external") and
              (n.get("provider_network_type") in (None, "vxlan", "geneve", "gre"))]
    external = [n for n in networks if n.get("is_router_external")]
    if not tenant:
        return []
    net = tenant[0]
    ext_id = network.get("id") if network.get("external") else (external[0].get("id") if external else None)
    create = ["openstack", "server", "create"]
    if server.get("image_id"):
        create += ["--image", server["image_id"]]
    if server.get("flavor"):
        create += option("--flavor", server["flavor"])
    create += ["--network", net["id"]]
    if server.get("key_name"):
        create += option("--key-name", server["key_name"])
    name = f"{server.get('name') or 'vm'}-tenant"
    create += positional(name)
    lines = [join(create)]
    if ext_id:
        lines.append(join(["openstack", "floating", "ip", "create", ext_id]))
        # server and address are both positionals: a name like "-rf-tenant" must come after "--"
        lines.append(join(["openstack", "server", "add", "floating", "ip", *(["--"] if name.startswith("-") else []),
                           name]) + " FLOATING_IP_ADDRESS")
    return [Remedy(
        id="use-tenant-network", kind="command", durable=True,
        title=f"Other design: boot on the tenant network {net.get('name')} and use a floating IP",
        explain=(f"Instead of attaching VMs straight to the flat network, boot them on the VXLAN tenant network "
                 f"{net.get('name')} (it binds on every compute without bridge mappings) and reach them through a "
                 f"floating IP: the router on the network node does 1:1 NAT between {network.get('name') or 'the external network'} "
                 f"and the tenant subnet. The router, its external gateway and the subnet interface must exist first: "
                 f"run `kolla-wizard diagnose --symptom fip-404` for them."),
        command="\n".join(lines), actions=[], verify=None)]


# -- config-not-deployed ---------------------------------------------------------------------------
@remedy("reconfigure-ovs", summary="Deploy the changed configuration to the host (reconfigure)")
def reconfigure_ovs(ctx: Any, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    if not host:
        return []
    argv = reconfigure_command(ctx, host, OVS_TAGS)
    return [Remedy(
        id="reconfigure-host", kind="command", durable=True,
        title=f"Reconfigure {host} with the openvswitch and neutron tags",
        explain=(f"Kolla would render the mapping for {host} now; reconfigure writes the new openvswitch_agent.ini "
                 f"there, creates and plugs the bridge (openvswitch tag) and restarts the agent (neutron tag)."),
        command=join(argv), host=None, actions=[NodeCommand(None, argv, timeout=3600.0)], verify=finding.step)]
