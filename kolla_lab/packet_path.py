"""The packet from the operator's LAN to an instance and back, hop by hop, as the lab's nodes and
cloud say it is. Each cause stops the packet where a real cloud would (kolla-facts §7, §10):

- another LAN machine holding the floating IP (the pool overlaps the home router's DHCP pool)
  answers ARP for it: ping replies, TCP 22 is refused by that machine;
- the router's L3 agent is down: the router NATs nothing for the floating IP;
- br-ex on the router's node has no uplink NIC, or Kolla's external NIC carries an address of its
  own (Kolla quickstart: "This interface should be active without IP address. If not, instances
  won't be able to access to the external networks."): no L2 path to the router's qg- port;
- the DHCP agent was down when the instance booted: the guest has no address;
- the underlay MTU minus VXLAN's 50 bytes is below the network's MTU: small packets (SYN, ping,
  the SSH banner) pass, full-size ones are dropped, so SSH hangs after the banner.
"""
from __future__ import annotations

VXLAN_OVERHEAD = 50
PATCH_PREFIXES = ("phy-", "int-", "patch-")
DNSMASQ_LOG = "/var/log/kolla/neutron/dnsmasq.log"


def lan_host(cloud, address: str) -> dict | None:
    return next((h for h in getattr(cloud, "lan_hosts", []) or [] if h.get("address") == address), None)


def l3_node(cloud, router: dict | None):
    if not router:
        return None
    return next((n for n in cloud.nodes.values() if n.hostname == router.get("_l3_host")), None)


def uplink(node) -> tuple[str | None, str]:
    """(the NIC plugged into br-ex, what is wrong with it: "" when nothing)."""
    ports = [p for p in node.ovs.get("br-ex", []) if p != "br-ex" and not p.startswith(PATCH_PREFIXES)]
    if not ports:
        return None, "no-uplink"
    nic = ports[0]
    if nic not in node.interfaces:
        return nic, "missing"
    if node.interface_addresses.get(nic):
        return nic, "has-address"
    return nic, ""


def guest_addressed(cloud, port: dict) -> bool:
    """A guest on a DHCP subnet has its address only if a DHCP agent served it at boot."""
    for ip in port.get("fixed_ips", []):
        sub = cloud.subnets.get(ip["subnet_id"]) or {}
        if sub.get("enable_dhcp") and not any(n.agent_alive("neutron_dhcp_agent") for n in cloud.nodes_in("network")):
            return False
    return True


def path_limit(cloud, port: dict) -> int:
    """The largest IP packet that reaches the guest: the underlay MTU, less VXLAN's 50 bytes on a
    tunnelled network (the network node and the compute both carry it)."""
    net = cloud.networks.get(port.get("network_id"), {})
    hosts = [n for n in cloud.nodes.values() if "network" in n.groups or n.hostname == port.get("binding:host_id")]
    underlay = min([n.mtu for n in hosts] or [1500])
    return underlay - VXLAN_OVERHEAD if net.get("provider:network_type") == "vxlan" else underlay


def mtu_too_big(cloud, port: dict) -> bool:
    net = cloud.networks.get(port.get("network_id"), {})
    return int(net.get("mtu") or 1500) > path_limit(cloud, port)


def dnsmasq_log(cloud, node) -> str | None:
    """dnsmasq's log (Kolla's dnsmasq.conf: log-facility=/var/log/kolla/neutron/dnsmasq.log): one
    DHCPACK per instance port the agent served; none for a guest that booted while it was down."""
    if "network" not in node.groups:
        return None
    if not node.agent_alive("neutron_dhcp_agent"):
        return ""
    lines = []
    for p in cloud.ports.values():
        if not p["device_owner"].startswith("compute:"):
            continue
        for ip in p["fixed_ips"]:
            if (cloud.subnets.get(ip["subnet_id"]) or {}).get("enable_dhcp"):
                dhcp_port = next((d for d in cloud.ports.values() if d["device_owner"] == "network:dhcp"
                                  and d["network_id"] == p["network_id"]), None)
                lines += dnsmasq_lease_lines((dhcp_port or p)["id"], ip["ip_address"], p["mac_address"])
    return "\n".join(lines) + ("\n" if lines else "")


def dnsmasq_lease_lines(dhcp_port_id: str, ip_address: str, mac: str) -> list[str]:
    """dnsmasq's lines for one lease it handed out on the network's DHCP port (tap<id[:11]>)."""
    dev = "tap" + dhcp_port_id[:11]
    host = "host-" + ip_address.replace(".", "-")
    return [f"Nov 29 09:12:03 dnsmasq-dhcp[2245]: DHCPDISCOVER({dev}) {mac}",
            f"Nov 29 09:12:03 dnsmasq-dhcp[2245]: DHCPOFFER({dev}) {ip_address} {mac}",
            f"Nov 29 09:12:03 dnsmasq-dhcp[2245]: DHCPACK({dev}) {ip_address} {mac} {host}"]
