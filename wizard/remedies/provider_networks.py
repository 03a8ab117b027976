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
from ..probe_context import ProbeContext
from ..i18n import t

PROVIDER_VAR = "enable_neutron_provider_networks"
OVS_TAGS = "openvswitch,neutron"


# -- shared helpers --------------------------------------------------------------------------------
def model_or_none(ctx: ProbeContext) -> Any:
    return _nodeio.kolla_or_none(ctx)


def target_host(finding: Finding) -> str | None:
    """The inventory name of the host at fault (the views/ovs facts carry it; else the API's name)."""
    facts = finding.facts
    return (facts.get("views") or {}).get("host") or (facts.get("ovs") or {}).get("inventory_host") or \
        finding.host or facts.get("host")


def reconfigure_command(ctx: ProbeContext, host: str | None, tags: str) -> list[str]:
    """``kolla-ansible reconfigure`` with ``--limit host`` (None: every host, as Kolla's docs advise;
    its operating guide warns against --limit)."""
    from ..kolla.cli_syntax import reconfigure_argv

    model = model_or_none(ctx)
    inventory = (getattr(model, "inventory_path", None) or ctx.settings.inventory
                 or posixpath.join(ctx.settings.kolla_config_dir, "multinode"))
    release = getattr(model, "release", None)
    return reconfigure_argv(inventory, tags=tags, limit=host, release=release)


def read_deploy_file(ctx: ProbeContext, path: str) -> str | None:
    """The deploy-host file as the diagnosis read it (the Kolla model read globals.yml and the
    inventory already); None when missing."""
    return _nodeio.deploy_file(ctx, path)


def physnet_bridge(ctx: ProbeContext, finding: Finding) -> tuple[str, str]:
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


# The NICs Kolla gives an IP address to (management, API, tunnel, migration, DNS, and up to 2024.1
# Swift's storage and replication NICs; group_vars/all): none may be plugged into an OVS bridge,
# or the host loses that path.
ADDRESSED_INTERFACES = ("network_interface", "api_interface", "tunnel_interface", "migration_interface",
                        "dns_interface", "swift_storage_interface", "swift_replication_interface")


def addressed_interfaces(model: Any, host: str) -> dict[str, str]:
    """{interface: the variable that gives it an address} for ``host`` (first variable wins)."""
    out: dict[str, str] = {}
    for var in ADDRESSED_INTERFACES:
        value = _safe_resolve(model, var, host)
        if value and isinstance(value, str) and "{" not in value:
            out.setdefault(value, var)
    return out


def interface_note(ctx: ProbeContext, host: str, hosts: list[str] | None = None) -> tuple[str, str | None, str | None]:
    """(explanation, warning, interface of ``host``) about neutron_external_interface on every host
    Kolla will plug it on (``hosts``; default: ``host`` alone)."""
    model = model_or_none(ctx)
    if model is None:
        return (t("Set neutron_external_interface for the compute group to a NIC (or veth end) that carries the "
                  "external network and has no IP address."), None, None)
    targets = list(dict.fromkeys(hosts or [host]))
    values: dict[str, str] = {}
    described: list[str] = []
    warnings: list[str] = []
    sources: dict[str, str] = {}       # host -> the extra-vars file that sets its value
    for name in targets:
        try:
            ext = model.resolve("neutron_external_interface", name)
        except Exception:
            continue
        value = str(ext.value) if ext.value else ""
        values[name] = value
        where = ext.winner.describe() if ext.winner else t("Kolla's default")
        if ext.winner is not None and ext.winner.level == "extra vars":
            sources[name] = ext.winner.label
        described.append(t("{value!r} on {host} ({where})", value=value, host=name, where=where) if len(targets) > 1
                         else t("there it is {value!r} ({where})", value=value, where=where))
        clash = addressed_interfaces(model, name).get(value)
        if clash:
            warnings.append(t("neutron_external_interface on {host} is {value!r}, the NIC {clash} gives an address to: "
                              "Kolla would plug it into the OVS bridge and {host} loses that IP path. With a single "
                              "NIC, put the host IP on a Linux bridge, create a veth pair, add one end to that Linux "
                              "bridge and give the other end to Kolla as neutron_external_interface.", host=name,
                              value=value, clash=clash))
        elif ext.winner is not None and ext.winner.level.startswith("Kolla default") and value == "eth1":
            warnings.append(t("neutron_external_interface on {host} is Kolla's default 'eth1' (set nowhere in your "
                              "configuration): check that {host} has an eth1 that carries the external network "
                              "(`ip -br link` on {host}) before the reconfigure plugs it into the bridge.", host=name))
    # Whether each host has that NIC at all: a missing one leaves the bridge without an uplink.
    links = _fan_links(ctx, [n for n in targets if values.get(n)])
    for name, names in links.items():
        if values.get(name) and values[name] not in names:
            warnings.append(t("{host} has no interface {value!r} (`ip -br link` lists {links}): "
                              "Kolla would add a port to the bridge that cannot open its device, so the physical network "
                              "has no uplink on {host}.", host=name, value=values[name],
                              links=', '.join(sorted(names)) or t("none")) + " "
                            + (t("{source} sets it for every host and extra vars beat per-host settings: move "
                                 "it out of there onto each host's inventory line (or host_vars) first.",
                                 source=sources.get(name))
                               if sources.get(name) else
                               t("Set neutron_external_interface for {host} on its inventory line (or host_vars) first.",
                                 host=name)))
    if not described:
        return (t("Set neutron_external_interface for the compute group to a NIC (or veth end) that carries the "
                  "external network and has no IP address."), None, None)
    plural = len(described) > 1
    text = ((t("Kolla will plug neutron_external_interface into the bridge on every one of these hosts: {values}.",
               values='; '.join(described)) if plural else
             t("Kolla will plug neutron_external_interface into the bridge on {host}; {values}.", host=host,
               values='; '.join(described)))
            + " " + t("Each must be a NIC or veth end that carries the external network and has "
                      "no IP address. Per-host values belong on the host's line in the inventory "
                      "(`{line}`) or in inventory host_vars/group_vars/compute; a value in "
                      "globals.yml or globals.d is an extra var and beats every per-host setting, and [compute:vars] "
                      "loses to Kolla's group_vars/all.", line=f"{host} neutron_external_interface=..."))
    return text, " ".join(warnings) or None, values.get(host) or None


def _fan_links(ctx: ProbeContext, hosts: list[str]) -> dict[str, set[str]]:
    """{host: interface names from `ip -br link`} for the hosts that answered (others left out)."""
    if not hosts or getattr(ctx, "nodes", None) is None and not hasattr(ctx, "node"):
        return {}

    def links(node: Any) -> set[str] | None:
        result = _nodeio.node_command(ctx, node, ["ip", "-br", "link"], timeout=20.0)
        if result.rc != 0:
            return None
        return {line.split()[0].split("@")[0] for line in result.stdout.splitlines()[:512] if line.split()}
    out: dict[str, set[str]] = {}
    for host, value in _nodeio.fan_out(ctx, hosts, links).items():
        if isinstance(value, set):
            out[host] = value
    return out


def _safe_resolve(model: Any, var: str, host: str) -> Any:
    try:
        return model.resolve(var, host).value
    except Exception:
        return None


def engine_for(ctx: ProbeContext, host: str) -> str:
    return _nodeio.container_engine(ctx, host)


def become_for(ctx: ProbeContext, host: str) -> bool:
    try:
        return bool(getattr(ctx.node(host), "become", False))
    except (WizardError, ProbeUnavailable):
        return False


# -- durable: provider networks on through Kolla ---------------------------------------------------
@remedy("enable-provider-networks", summary="Enable provider networks where the winning value lives and reconfigure the computes")
def provider_networks_durable(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    model = model_or_none(ctx)
    if not host or model is None:
        return []
    config_dir = model.config_dir
    target_path, target_label = winning_extra_vars_file(model, host, PROVIDER_VAR)
    old_globals = read_deploy_file(ctx, target_path)
    if old_globals is None:
        return []
    from .. import yamlpos
    # A broken globals.yml: ConfigError with file:line, and no edit offered on top of it.
    if not isinstance(yamlpos.load(old_globals, target_path), (dict, type(None))):
        from ..errors import ConfigError
        raise ConfigError(f"{target_path}:1", t("is not a mapping of variable: value; not editing it"))
    new_globals = _edits.set_yaml_scalar(old_globals, PROVIDER_VAR, "yes",
                                         "give compute hosts the external bridge and bridge_mappings "
                                         "for provider (flat/VLAN) networks")
    yaml.safe_load(new_globals)  # the edited file must still parse (it does; a failure is a bug)
    actions: list[Any] = [_edits.file_edit(None, target_path, old_globals, new_globals, "yaml")]
    diffs = [_edits.unified_diff(target_path, old_globals, new_globals)]
    if target_label == "globals.yml":
        explain = [t("Set {var}: \"yes\" in {path}: globals.yml is passed as extra vars, which beat "
                     "the inventory and Kolla's group_vars (only a globals.d file setting the same variable would beat "
                     "it, and none does), so computes_need_external_bridge becomes true for every compute and Kolla "
                     "renders bridge_mappings and creates the bridge on them.", var=PROVIDER_VAR, path=target_path)]
    else:
        explain = [t("Set {var}: \"yes\" in {path}: that {label} file sets it now, and kolla-ansible "
                     "passes globals.d files as extra vars after globals.yml, so the value there wins over globals.yml; "
                     "an edit of globals.yml would change nothing. computes_need_external_bridge then becomes true for "
                     "every compute.", var=PROVIDER_VAR, path=target_path, label=target_label)]
    attempt = finding.facts.get("attempt") or {}
    where = str(attempt.get("where") or "")
    path, _, line = where.rpartition(":")
    if attempt and path and line.isdigit() and path == model.inventory_path:
        old_inv = read_deploy_file(ctx, path)
        new_inv = _edits.comment_out_line(old_inv or "", int(line),
                                          f"never took effect: [group:vars] loses to Kolla's group_vars/all; "
                                          f"{attempt.get('var')} is set in {target_label} now") if old_inv else None
        if new_inv:
            actions.append(_edits.file_edit(None, path, old_inv, new_inv, "inventory"))
            diffs.append(_edits.unified_diff(path, old_inv, new_inv))
            explain.append(t("Comment out the {label} line at {where}: it never worked, because in "
                             "Ansible's order Kolla's playbook group_vars/all beats inventory-file group vars; leaving "
                             "it there misleads the next reader.", label=attempt.get('label'), where=where))
    computes = _nodeio.hosts_in_group(ctx, "compute") or [host]
    note, warning, _iface = interface_note(ctx, host, computes)
    explain.append(note)
    # The change flips every compute, so every compute gets the bridge: reconfigure them all, not
    # one with --limit (kolla-ansible's operating guide advises against --limit).
    argv = reconfigure_command(ctx, None, OVS_TAGS)
    run = NodeCommand(None, argv, timeout=3600.0)
    run.manual_undo = kolla_bridge_leftovers(ctx, computes)
    actions.append(run)
    explain.append(t("Then reconfigure with both tags and no --limit: the change applies to every compute "
                     "({computes}), and until each one is reconfigured ports keep failing to bind there. The "
                     "openvswitch role creates the bridge and plugs the interface, the neutron role renders "
                     "bridge_mappings and restarts the agent; hosts whose files do not change are left running. With "
                     "the neutron tag alone the agent would get a mapping to a bridge that does not exist and exit.",
                     computes=', '.join(computes)))
    return [Remedy(
        id="enable-provider-networks", kind="file_edit", durable=True,
        title=t("Enable provider networks in {label} and reconfigure every compute", label=target_label),
        explain=" ".join(explain), path=target_path, host=None, diff="".join(diffs),
        command=join(argv), actions=actions, warning=warning, verify=finding.step)]


def winning_extra_vars_file(model: Any, host: str, var: str) -> tuple[str, str]:
    """(path, label) of the extra-vars file whose value of ``var`` wins on ``host`` (a globals.d
    file beats globals.yml: kolla-ansible passes it later), else globals.yml."""
    globals_path = posixpath.join(model.config_dir, "globals.yml")
    try:
        winner = model.resolve(var, host).winner
    except Exception:
        return globals_path, "globals.yml"
    if winner is not None and winner.level == "extra vars" and str(winner.label).startswith("globals.d/"):
        path = winner.place.rpartition(":")[0] or winner.place
        return path, winner.label
    return globals_path, "globals.yml"


def kolla_bridge_leftovers(ctx: ProbeContext, hosts: list[str]) -> list[str]:
    """What a kolla-ansible run that enabled the external bridge leaves behind on ``hosts`` even after
    the configuration is put back (Kolla never removes a bridge or a plugged port), and the commands
    that remove it by hand."""
    model = model_or_none(ctx)
    out: list[str] = []
    for name in hosts:
        engine = engine_for(ctx, name)
        bridge, iface = "br-ex", None
        if model is not None:
            bridge = str(_safe_resolve(model, "neutron_bridge_name", name) or bridge).split(",")[0]
            iface = _safe_resolve(model, "neutron_external_interface", name)
        prefix = [engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "--if-exists"]
        if iface:
            out.append(f"on {name}: {join([*prefix, 'del-port', bridge, str(iface)])}")
        out.append(f"on {name}: {join([*prefix, 'del-br', bridge])}")
    return out


# -- quick: the report's hand edit of the deployed file --------------------------------------------
@remedy("hand-edit-bridge-mapping", summary="Hand-edit the deployed openvswitch_agent.ini and restart the agent")
def bridge_mapping_quick(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    from ..probes.node_ovs import ovs_show

    host = target_host(finding)
    if not host:
        return []
    try:
        node = ctx.node(host)
        old = _nodeio.node_text(ctx, node, _nodeio.OVS_AGENT_INI)   # as three-views read it
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
    explain = [t("Add {line} under [ovs] in {path} on {host} (the seed report's own fix).",
                 line=f"bridge_mappings = {physnet}:{bridge}", path=_nodeio.OVS_AGENT_INI, host=host)]
    warning = t("This is a hand edit of a file Kolla owns: the next kolla-ansible deploy/reconfigure of {host} "
                "renders the file again and removes the mapping. Apply the durable fix too.", host=host)
    unread = ""
    try:
        bridges, _raw, _cmd = ovs_show(ctx, node, host)
    except (WizardError, ProbeUnavailable) as exc:
        bridges = None
        unread = exc.one_line() if isinstance(exc, WizardError) else exc.reason
    # A mapping to a bridge with no physical port binds ports that have no L2 path: the VM goes
    # ACTIVE and reaches nothing. Without a known uplink the quick fix stops here.
    held = uplink_problem(ctx, host, bridge, bridges, unread)
    if held is not None:
        return [held_back_quick_fix(ctx, host, physnet, bridge, held, finding)]
    if bridge not in bridges:
        iface = str(_safe_resolve(model_or_none(ctx), "neutron_external_interface", host))
        commands.append([engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-br", bridge])
        commands.append([engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "add-port", bridge, iface])
        explain.append(t("{bridge} does not exist on {host} yet: create it first, or the agent exits with "
                         "\"{log}\". Plug {iface} (neutron_external_interface) into {bridge} so the physical network "
                         "has an uplink on {host}.", bridge=bridge, host=host, iface=iface,
                         log=f"Bridge {bridge} for physical network {physnet} does not exist. Agent terminated!"))
    commands.append([engine, "restart", _nodeio.OVS_AGENT_CONTAINER])
    explain.append(t("Restart {container}: Kolla copies the config into the container at start.",
                     container=_nodeio.OVS_AGENT_CONTAINER))
    actions.extend(NodeCommand(host, argv, sudo=sudo, timeout=120.0) for argv in commands)
    return [Remedy(
        id="hand-edit-bridge-mapping", kind="file_edit", durable=False,
        title=t("Quick: add {mapping} to the deployed agent config on {host} and restart the agent",
                mapping=f"{physnet}:{bridge}", host=host),
        explain=" ".join(explain), path=_nodeio.OVS_AGENT_INI, host=host,
        diff=_edits.unified_diff(_nodeio.OVS_AGENT_INI, old, new),
        command="\n".join(join(c) for c in commands), actions=actions, warning=warning, verify=finding.step)]


def uplink_problem(ctx: ProbeContext, host: str, bridge: str, bridges: dict[str, Any] | None, unread: str) -> str | None:
    """None when ``bridge`` on ``host`` has (or will get) a physical uplink; else why not."""
    if bridges is None:
        return t("the bridges on {host} could not be read ({unread}), so whether {bridge} has an uplink is unknown",
                 host=host, unread=unread, bridge=bridge)
    if bridge in bridges:
        ports = bridges[bridge].get("ports") or {}
        physical = [p for p, d in ports.items() if p != bridge and not (d or {}).get("type")
                    and not (d or {}).get("error")]
        if physical:
            return None
        return t("{bridge} exists on {host} but has no working physical port ({ports})", bridge=bridge, host=host,
                 ports=', '.join(sorted(ports)) or t("no ports"))
    model = model_or_none(ctx)
    iface = _safe_resolve(model, "neutron_external_interface", host) if model is not None else None
    if not iface or not isinstance(iface, str) or "," in iface or "{" in iface:
        return t("neutron_external_interface for {host} is not known, so {bridge} would get no uplink", host=host,
                 bridge=bridge)
    clash = addressed_interfaces(model, host).get(iface)
    if clash:
        return t("neutron_external_interface on {host} is {iface!r}, the NIC {clash} gives an address to: plugging "
                 "it into {bridge} cuts {host} off; use a veth pair from a Linux bridge instead", host=host, iface=iface,
                 clash=clash, bridge=bridge)
    links = _fan_links(ctx, [host]).get(host)
    if links is None:
        return t("the interfaces of {host} could not be listed, so whether {iface!r} exists is unknown", host=host,
                 iface=iface)
    if iface not in links:
        return t("{host} has no interface {iface!r} (`ip -br link` lists {links})", host=host, iface=iface,
                 links=', '.join(sorted(links)) or t("none"))
    return None


def held_back_quick_fix(ctx: ProbeContext, host: str, physnet: str, bridge: str, why: str, finding: Finding) -> Remedy:
    engine = engine_for(ctx, host)
    checks = [["ip", "-br", "link"], [engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "list-ports", bridge]]
    return Remedy(
        id="hand-edit-bridge-mapping", kind="command", durable=False,
        title=t("Quick fix held back on {host}: no known uplink for {bridge}", host=host, bridge=bridge),
        explain=t("The quick fix would map {physnet} to {bridge} on {host}, but {why}. A mapping to a bridge with no "
                  "physical port lets ports bind with no L2 path: the VM goes ACTIVE and reaches nothing. Find the NIC "
                  "(or veth end) that carries the external network on {host} with the commands below, set it as "
                  "neutron_external_interface for {host}, and use the durable fix.", physnet=physnet, bridge=bridge,
                  host=host, why=why),
        command="\n".join(join(c) for c in checks), host=host, actions=[],
        warning=t("Not applied: {why}.", why=why), verify=None)


# -- the other design: tenant network + router + floating IP ----------------------------------------
@remedy("use-tenant-network", summary="Boot on a tenant (VXLAN) network and reach the VM through a floating IP")
def use_tenant_network(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
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
        title=t("Other design: boot on the tenant network {network} and use a floating IP", network=net.get('name')),
        explain=t("Instead of attaching VMs straight to the flat network, boot them on the VXLAN tenant network "
                  "{network} (it binds on every compute without bridge mappings) and reach them through a "
                  "floating IP: the router on the network node does 1:1 NAT between {external} "
                  "and the tenant subnet. The router, its external gateway and the subnet interface must exist first: "
                  "run `kolla-wizard diagnose --symptom fip-404` for them.", network=net.get('name'),
                  external=network.get('name') or t("the external network")),
        command="\n".join(lines), actions=[], verify=None)]


# -- config-not-deployed ---------------------------------------------------------------------------
@remedy("reconfigure-host", summary="Deploy the changed configuration to the host (reconfigure)")
def reconfigure_ovs(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = target_host(finding)
    if not host:
        return []
    argv = reconfigure_command(ctx, host, OVS_TAGS)
    return [Remedy(
        id="reconfigure-host", kind="command", durable=True,
        title=t("Reconfigure {host} with the openvswitch and neutron tags", host=host),
        explain=t("Kolla would render the mapping for {host} now; reconfigure writes the new openvswitch_agent.ini "
                  "there, creates and plugs the bridge (openvswitch tag) and restarts the agent (neutron tag).", host=host),
        command=join(argv), host=None, actions=[NodeCommand(None, argv, timeout=3600.0)], verify=finding.step)]
