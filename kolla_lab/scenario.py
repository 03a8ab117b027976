"""Scenario files: load (with ``base:`` inheritance and deep merge), validate with file:line
errors, and build the live model (nodes + cloud) from them."""
from __future__ import annotations

import ipaddress
import posixpath
from pathlib import Path

from .expectations import known_findings
from .yamlpos import LDict, LList, ScenarioError, load_yaml

SCENARIO_DIR = Path(__file__).parent / "scenarios"
TOP_KEYS = {"name", "description", "base", "release", "operator_address", "region", "expect", "cloud", "nodes",
            "ssh_user", "deploy_node", "faults"}
CLOUD_KEYS = {"admin", "flavors", "images", "keypairs", "networks", "routers", "security_group_rules", "servers",
              "flat_physnets", "floating_ips", "security_groups", "lan_hosts", "vlan_ranges"}
NODE_KEYS = {"hostname", "address", "groups", "deploy", "files", "containers", "ovs", "render_vars", "interfaces",
             "interface_addresses", "mtu", "nova_host", "kvm", "nova_service", "resources", "availability_zone", "cell_mapped", "_delete", "galera",
             "rabbitmq", "keepalived"}


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    candidate = SCENARIO_DIR / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    raise ScenarioError(str(name_or_path), f"no such scenario (known: {', '.join(list_scenarios())})")


def merge(base, over):
    """Deep merge: mappings recursively; lists of named mappings by ``name`` (``_delete: true``
    drops one); other lists and scalars are replaced. ``_replace: true`` replaces a mapping."""
    if isinstance(base, dict) and isinstance(over, dict):
        if over.get("_replace"):
            out = type(over)((k, v) for k, v in over.items() if k != "_replace")
            _copy_pos(over, out)
            return out
        out = type(base)(base)
        _copy_pos(base, out)
        for k, v in over.items():
            if isinstance(v, dict) and v.get("_delete") is True:
                out.pop(k, None)
            elif k in out:
                out[k] = merge(out[k], v)
            else:
                out[k] = v
            if hasattr(out, "key_lines") and hasattr(over, "key_lines"):
                out.key_lines = dict(out.key_lines)
                out.key_lines[str(k)] = over.line_of(k)
                out.key_srcs = dict(getattr(out, "key_srcs", {}))
                out.key_srcs[str(k)] = getattr(over, "src", "?")
        return out
    if isinstance(base, list) and isinstance(over, list) and all(isinstance(i, dict) and "name" in i for i in base + over):
        out = LList(base)
        _copy_pos(over, out)
        for item in over:
            idx = next((i for i, b in enumerate(out) if b["name"] == item["name"]), None)
            if item.get("_delete") is True:
                if idx is not None:
                    out.pop(idx)
            elif idx is None:
                out.append(item)
            else:
                out[idx] = merge(out[idx], item)
        return out
    return over


def _copy_pos(src, dst):
    for attr in ("line", "src", "key_lines", "item_lines", "key_srcs"):
        if hasattr(src, attr):
            setattr(dst, attr, getattr(src, attr))


def load_scenario(name_or_path: str, _depth: int = 0) -> LDict:
    path = resolve(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"{path}:{line}", "not UTF-8 text; is this really a scenario file?") from None
    data = load_yaml(text, str(path))
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1", "a scenario must be a mapping")
    for key in data:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{path}:{data.line_of(key)}", f"unknown key {key!r} (allowed: {', '.join(sorted(TOP_KEYS))})")
    if "base" in data:
        if _depth > 5:
            raise ScenarioError(f"{path}:{data.line_of('base')}", "base: chain too deep")
        base_ref = data["base"]
        if not isinstance(base_ref, str):
            raise ScenarioError(f"{path}:{data.line_of('base')}", "base must be a scenario name")
        ref = base_ref if (SCENARIO_DIR / f"{base_ref}.yaml").exists() else str(path.parent / base_ref)
        try:
            resolve(ref)
        except ScenarioError as exc:   # name the file and line that asked for it
            raise ScenarioError(f"{path}:{data.line_of('base')}", f"base {base_ref!r}: {exc.message}") from None
        base = load_scenario(ref, _depth + 1)
        own = LDict((k, v) for k, v in data.items() if k != "base")
        _copy_pos(data, own)
        base.pop("expect", None)
        data = merge(base, own)
        data.src = str(path)
    validate(data, str(path))
    return data


def _where(obj, key=None) -> str:
    src = getattr(obj, "key_srcs", {}).get(str(key), getattr(obj, "src", "?")) if key is not None else getattr(obj, "src", "?")
    line = obj.line_of(key) if (key is not None and isinstance(obj, LDict)) else getattr(obj, "line", 0)
    return f"{src}:{line}"


def _need(obj, key, types, what=None):
    if key not in obj:
        raise ScenarioError(_where(obj), f"missing required key {key!r}" + (f" ({what})" if what else ""))
    if not isinstance(obj[key], types):
        tname = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise ScenarioError(_where(obj, key), f"{key!r} must be a {tname}")
    return obj[key]


def validate(data: LDict, path: str) -> None:
    _need(data, "name", str)
    expect = _need(data, "expect", dict, "symptom -> finding IDs")
    findings = known_findings() if expect else {}   # the playbooks say which symptoms and findings exist
    for sym, ids in expect.items():
        if sym not in findings:
            raise ScenarioError(_where(expect, sym), f"unknown symptom {sym!r} (known: {', '.join(sorted(findings))})")
        if not isinstance(ids, list):
            raise ScenarioError(_where(expect, sym), f"expect.{sym} must be a list of finding IDs")
        for i, fid in enumerate(ids):
            if fid not in findings[sym]:
                line = ids.line_at(i) if isinstance(ids, LList) else expect.line_of(sym)
                raise ScenarioError(f"{getattr(expect, 'src', path)}:{line}",
                                    f"unknown finding {fid!r} for {sym} (known: {', '.join(sorted(findings[sym]))})")
    if "operator_address" in data:
        _ip(data, "operator_address")
    if "faults" in data:
        from .faults import validate_spec
        validate_spec(data["faults"], lambda obj, key: _where(obj, key) if key is not None or hasattr(obj, "line")
                      else f"{path}:0", ScenarioError)
    nodes = _need(data, "nodes", dict)
    deploy_count = 0
    for name, spec in nodes.items():
        if not isinstance(spec, dict):
            raise ScenarioError(_where(nodes, name), f"node {name!r} must be a mapping")
        for key in spec:
            if key not in NODE_KEYS:
                raise ScenarioError(_where(spec, key), f"unknown node key {key!r} (allowed: {', '.join(sorted(NODE_KEYS))})")
        _ip(spec, "address")
        if "groups" in spec and not isinstance(spec["groups"], list):
            raise ScenarioError(_where(spec, "groups"), "groups must be a list of inventory groups")
        files = spec.get("files", {})
        if not isinstance(files, dict):
            raise ScenarioError(_where(spec, "files"), "files must map absolute paths to text")
        for fpath, text in files.items():
            if not str(fpath).startswith("/"):
                raise ScenarioError(_where(files, fpath), f"file path {fpath!r} must be absolute")
            if not isinstance(text, str):
                raise ScenarioError(_where(files, fpath), f"content of {fpath} must be text (use a | block)")
        containers = spec.get("containers", {})
        if not isinstance(containers, dict):
            raise ScenarioError(_where(spec, "containers"), "containers must map a container name to its state")
        for cname, cspec in containers.items():
            if cspec is None:
                continue
            if not isinstance(cspec, dict):
                raise ScenarioError(_where(containers, cname), f"container {cname!r} must be a mapping")
            status = cspec.get("status", "running")
            if status not in ("running", "exited", "restarting", "absent"):
                raise ScenarioError(_where(cspec, "status"), f"container status {status!r} must be running, exited, restarting or absent")
        if "nova_host" in spec and (not isinstance(spec["nova_host"], str) or not spec["nova_host"].strip()):
            raise ScenarioError(_where(spec, "nova_host"), "nova_host must be the host name nova-compute reports "
                                "(e.g. compute01.homelab.lan)")
        service = spec.get("nova_service")
        if service is not None and (not isinstance(service, dict)
                                    or set(service) - {"disabled_reason", "forced_down", "consuming"}):
            raise ScenarioError(_where(spec, "nova_service"), "nova_service takes disabled_reason (text: the "
                                "service is disabled), forced_down (true/false) and consuming (false: its "
                                "compute.<host> queue has no consumer)")
        resources = spec.get("resources")
        if resources is not None and (not isinstance(resources, dict)
                                      or set(resources) - {"vcpus", "memory_mb", "disk_gb"}
                                      or not all(isinstance(v, int) and v > 0 for v in resources.values())):
            raise ScenarioError(_where(spec, "resources"), "resources takes vcpus, memory_mb and disk_gb (positive "
                                "whole numbers: the size the compute reports to Placement)")
        if "availability_zone" in spec and (not isinstance(spec["availability_zone"], str)
                                            or not spec["availability_zone"].strip()):
            raise ScenarioError(_where(spec, "availability_zone"), "availability_zone must name the zone of the "
                                "host aggregate the compute is in (e.g. az2)")
        if "cell_mapped" in spec and not isinstance(spec["cell_mapped"], bool):
            raise ScenarioError(_where(spec, "cell_mapped"), "cell_mapped must be true or false")
        if "kvm" in spec and not isinstance(spec["kvm"], bool):
            raise ScenarioError(_where(spec, "kvm"), "kvm must be true or false (false: no vmx/svm, no /dev/kvm)")
        ovs = spec.get("ovs")
        if ovs is not None and not isinstance(ovs, dict):
            raise ScenarioError(_where(spec, "ovs"), "ovs must map bridge names to port lists")
        if spec.get("deploy"):
            deploy_count += 1
    if deploy_count != 1:
        raise ScenarioError(_where(data, "nodes"), "exactly one node must have deploy: true")
    cloud = _need(data, "cloud", dict)
    for key in cloud:
        if key not in CLOUD_KEYS:
            raise ScenarioError(_where(cloud, key), f"unknown cloud key {key!r} (allowed: {', '.join(sorted(CLOUD_KEYS))})")
    names = {"networks": set(), "subnets": set(), "images": set(), "flavors": set(), "keypairs": set()}
    for kind in ("images", "flavors", "keypairs"):
        for item in _named_list(cloud, kind):
            names[kind].add(item["name"])
    flat_physnets_used: dict[str, str] = {}
    for net in _named_list(cloud, "networks"):
        ntype = net.get("network_type", "vxlan")
        if ntype not in ("flat", "vlan", "vxlan"):
            raise ScenarioError(_where(net, "network_type"), f"network_type {ntype!r} must be flat, vlan or vxlan")
        if ntype in ("flat", "vlan") and not net.get("physical_network"):
            raise ScenarioError(_where(net), f"network {net['name']!r}: a {ntype} network needs physical_network")
        if ntype == "vlan":
            # Kolla renders [ml2_type_vlan] network_vlan_ranges empty: Neutron refuses every VLAN provider
            # network until an ml2_conf.ini override lists the physical network (cloud.vlan_ranges here).
            ranges = [str(r) for r in (cloud.get("vlan_ranges") or [])]
            physnet = str(net.get("physical_network"))
            if not any(r.split(":")[0] == physnet for r in ranges):
                raise ScenarioError(_where(net, "network_type"), f"network {net['name']!r}: a VLAN network on "
                                    f"{physnet!r} needs cloud.vlan_ranges to list it (Kolla renders network_vlan_ranges "
                                    f"empty, so Neutron refuses it: \"physical_network '{physnet}' unknown for VLAN "
                                    f"provider network\")")
        if ntype == "flat":
            # Neutron's type_flat driver allows one flat network per physical network (FlatNetworkInUse).
            physnet = str(net.get("physical_network"))
            if physnet in flat_physnets_used:
                raise ScenarioError(_where(net, "physical_network"),
                                    f"network {net['name']!r}: physical network {physnet!r} already has the flat network "
                                    f"{flat_physnets_used[physnet]!r}; Neutron refuses a second one (FlatNetworkInUse)")
            flat_physnets_used[physnet] = net["name"]
        names["networks"].add(net["name"])
        for sub in _named_list(net, "subnets"):
            try:
                ipaddress.ip_network(str(sub.get("cidr")), strict=False)
            except ValueError:
                raise ScenarioError(_where(sub, "cidr"), f"subnet {sub['name']!r}: invalid cidr {sub.get('cidr')!r}") from None
            names["subnets"].add(sub["name"])
    for router in _named_list(cloud, "routers"):
        gw = router.get("external_gateway")
        if gw is not None and gw not in names["networks"]:
            raise ScenarioError(_where(router, "external_gateway"), f"router {router['name']!r}: unknown network {gw!r}")
        for sub in router.get("interfaces", []) or []:
            if sub not in names["subnets"]:
                raise ScenarioError(_where(router, "interfaces"), f"router {router['name']!r}: unknown subnet {sub!r}")
    for server in _named_list(cloud, "servers"):
        for key, kind in (("image", "images"), ("flavor", "flavors"), ("network", "networks")):
            if server.get(key) not in names[kind]:
                raise ScenarioError(_where(server, key) if key in server else _where(server),
                                    f"server {server['name']!r}: unknown {key} {server.get(key)!r}")
        extra = server.get("extra_networks", [])
        if not isinstance(extra, list):
            raise ScenarioError(_where(server, "extra_networks"), f"server {server['name']!r}: extra_networks must be "
                                "a list of network names (one more port on each, after network's)")
        for net_name in extra:
            if net_name not in names["networks"]:
                raise ScenarioError(_where(server, "extra_networks"),
                                    f"server {server['name']!r}: unknown network {net_name!r} in extra_networks")
        kn = server.get("key_name")
        if kn is not None and kn not in names["keypairs"]:
            raise ScenarioError(_where(server, "key_name"), f"server {server['name']!r}: unknown key pair {kn!r}")
    servers = {sv["name"]: sv for sv in _named_list(cloud, "servers")}
    for fip in cloud.get("floating_ips", []) or []:
        if not isinstance(fip, dict):
            raise ScenarioError(_where(cloud, "floating_ips"), "each floating IP must be a mapping")
        wanted = fip.get("port_network")
        if wanted is not None:
            sv = servers.get(fip.get("server"))
            on = [sv.get("network"), *(sv.get("extra_networks") or [])] if sv else []
            if wanted not in on:
                raise ScenarioError(_where(fip, "port_network"), f"floating IP for {fip.get('server')!r}: the server has "
                                    f"no port on {wanted!r} (its networks: {', '.join(map(str, on)) or 'none'})")
    group_names = {"default"} | {g["name"] for g in _named_list(cloud, "security_groups")}
    for server in _named_list(cloud, "servers"):
        wanted = server.get("security_groups", [])
        if not isinstance(wanted, list):
            raise ScenarioError(_where(server, "security_groups"), f"server {server['name']!r}: security_groups must "
                                "be a list of group names")
        for name in wanted:
            if name not in group_names:
                raise ScenarioError(_where(server, "security_groups"), f"server {server['name']!r}: unknown security "
                                    f"group {name!r} (known: {', '.join(sorted(group_names))})")
    for rule in cloud.get("security_group_rules", []) or []:
        if not isinstance(rule, dict):
            raise ScenarioError(_where(cloud, "security_group_rules"), "each security group rule must be a mapping")
        if rule.get("group", "default") not in group_names:
            raise ScenarioError(_where(rule, "group"), f"unknown security group {rule.get('group')!r} (known: "
                                f"{', '.join(sorted(group_names))})")
        if rule.get("direction", "ingress") not in ("ingress", "egress"):
            raise ScenarioError(_where(rule, "direction"), f"direction {rule.get('direction')!r} must be ingress or egress")
        if rule.get("protocol") not in (None, "tcp", "udp", "icmp"):
            raise ScenarioError(_where(rule, "protocol"), f"protocol {rule.get('protocol')!r} must be tcp, udp or icmp")


def _named_list(obj, key) -> list:
    items = obj.get(key) or []
    if not isinstance(items, list):
        raise ScenarioError(_where(obj, key), f"{key} must be a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            line = items.line_at(i) if isinstance(items, LList) else getattr(items, "line", 0)
            raise ScenarioError(f"{getattr(items, 'src', '?')}:{line}", f"each entry of {key} needs a name")
    return items


def _ip(obj, key):
    if key in obj:
        try:
            ipaddress.ip_address(str(obj[key]))
        except ValueError:
            raise ScenarioError(_where(obj, key), f"{key} {obj[key]!r} is not an IP address") from None


def norm(path: str) -> str:
    return posixpath.normpath(path)
