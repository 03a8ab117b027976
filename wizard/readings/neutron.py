"""Pure readings of Neutron/Nova data (the dicts CloudReader returns) shared by the network
probes: which network is external, which port belongs to a server, which routers join a subnet
to an external network, and how security groups treat one packet from one address.

No I/O here: every function takes the collections it needs, so the rules can be tested on
plain data and the probes stay short."""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable

from ..i18n import t

# Device owners Neutron accepts as "the router has an interface on this subnet"
# (neutron_lib.constants.ROUTER_INTERFACE_OWNERS).
ROUTER_INTERFACE_OWNERS = (
    "network:router_interface",
    "network:ha_router_replicated_interface",
    "network:router_interface_distributed",
)
ROUTER_GATEWAY_OWNER = "network:router_gateway"


def by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item.get("id"): item for item in items if item.get("id")}


def is_external(network: dict[str, Any] | None) -> bool:
    if not network:
        return False
    return bool(network.get("is_router_external", network.get("router:external", False)))


def network_fact(network: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": network.get("id"),
        "name": network.get("name") or network.get("id"),
        "type": network.get("provider_network_type"),
        "physnet": network.get("provider_physical_network"),
        "external": is_external(network),
    }


def server_fact(server: dict[str, Any]) -> dict[str, Any]:
    image = server.get("image") or {}
    return {
        "id": server.get("id"),
        "name": server.get("name") or server.get("id"),
        "status": server.get("status"),
        "host": server.get("compute_host") or server.get("hypervisor_hostname"),
        "image_id": image.get("id") if isinstance(image, dict) else image,
        "key_name": server.get("key_name"),
    }


def server_ports(server_id: str, ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in ports if p.get("device_id") == server_id and str(p.get("device_owner", "")).startswith("compute:")]


def first_ipv4(port: dict[str, Any]) -> tuple[str | None, str | None]:
    """(subnet_id, ip_address) of the port's first IPv4 fixed IP."""
    for ip in port.get("fixed_ips") or []:
        try:
            if ipaddress.ip_address(ip.get("ip_address", "")).version == 4:
                return ip.get("subnet_id"), ip.get("ip_address")
        except ValueError:
            continue
    fixed = (port.get("fixed_ips") or [{}])[0]
    return fixed.get("subnet_id"), fixed.get("ip_address")


def port_fact(port: dict[str, Any]) -> dict[str, Any]:
    subnet_id, ip = first_ipv4(port)
    return {"id": port.get("id"), "network_id": port.get("network_id"), "subnet_id": subnet_id, "fixed_ip": ip,
            "security_group_ids": list(port.get("security_group_ids") or [])}


def fip_for_port(port_id: str, fips: list[dict[str, Any]]) -> dict[str, Any] | None:
    for fip in fips:
        if fip.get("port_id") == port_id:
            return fip
    return None


def fip_fact(fip: dict[str, Any]) -> dict[str, Any]:
    return {"id": fip.get("id"), "address": fip.get("floating_ip_address"),
            "network_id": fip.get("floating_network_id"), "router_id": fip.get("router_id"),
            "fixed_ip": fip.get("fixed_ip_address")}


def router_interface_subnets(router_id: str, ports: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for p in ports:
        if p.get("device_id") == router_id and p.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            out.update(ip.get("subnet_id") for ip in p.get("fixed_ips") or [] if ip.get("subnet_id"))
    return out


def router_gateway_network(router: dict[str, Any]) -> str | None:
    info = router.get("external_gateway_info") or {}
    return info.get("network_id") if isinstance(info, dict) else None


def router_fact(router: dict[str, Any]) -> dict[str, Any]:
    return {"id": router.get("id"), "name": router.get("name") or router.get("id"),
            "gateway_network_id": router_gateway_network(router)}


def project_of(item: dict[str, Any]) -> str | None:
    return item.get("project_id") or item.get("tenant_id")


# --- security groups -------------------------------------------------------------------------

def _proto_matches(rule_proto: Any, protocol: str) -> bool:
    if rule_proto in (None, "", "any"):
        return True
    numbers = {"tcp": "6", "udp": "17", "icmp": "1"}
    value = str(rule_proto).lower()
    return value == protocol or value == numbers.get(protocol)


def rule_admits(rule: dict[str, Any], protocol: str, port: int | None, source: str | None) -> tuple[bool, str]:
    """Does this one ingress rule admit ``protocol``/``port`` from ``source``? (ok, why-not)."""
    if rule.get("direction") != "ingress":
        return False, "egress rule"
    ethertype = rule.get("ethertype") or "IPv4"
    version = ipaddress.ip_address(source).version if source else 4
    if ethertype != f"IPv{version}":
        return False, f"{ethertype} only"
    if not _proto_matches(rule.get("protocol"), protocol):
        return False, f"protocol {rule.get('protocol')}"
    if protocol in ("tcp", "udp") and rule.get("port_range_min") is not None:
        low = int(rule["port_range_min"])
        high = int(rule.get("port_range_max") if rule.get("port_range_max") is not None else low)
        if port is None or not low <= port <= high:
            return False, f"ports {low}-{high}" if low != high else f"port {low}"
    if rule.get("remote_group_id"):
        # Only ports that are members of that group match; the operator's machine is not a port.
        return False, f"only members of security group {rule['remote_group_id']}"
    if rule.get("remote_address_group_id"):
        return False, f"only address group {rule['remote_address_group_id']}"
    prefix = rule.get("remote_ip_prefix")
    if prefix:
        net = ipaddress.ip_network(prefix, strict=False)
        if source is None:
            if net.prefixlen != 0:
                return False, f"only {prefix} (your address is unknown)"
        elif ipaddress.ip_address(source) not in net:
            return False, f"only from {prefix}"
    return True, ""


def describe_rule(rule: dict[str, Any]) -> str:
    proto = rule.get("protocol") or "any"
    ports = ""
    if rule.get("port_range_min") is not None:
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        ports = f" port {low}" if low == high or high is None else f" ports {low}-{high}"
    if rule.get("remote_group_id"):
        remote = t("members of group {group}", group=rule['remote_group_id'])
    else:
        remote = rule.get("remote_ip_prefix") or ("0.0.0.0/0" if (rule.get("ethertype") or "IPv4") == "IPv4" else "::/0")
    return t("{rule} from {remote}", rule=f"{rule.get('direction')} {rule.get('ethertype') or 'IPv4'} {proto}{ports}",
             remote=remote)


def evaluate_security_groups(port: dict[str, Any], groups: list[dict[str, Any]], protocol: str,
                             dport: int | None, source: str | None) -> dict[str, Any]:
    """How the port's security groups treat one packet. Returns a dict with ``allowed``,
    ``admitting`` (rule descriptions that let it in), ``near_misses`` (ingress rules for this
    protocol that do not match, with the reason) and ``groups`` (id, name)."""
    if port.get("is_port_security_enabled") is False:
        return {"allowed": True, "admitting": [t("port security is disabled on this port")], "near_misses": [],
                "near_misses_shown": [], "groups": []}
    groups_by_id = by_id(groups)
    admitting: list[str] = []
    near: list[str] = []
    shown: list[str] = []    # near, in the operator's language (near itself is matched on by the probes)
    seen: list[dict[str, Any]] = []
    for sg_id in port.get("security_group_ids") or []:
        sg = groups_by_id.get(sg_id)
        if sg is None:
            near.append(f"security group {sg_id} is not visible to these credentials")
            shown.append(t("security group {group} is not visible to these credentials", group=sg_id))
            continue
        seen.append({"id": sg_id, "name": sg.get("name") or sg_id})
        for rule in sg.get("security_group_rules") or []:
            if rule.get("direction") != "ingress":
                continue
            ok, why = rule_admits(rule, protocol, dport, source)
            text = f"{sg.get('name') or sg_id}: {describe_rule(rule)}"
            if ok:
                admitting.append(text)
            elif _proto_matches(rule.get("protocol"), protocol):
                near.append(f"{text} (does not match: {why})")
                shown.append(t("{rule} (does not match: {why})", rule=text, why=_why_shown(why)))
    return {"allowed": bool(admitting), "admitting": admitting, "near_misses": near, "near_misses_shown": shown,
            "groups": seen}


_WHY_FORMS = [   # rule_admits' reasons (English, matched on) -> the key of their translation
    (re.compile(r"^egress rule$"), "egress rule"),
    (re.compile(r"^(?P<ethertype>\S+) only$"), "{ethertype} only"),
    (re.compile(r"^protocol (?P<protocol>.*)$"), "protocol {protocol}"),
    (re.compile(r"^ports (?P<ports>\S+)$"), "ports {ports}"),
    (re.compile(r"^port (?P<port>\S+)$"), "port {port}"),
    (re.compile(r"^only members of security group (?P<group>\S+)$"), "only members of security group {group}"),
    (re.compile(r"^only address group (?P<group>\S+)$"), "only address group {group}"),
    (re.compile(r"^only (?P<prefix>\S+) \(your address is unknown\)$"), "only {prefix} (your address is unknown)"),
    (re.compile(r"^only from (?P<prefix>\S+)$"), "only from {prefix}"),
]


def _why_shown(why: str) -> str:
    for pattern, key in _WHY_FORMS:
        match = pattern.match(why)
        if match:
            return t(key, **match.groupdict())
    return why
