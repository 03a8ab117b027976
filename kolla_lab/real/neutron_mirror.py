"""Real Neutron's routers, floating IPs and ports, mirrored into the lab's cloud model at the moment a
node's stand-in (ip netns, nc, ping, ssh-keyscan) answers from that model.

On the real backend the API is real Neutron: a router, a gateway or a floating IP that a fix creates
exists there only. The stand-ins answer from the model (kolla_lab/shell.py, packet_path.py), so
without this a router real Neutron has scheduled to a live L3 agent had no qrouter- namespace, and
its floating IP no NAT and no path. A real cloud's L3 agent builds, for each router it hosts,
qrouter-<router id> with a qg- device on the gateway port, qr- devices on the interfaces and the
floating IPs' DNAT/SNAT rules (neutron/agent/l3/router_info.py); the model computes those from its
routers, ports and floating IPs, so it gets real Neutron's, with their real IDs and addresses:

- routers, each on the host of the L3 agent real Neutron scheduled it to (GET
  /routers/{id}/l3-agents; the agent rows are the lab's, one per node running neutron_l3_agent);
- the router's gateway and interface ports, and each instance port real Neutron has, in place of the
  model's port for the same server on the same network (the model's own addresses are its own
  allocation, real Neutron's differ);
- the floating IPs, and the security-group rules those ports are judged by.

Networks and subnets keep the model's IDs (a mirrored object's network_id/subnet_id is translated by
name), so the model's own readers (DHCP, MTU, the uplink) keep working; where a stand-in prints a
network's id (the qdhcp- namespace) it prints real Neutron's (``cloud.real_network_ids``). Only the real lab reads real
Neutron here, through its own admin token: the lab never imports the wizard."""
from __future__ import annotations

import copy
from typing import Callable

ROUTER_OWNERS = ("network:router_gateway", "network:router_interface")
READS_DATA_PATH = {"ip", "nc", "ping", "ssh-keyscan"}


def reads_data_path(argv: list[str], engine: str) -> bool:
    """The stand-ins whose answer the model's routers, ports and floating IPs decide."""
    name = argv[0] if argv else ""
    return name in READS_DATA_PATH or (name == engine and "netns" in argv)


def read_neutron(neutron: Callable[[str, str], dict]) -> dict:
    """Real Neutron's side of the data path, read with the lab's admin token (outside any lock)."""
    routers = neutron("GET", "/routers")["routers"]
    hosts: dict[str, str] = {}
    for router in routers:
        agents = neutron("GET", f"/routers/{router['id']}/l3-agents").get("agents", [])
        agent = next((a for a in agents if a.get("alive")), agents[0] if agents else None)
        hosts[router["id"]] = str(agent.get("host") or "") if agent else ""
    return {"routers": routers, "l3_hosts": hosts,
            "networks": neutron("GET", "/networks")["networks"],
            "subnets": neutron("GET", "/subnets")["subnets"],
            "ports": neutron("GET", "/ports")["ports"],
            "floatingips": neutron("GET", "/floatingips")["floatingips"],
            "sg_rules": neutron("GET", "/security-group-rules")["security_group_rules"]}


def apply(cloud, real: dict, server_name: Callable[[str], str | None]) -> None:
    """Put ``real`` (read_neutron's answer) into ``cloud``; call under ``cloud.lock``. The model's
    own routers, floating IPs and router ports give way to real Neutron's on the first call; each
    call replaces what the previous one mirrored."""
    mirrored = getattr(cloud, "_neutron_mirror", None)
    if mirrored is None:
        mirrored = {"routers": set(), "floatingips": set(), "ports": set(), "sg_rules": set()}
        cloud.routers.clear()
        cloud.floatingips.clear()
        for pid in [p["id"] for p in cloud.ports.values() if p["device_owner"] in ROUTER_OWNERS]:
            del cloud.ports[pid]
        cloud._neutron_mirror = mirrored
    for table, ids in mirrored.items():
        store = getattr(cloud, table)
        for key in ids:
            store.pop(key, None)
        ids.clear()

    model_nets = {n["name"]: n["id"] for n in cloud.networks.values()}
    net_ids = {n["id"]: model_nets.get(n["name"]) for n in real["networks"]}
    # The DHCP agent names its namespace after real Neutron's network id (qdhcp-<id>); the model
    # keeps its own ids, so the stand-ins that print the id look the real one up here.
    cloud.real_network_ids = {model: real_id for real_id, model in net_ids.items() if model}
    model_subs = {(s["network_id"], s["name"]): s["id"] for s in cloud.subnets.values()}
    sub_ids = {s["id"]: model_subs.get((net_ids.get(s["network_id"]), s["name"])) for s in real["subnets"]}
    servers = {s["name"]: s["id"] for s in cloud.servers.values()}

    def fixed_ips(port: dict) -> list[dict] | None:
        out = [{"subnet_id": sub_ids.get(ip["subnet_id"]), "ip_address": ip["ip_address"]}
               for ip in port.get("fixed_ips", [])]
        return None if any(ip["subnet_id"] is None for ip in out) else out

    for router in real["routers"]:
        gw = copy.deepcopy(router.get("external_gateway_info"))
        if gw:
            gw["network_id"] = net_ids.get(gw.get("network_id"))
            gw["external_fixed_ips"] = [{"subnet_id": sub_ids.get(ip.get("subnet_id")), "ip_address": ip.get("ip_address")}
                                        for ip in gw.get("external_fixed_ips") or []]
        cloud.routers[router["id"]] = {**copy.deepcopy(router), "external_gateway_info": gw if gw and gw["network_id"] else None,
                                       "_l3_host": real["l3_hosts"].get(router["id"], "")}
        mirrored["routers"].add(router["id"])

    for port in real["ports"]:
        network_id, ips = net_ids.get(port["network_id"]), fixed_ips(port)
        if network_id is None or ips is None:
            continue
        view = {**copy.deepcopy(port), "network_id": network_id, "fixed_ips": ips}
        if port["device_owner"] in ROUTER_OWNERS:
            if port["device_id"] not in cloud.routers:
                continue
        elif port["device_owner"].startswith("compute:"):
            server_id = servers.get(server_name(port["device_id"]) or "")
            if server_id is None:
                continue
            view["device_id"] = server_id
            # The model's own port for this server on this network gives way to Neutron's.
            for pid in [p["id"] for p in cloud.ports.values() if p["id"] not in mirrored["ports"]
                        and p["device_id"] == server_id and p["network_id"] == network_id]:
                del cloud.ports[pid]
        else:
            continue
        cloud.ports[port["id"]] = view
        mirrored["ports"].add(port["id"])

    for fip in real["floatingips"]:
        network_id = net_ids.get(fip["floating_network_id"])
        if network_id is None:
            continue
        cloud.floatingips[fip["id"]] = {**copy.deepcopy(fip), "floating_network_id": network_id,
                                        "port_id": fip["port_id"] if fip.get("port_id") in cloud.ports else None}
        mirrored["floatingips"].add(fip["id"])

    groups = {g for p in cloud.ports.values() if p["id"] in mirrored["ports"] for g in p.get("security_groups") or []}
    for rule in real["sg_rules"]:
        if rule["security_group_id"] in groups:
            cloud.sg_rules[rule["id"]] = copy.deepcopy(rule)
            mirrored["sg_rules"].add(rule["id"])
