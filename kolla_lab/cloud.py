"""The lab's OpenStack model: Keystone/Nova/Neutron/Glance resources and the behaviour computed
from them (scheduling, ML2/OVS port binding, floating IP routing, security groups, metadata)."""
from __future__ import annotations

import datetime as _dt
import ipaddress
import random
import secrets
import threading
import uuid

from . import nova_records, placement
from .nodes import NEUTRON_SERVER_LOG, OVS_AGENT, Node, log_stamp, now
from .nova_records import NOVA_PY


def iso(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_us(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


class CloudError(Exception):
    """An API error with its HTTP status, the service's exception class name and message."""

    def __init__(self, status: int, type_: str, message: str):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message


def not_found(kind: str, ident: str) -> CloudError:
    names = {"network": "Network", "subnet": "Subnet", "port": "Port", "router": "Router",
             "floatingip": "Floating IP", "security_group": "Security group",
             "security_group_rule": "Security group rule", "agent": "Agent"}
    types = {"network": "NetworkNotFound", "subnet": "SubnetNotFound", "port": "PortNotFound",
             "router": "RouterNotFound", "floatingip": "FloatingIPNotFound",
             "security_group": "SecurityGroupNotFound", "security_group_rule": "SecurityGroupRuleNotFound",
             "agent": "AgentNotFound"}
    if kind == "security_group":
        msg = f"Security group {ident} does not exist"
    elif kind == "security_group_rule":
        msg = f"Security group rule {ident} does not exist"
    else:
        msg = f"{names[kind]} {ident} could not be found."
    return CloudError(404, types[kind], msg)


def bad_request(resource: str, msg: str, type_: str = "BadRequest") -> CloudError:
    return CloudError(400, type_, f"Bad {resource} request: {msg}.")


class Cloud:
    def __init__(self, scenario_name: str, region: str, nodes: dict[str, Node], operator_address: str):
        self.lock = threading.RLock()
        self.region = region
        self.nodes = nodes
        self.operator_address = operator_address
        self._ns = uuid.uuid5(uuid.NAMESPACE_DNS, f"{scenario_name}.kolla-lab.invalid")
        self._seq = 0
        self.domains = {"default": {"id": "default", "name": "Default", "enabled": True, "description": "The default domain"}}
        self.projects: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.networks: dict[str, dict] = {}
        # model network id -> the id the real backend's Neutron gave it (empty on the embedded lab)
        self.real_network_ids: dict[str, str] = {}
        self.subnets: dict[str, dict] = {}
        self.ports: dict[str, dict] = {}
        self.routers: dict[str, dict] = {}
        self.floatingips: dict[str, dict] = {}
        self.lan_hosts: list[dict] = []   # other machines on the operator's LAN (address, mac, name)
        self.security_groups: dict[str, dict] = {}
        self.sg_rules: dict[str, dict] = {}
        self.keypairs: dict[str, dict] = {}
        self.flavors: dict[str, dict] = {}
        self.images: dict[str, dict] = {}
        self.servers: dict[str, dict] = {}
        self.actions: dict[str, list[dict]] = {}
        self.flat_physnets = {"physnet1"}
        self.vlan_ranges: list[str] = []     # ml2 [ml2_type_vlan] network_vlan_ranges (Kolla: empty)
        self.service_overrides: dict[str, dict] = {}   # nova-compute host -> {"host": name, ...}
        self.max_attempts = 3
        self.compute_backlog: dict[str, list[str]] = {}   # compute host -> server ids cast to compute.<host>, unconsumed
        self.scheduler_backlog = 0    # select_destinations calls left in the 'scheduler' queue (no consumer)
        self.unmapped_hosts: set[str] = set()   # computes `nova-manage cell_v2 discover_hosts` never mapped

    # --- helpers ---------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        self._seq += 1
        return str(uuid.uuid5(self._ns, f"{kind}-{self._seq}"))

    def mac(self) -> str:
        return "fa:16:3e:%02x:%02x:%02x" % tuple(random.randint(0, 255) for _ in range(3))

    def project(self) -> dict:
        return next(iter(self.projects.values()))

    def nodes_in(self, group: str) -> list[Node]:
        return [n for n in self.nodes.values() if group in n.groups]

    def controller(self) -> Node:
        for n in self.nodes.values():
            if "neutron_server" in n.containers:
                return n
        return next(iter(self.nodes.values()))

    def stamp(self, res: dict) -> dict:
        t = iso(now())
        res.setdefault("created_at", t)
        res["updated_at"] = t
        res["revision_number"] = res.get("revision_number", -1) + 1
        return res

    # --- identity ---------------------------------------------------------------------------
    def add_project(self, name: str) -> dict:
        pid = uuid.uuid5(self._ns, "project-" + name).hex
        p = {"id": pid, "name": name, "domain_id": "default", "enabled": True, "description": "",
             "is_domain": False, "parent_id": "default", "tags": [], "options": {}}
        self.projects[pid] = p
        self.add_default_sg(pid)
        return p

    def add_user(self, name: str, password: str, project_id: str) -> dict:
        uid = uuid.uuid5(self._ns, "user-" + name).hex
        u = {"id": uid, "name": name, "password": password, "domain_id": "default", "enabled": True,
             "default_project_id": project_id, "password_expires_at": None, "options": {}}
        self.users[uid] = u
        return u

    def authenticate(self, username: str, password: str, project_name: str | None) -> tuple[str, dict]:
        user = next((u for u in self.users.values() if u["name"] == username), None)
        if not user or not secrets.compare_digest(user["password"], password or ""):
            raise CloudError(401, "Unauthorized", "The request you have made requires authentication.")
        project = None
        if project_name:
            project = next((p for p in self.projects.values() if p["name"] == project_name or p["id"] == project_name), None)
            if not project:
                raise CloudError(401, "Unauthorized", "The request you have made requires authentication.")
        token = "gAAAAA" + secrets.token_urlsafe(96)
        t = now()
        info = {"user": user, "project": project, "issued": t, "expires": t + _dt.timedelta(hours=24),
                "audit": secrets.token_urlsafe(16)[:22]}
        self.tokens[token] = info
        return token, info

    def token_info(self, token: str | None) -> dict | None:
        info = self.tokens.get(token or "")
        if info and info["expires"] > now():
            return info
        return None

    # --- neutron ----------------------------------------------------------------------------
    def add_default_sg(self, project_id: str) -> dict:
        sg_id = self.new_id("sg")
        sg = self.stamp({"id": sg_id, "name": "default", "description": "Default security group",
                         "project_id": project_id, "tenant_id": project_id, "tags": [], "stateful": True,
                         "shared": False, "security_group_rules": []})
        self.security_groups[sg_id] = sg
        for direction, ethertype, remote in (("egress", "IPv4", None), ("egress", "IPv6", None),
                                             ("ingress", "IPv4", sg_id), ("ingress", "IPv6", sg_id)):
            desc = f"Legacy default SG rule for {direction} traffic"
            self.add_sg_rule({"security_group_id": sg_id, "direction": direction, "ethertype": ethertype,
                              "remote_group_id": remote, "description": desc}, project_id, check=False)
        return sg

    def add_security_group(self, name: str, project_id: str, description: str = "") -> dict:
        """A new group as Neutron creates it: no ingress rule, egress to anywhere (IPv4 and IPv6)."""
        sg_id = self.new_id("sg")
        item = self.stamp({"id": sg_id, "name": name, "description": description, "project_id": project_id,
                           "tenant_id": project_id, "tags": [], "stateful": True, "shared": False})
        self.security_groups[sg_id] = item
        for eth in ("IPv4", "IPv6"):
            self.add_sg_rule({"security_group_id": sg_id, "direction": "egress", "ethertype": eth}, project_id,
                             check=False)
        return item

    def default_sg(self, project_id: str) -> dict:
        return next(sg for sg in self.security_groups.values()
                    if sg["name"] == "default" and sg["project_id"] == project_id)

    def add_sg_rule(self, body: dict, project_id: str, check: bool = True) -> dict:
        sg_id = body.get("security_group_id")
        if sg_id not in self.security_groups:
            raise not_found("security_group", str(sg_id))
        proto = body.get("protocol")
        proto = str(proto).lower() if proto not in (None, "") else None
        pmin, pmax = body.get("port_range_min"), body.get("port_range_max")
        if proto in ("tcp", "udp") and pmin is not None and pmax is None:
            pmax = pmin
        rule = {"id": self.new_id("sgr"), "security_group_id": sg_id, "direction": body.get("direction", "ingress"),
                "ethertype": body.get("ethertype") or "IPv4", "protocol": proto,
                "port_range_min": int(pmin) if pmin is not None else None,
                "port_range_max": int(pmax) if pmax is not None else None,
                "remote_ip_prefix": body.get("remote_ip_prefix"), "remote_group_id": body.get("remote_group_id"),
                "remote_address_group_id": None, "normalized_cidr": body.get("remote_ip_prefix"),
                "description": body.get("description") or "", "project_id": project_id, "tenant_id": project_id,
                "tags": [], "belongs_to_default_sg": self.security_groups[sg_id]["name"] == "default"}
        if check:
            for other in self.sg_rules.values():
                keys = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min",
                        "port_range_max", "remote_ip_prefix", "remote_group_id")
                if all(other[k] == rule[k] for k in keys):
                    raise CloudError(409, "SecurityGroupRuleExists",
                                     f"Security group rule already exists. Rule id is {other['id']}.")
        self.stamp(rule)
        self.sg_rules[rule["id"]] = rule
        return rule

    def sg_view(self, sg: dict) -> dict:
        out = dict(sg)
        out["security_group_rules"] = [dict(r) for r in self.sg_rules.values() if r["security_group_id"] == sg["id"]]
        return out

    def add_network(self, body: dict, project_id: str) -> dict:
        ntype = body.get("provider:network_type") or "vxlan"
        physnet = body.get("provider:physical_network")
        seg = body.get("provider:segmentation_id")
        if ntype == "flat":
            if physnet not in self.flat_physnets:
                raise CloudError(400, "InvalidInput", "Invalid input for operation: physical_network "
                                 f"'{physnet}' unknown for flat provider network.")
            # neutron/plugins/ml2/drivers/type_flat.py reserve_provider_segment: one flat network
            # per physical network (neutron_lib FlatNetworkInUse, an InUse: 409).
            if any(n["provider:network_type"] == "flat" and n["provider:physical_network"] == physnet
                   for n in self.networks.values()):
                raise CloudError(409, "FlatNetworkInUse", "Unable to create the flat network. "
                                 f"Physical network {physnet} is in use.")
            seg = None
        elif ntype == "vlan":
            # type_vlan.py: the physical network must be in network_vlan_ranges (empty on Kolla's defaults).
            ranges = [r.split(":") for r in self.vlan_ranges if r.split(":")[0] == physnet]
            if not ranges:
                raise CloudError(400, "InvalidInput", "Invalid input for operation: physical_network "
                                 f"'{physnet}' unknown for VLAN provider network.")
            if seg is None:
                raise CloudError(400, "InvalidInput", "Invalid input for operation: segmentation_id required for "
                                 "VLAN provider network.")
        elif ntype in ("vxlan", "geneve", "gre"):
            physnet = None
            if seg is None:
                used = {n["provider:segmentation_id"] for n in self.networks.values()}
                seg = next(i for i in range(1, 100000) if i not in used)
        nid = self.new_id("net")
        net = self.stamp({
            "id": nid, "name": body.get("name", ""), "status": "ACTIVE", "admin_state_up": body.get("admin_state_up", True),
            "shared": bool(body.get("shared", False)), "router:external": bool(body.get("router:external", False)),
            "provider:network_type": ntype, "provider:physical_network": physnet, "provider:segmentation_id": seg,
            "mtu": 1500 if ntype in ("flat", "vlan") else 1450, "subnets": [], "project_id": project_id,
            "tenant_id": project_id, "availability_zone_hints": [], "availability_zones": ["nova"],
            "ipv4_address_scope": None, "ipv6_address_scope": None, "port_security_enabled": True,
            "description": body.get("description", ""), "tags": [], "is_default": False, "qos_policy_id": None,
            "l2_adjacency": True, "dns_domain": "", "router:external_hint": None})
        net.pop("router:external_hint")
        self.networks[nid] = net
        return net

    def add_subnet(self, body: dict, project_id: str) -> dict:
        net = self.networks.get(body.get("network_id"))
        if not net:
            raise not_found("network", str(body.get("network_id")))
        cidr = ipaddress.ip_network(body["cidr"], strict=False)
        gw = body.get("gateway_ip", str(next(cidr.hosts())))
        pools = body.get("allocation_pools")
        if not pools:
            hosts = [h for h in cidr.hosts() if str(h) != gw]
            pools = [{"start": str(hosts[0]), "end": str(hosts[-1])}]
        sid = self.new_id("subnet")
        sub = self.stamp({
            "id": sid, "name": body.get("name", ""), "network_id": net["id"], "cidr": str(cidr),
            "ip_version": cidr.version, "gateway_ip": gw, "enable_dhcp": bool(body.get("enable_dhcp", True)),
            "allocation_pools": [dict(p) for p in pools], "dns_nameservers": list(body.get("dns_nameservers", [])),
            "host_routes": [], "ipv6_ra_mode": None, "ipv6_address_mode": None, "subnetpool_id": None,
            "project_id": project_id, "tenant_id": project_id, "description": "", "tags": [],
            "service_types": [], "segment_id": None, "dns_publish_fixed_ip": False})
        self.subnets[sid] = sub
        net["subnets"].append(sid)
        if sub["enable_dhcp"]:
            net_nodes = self.nodes_in("network")
            host = net_nodes[0].hostname if net_nodes else ""
            dhcp = self.add_port({"network_id": net["id"], "device_owner": "network:dhcp",
                                  "device_id": "dhcp" + str(uuid.uuid5(self._ns, host)) + "-" + net["id"],
                                  "fixed_ips": [{"subnet_id": sid}]}, project_id, bind_host=host)
            dhcp["port_security_enabled"] = False
            dhcp["security_groups"] = []
        return sub

    def allocate_ip(self, subnet: dict, wanted: str | None = None) -> str:
        used = {ip["ip_address"] for p in self.ports.values() for ip in p["fixed_ips"] if ip["subnet_id"] == subnet["id"]}
        used |= {f["floating_ip_address"] for f in self.floatingips.values()}
        if wanted:
            if wanted in used:
                raise CloudError(409, "IpAddressAlreadyAllocated",
                                 f"IP address {wanted} already allocated in subnet {subnet['id']}")
            return wanted
        for pool in subnet["allocation_pools"]:
            ip = ipaddress.ip_address(pool["start"])
            end = ipaddress.ip_address(pool["end"])
            while ip <= end:
                if str(ip) not in used and str(ip) != subnet["gateway_ip"]:
                    return str(ip)
                ip += 1
        raise CloudError(409, "IpAddressGenerationFailure",
                         f"No more IP addresses available on network {subnet['network_id']}.")

    def add_port(self, body: dict, project_id: str, bind_host: str | None = None) -> dict:
        net = self.networks.get(body.get("network_id"))
        if not net:
            raise not_found("network", str(body.get("network_id")))
        fixed = []
        wanted = body.get("fixed_ips")
        if wanted:
            for item in wanted:
                sub = self.subnets.get(item.get("subnet_id")) if item.get("subnet_id") else \
                    self.subnets[net["subnets"][0]]
                fixed.append({"subnet_id": sub["id"], "ip_address": self.allocate_ip(sub, item.get("ip_address"))})
        elif net["subnets"]:
            sub = self.subnets[net["subnets"][0]]
            fixed.append({"subnet_id": sub["id"], "ip_address": self.allocate_ip(sub)})
        pid = self.new_id("port")
        owner = body.get("device_owner", "")
        sgs = body.get("security_groups")
        if sgs is None:
            sgs = [] if owner.startswith("network:") else [self.default_sg(project_id)["id"]]
        port = self.stamp({
            "id": pid, "name": body.get("name", ""), "network_id": net["id"], "mac_address": self.mac(),
            "admin_state_up": True, "status": "DOWN", "device_id": body.get("device_id", ""), "device_owner": owner,
            "fixed_ips": fixed, "security_groups": list(sgs), "port_security_enabled": not owner.startswith("network:"),
            "project_id": project_id, "tenant_id": project_id, "allowed_address_pairs": [], "extra_dhcp_opts": [],
            "binding:host_id": "", "binding:vif_type": "unbound", "binding:vnic_type": "normal",
            "binding:profile": {}, "binding:vif_details": {}, "description": "", "tags": [],
            "dns_name": "", "dns_assignment": [], "qos_policy_id": None, "qos_network_policy_id": None,
            "propagate_uplink_status": False, "resource_request": None, "ip_allocation": "immediate"})
        self.ports[pid] = port
        if bind_host:
            self.bind_port(port, bind_host)
        return port

    def ovs_agent_node(self, host: str) -> Node | None:
        for n in self.nodes.values():
            if OVS_AGENT in n.containers and n.hostname == host:
                return n
        return None

    def bind_port(self, port: dict, host: str, global_id: str | None = None) -> bool:
        """ML2/OVS mech_agent: bind on ``host`` if an alive OVS agent there can serve the segment.
        ``global_id``: the caller's request id, which Nova sends as X-OpenStack-Request-ID
        (nova/network/neutron.py get_client, global_request_id=context.global_id) and neutron's
        log prints first in the context brackets."""
        net = self.networks[port["network_id"]]
        port["binding:host_id"] = host
        node = self.ovs_agent_node(host)
        ok = False
        if node and node.agent_alive():
            ntype = net["provider:network_type"]
            if ntype in ("flat", "vlan"):
                ok = net["provider:physical_network"] in node.agent_mappings()
            else:
                types = [t.strip() for t in node.agent_config().get("agent", {}).get("tunnel_types", "").split(",")]
                ok = ntype in types
        if ok:
            port["binding:vif_type"] = "ovs"
            port["binding:vif_details"] = {"connectivity": "l2", "port_filter": True, "ovs_hybrid_plug": True,
                                           "datapath_type": "system", "bridge_name": "br-int"}
            port["status"] = "ACTIVE"
        else:
            port["binding:vif_type"] = "binding_failed"
            port["binding:vif_details"] = {}
            port["status"] = "DOWN"
            seg = {"id": str(uuid.uuid5(self._ns, "segment-" + net["id"])), "network_type": net["provider:network_type"],
                   "physical_network": net["provider:physical_network"],
                   "segmentation_id": net["provider:segmentation_id"], "network_id": net["id"]}
            ctl = self.controller()
            req = "req-" + str(uuid.uuid4())
            pid = self.project()["id"]
            tag = f"[{global_id or 'None'} {req} {next(iter(self.users))} {pid} - - default default]"
            # neutron/plugins/ml2/plugin.py _bind_port_if_needed tries MAX_BIND_TRIES (10) times,
            # logging "Attempt %(count)s to bind port %(port)s" before each retry.
            for attempt in range(1, 11):
                if attempt > 1:
                    ctl.append_log(NEUTRON_SERVER_LOG, f"{log_stamp()} 24 INFO neutron.plugins.ml2.plugin {tag} "
                                   f"Attempt {attempt} to bind port {port['id']}")
                ctl.append_log(NEUTRON_SERVER_LOG, f"{log_stamp()} 24 ERROR neutron.plugins.ml2.managers {tag} "
                               f"Failed to bind port {port['id']} "
                               f"on host {host} for vnic_type normal using segments [{seg!r}]")
        self.stamp(port)
        return ok

    def delete_port(self, port_id: str) -> None:
        port = self.ports.pop(port_id, None)
        if port:
            for fip in self.floatingips.values():
                if fip["port_id"] == port_id:
                    self._disassociate(fip)

    def network_node(self) -> Node | None:
        nodes = self.nodes_in("network")
        return nodes[0] if nodes else None

    def add_router(self, body: dict, project_id: str) -> dict:
        rid = self.new_id("router")
        l3 = self.network_node()
        router = self.stamp({
            "id": rid, "name": body.get("name", ""), "status": "ACTIVE", "admin_state_up": body.get("admin_state_up", True),
            "external_gateway_info": None, "routes": [], "project_id": project_id, "tenant_id": project_id,
            "distributed": False, "ha": False, "availability_zone_hints": [], "availability_zones": ["nova"],
            "flavor_id": None, "description": body.get("description", ""), "tags": [],
            "enable_ndp_proxy": None, "_l3_host": l3.hostname if l3 else ""})
        self.routers[rid] = router
        if body.get("external_gateway_info"):
            self.set_gateway(router, body["external_gateway_info"])
        return router

    def router_view(self, r: dict) -> dict:
        return {k: v for k, v in r.items() if not k.startswith("_")}

    def router_ports(self, router_id: str, owner: str) -> list[dict]:
        return [p for p in self.ports.values() if p["device_id"] == router_id and p["device_owner"] == owner]

    def set_gateway(self, router: dict, info: dict | None) -> None:
        for gw in self.router_ports(router["id"], "network:router_gateway"):
            if not info or info.get("network_id") != gw["network_id"]:
                if any(f["router_id"] == router["id"] for f in self.floatingips.values()):
                    raise CloudError(409, "RouterExternalGatewayInUseByFloatingIp",
                                     f"Gateway cannot be updated for router {router['id']}, since a gateway to "
                                     f"external network {gw['network_id']} is required by one or more floating IPs.")
                self.delete_port(gw["id"])
            else:
                router["external_gateway_info"]["enable_snat"] = info.get("enable_snat", True)
                return
        if not info or not info.get("network_id"):
            router["external_gateway_info"] = None
            self.stamp(router)
            return
        net = self.networks.get(info["network_id"])
        if not net:
            raise not_found("network", info["network_id"])
        if not net["router:external"]:
            raise bad_request("router", f"Network {net['id']} is not an external network")
        port = self.add_port({"network_id": net["id"], "device_owner": "network:router_gateway",
                              "device_id": router["id"], "fixed_ips": info.get("external_fixed_ips") or None},
                             "", bind_host=router["_l3_host"])
        router["external_gateway_info"] = {
            "network_id": net["id"], "enable_snat": info.get("enable_snat", True),
            "external_fixed_ips": [dict(ip) for ip in port["fixed_ips"]]}
        self.stamp(router)

    def add_router_interface(self, router: dict, body: dict) -> dict:
        if body.get("subnet_id"):
            sub = self.subnets.get(body["subnet_id"])
            if not sub:
                raise not_found("subnet", body["subnet_id"])
            for p in self.router_ports(router["id"], "network:router_interface"):
                if any(ip["subnet_id"] == sub["id"] for ip in p["fixed_ips"]):
                    raise bad_request("router", f"Router already has a port on subnet {sub['id']}")
            if not sub["gateway_ip"]:
                raise bad_request("router", "Subnet for router interface must have a gateway IP")
            for p in self.ports.values():
                if any(ip["subnet_id"] == sub["id"] and ip["ip_address"] == sub["gateway_ip"] for ip in p["fixed_ips"]):
                    raise CloudError(409, "IpAddressAlreadyAllocated",
                                     f"IP address {sub['gateway_ip']} already allocated in subnet {sub['id']}")
            port = self.add_port({"network_id": sub["network_id"], "device_owner": "network:router_interface",
                                  "device_id": router["id"],
                                  "fixed_ips": [{"subnet_id": sub["id"], "ip_address": sub["gateway_ip"]}]},
                                 router["project_id"], bind_host=router["_l3_host"])
        elif body.get("port_id"):
            port = self.ports.get(body["port_id"])
            if not port:
                raise not_found("port", body["port_id"])
            port["device_owner"], port["device_id"] = "network:router_interface", router["id"]
            sub = self.subnets[port["fixed_ips"][0]["subnet_id"]]
        else:
            raise bad_request("router", "Either subnet_id or port_id must be specified")
        self.stamp(router)
        return {"id": router["id"], "tenant_id": router["project_id"], "project_id": router["project_id"],
                "port_id": port["id"], "network_id": port["network_id"], "subnet_id": sub["id"],
                "subnet_ids": [sub["id"]]}

    def remove_router_interface(self, router: dict, body: dict) -> dict:
        for p in self.router_ports(router["id"], "network:router_interface"):
            if p["id"] == body.get("port_id") or any(ip["subnet_id"] == body.get("subnet_id") for ip in p["fixed_ips"]):
                sub_id = p["fixed_ips"][0]["subnet_id"]
                for fip in self.floatingips.values():
                    port = self.ports.get(fip["port_id"] or "")
                    if fip["router_id"] == router["id"] and port and any(
                            ip["subnet_id"] == sub_id for ip in port["fixed_ips"]):
                        raise CloudError(409, "RouterInterfaceInUseByFloatingIP",
                                         f"Router interface for subnet {sub_id} on router {router['id']} cannot be "
                                         "deleted, as it is required by one or more floating IPs.")
                self.delete_port(p["id"])
                return {"id": router["id"], "tenant_id": router["project_id"], "project_id": router["project_id"],
                        "port_id": p["id"], "network_id": p["network_id"], "subnet_id": sub_id, "subnet_ids": [sub_id]}
        raise CloudError(404, "RouterInterfaceNotFoundForSubnet",
                         f"Router {router['id']} has no interface on subnet {body.get('subnet_id')}")

    def delete_router(self, router: dict) -> None:
        if self.router_ports(router["id"], "network:router_interface"):
            raise CloudError(409, "RouterInUse", f"Router {router['id']} still has ports")
        self.set_gateway(router, None)
        del self.routers[router["id"]]

    def router_for_fip(self, port: dict, ext_net_id: str) -> dict:
        subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
        for sub_id in subnet_ids:
            for router in self.routers.values():
                has_if = any(any(ip["subnet_id"] == sub_id for ip in p["fixed_ips"])
                             for p in self.router_ports(router["id"], "network:router_interface"))
                has_gw = any(p["network_id"] == ext_net_id
                             for p in self.router_ports(router["id"], "network:router_gateway"))
                if has_if and has_gw:
                    return router
        raise CloudError(404, "ExternalGatewayForFloatingIPNotFound",
                         f"External network {ext_net_id} is not reachable from subnet "
                         f"{subnet_ids[0] if subnet_ids else ''}.  Therefore, cannot associate Port "
                         f"{port['id']} with a Floating IP.")

    def add_floatingip(self, body: dict, project_id: str) -> dict:
        net = self.networks.get(body.get("floating_network_id"))
        if not net:
            raise not_found("network", str(body.get("floating_network_id")))
        if not net["router:external"]:
            raise bad_request("floatingip", f"Network {net['id']} is not a valid external network")
        fip = {"id": self.new_id("fip"), "floating_network_id": net["id"], "router_id": None, "port_id": None,
               "fixed_ip_address": None, "status": "DOWN", "project_id": project_id, "tenant_id": project_id,
               "description": body.get("description", ""), "tags": [], "port_details": None,
               "dns_domain": "", "dns_name": "", "qos_policy_id": None, "qos_network_policy_id": None,
               "port_forwardings": []}
        if body.get("port_id"):
            self._associate(fip, body["port_id"], body.get("fixed_ip_address"))
        sub = next((self.subnets[s] for s in net["subnets"]), None)
        if sub is None:
            raise CloudError(400, "BadRequest", f"Bad floatingip request: Network {net['id']} has no subnets.")
        fip["floating_ip_address"] = self.allocate_ip(sub, body.get("floating_ip_address"))
        self.stamp(fip)
        self.floatingips[fip["id"]] = fip
        return fip

    def _associate(self, fip: dict, port_id: str, fixed_ip: str | None) -> None:
        port = self.ports.get(port_id)
        if not port:
            raise not_found("port", port_id)
        for other in self.floatingips.values():
            if other["port_id"] == port_id and other["id"] != fip["id"]:
                raise CloudError(409, "FloatingIPPortAlreadyAssociated",
                                 f"Cannot associate floating IP {fip.get('floating_ip_address')} ({fip['id']}) with "
                                 f"port {port_id} using fixed IP {fixed_ip or port['fixed_ips'][0]['ip_address']}, as "
                                 f"that fixed IP already has a floating IP on external network "
                                 f"{other['floating_network_id']}.")
        router = self.router_for_fip(port, fip["floating_network_id"])
        fip.update({"port_id": port_id, "router_id": router["id"], "status": "ACTIVE",
                    "fixed_ip_address": fixed_ip or port["fixed_ips"][0]["ip_address"],
                    "port_details": {"name": port["name"], "network_id": port["network_id"],
                                     "mac_address": port["mac_address"], "admin_state_up": True,
                                     "status": port["status"], "device_id": port["device_id"],
                                     "device_owner": port["device_owner"]}})

    def _disassociate(self, fip: dict) -> None:
        fip.update({"port_id": None, "router_id": None, "fixed_ip_address": None, "status": "DOWN",
                    "port_details": None})

    def update_floatingip(self, fip: dict, body: dict) -> dict:
        if "port_id" in body:
            if body["port_id"]:
                self._associate(fip, body["port_id"], body.get("fixed_ip_address"))
            else:
                self._disassociate(fip)
        if "description" in body:
            fip["description"] = body["description"]
        return self.stamp(fip)

    # --- agents -----------------------------------------------------------------------------
    def agents(self) -> list[dict]:
        out = []
        for node in self.nodes.values():
            for cname, (atype, binary, topic) in AGENT_KINDS.items():
                c = node.containers.get(cname)
                if not c:
                    continue
                aid = str(uuid.uuid5(self._ns, f"agent-{node.hostname}-{binary}"))
                alive = c.status == "running"
                beat = now() if alive else c.started_at + _dt.timedelta(seconds=3)
                conf: dict = {}
                if cname == OVS_AGENT:
                    ini = node.agent_config()
                    tunnel = [t.strip() for t in ini.get("agent", {}).get("tunnel_types", "").split(",") if t.strip()]
                    conf = {"arp_responder_enabled": ini.get("agent", {}).get("arp_responder", "false") == "true",
                            "baremetal_smartnic": False, "bridge_mappings": node.agent_mappings(),
                            "datapath_type": ini.get("ovs", {}).get("datapath_type", "system"),
                            "devices": sum(1 for p in self.ports.values() if p["binding:host_id"] == node.hostname
                                           and p["binding:vif_type"] == "ovs"),
                            "enable_distributed_routing": False, "extensions": [], "integration_bridge": "br-int",
                            "l2_population": ini.get("agent", {}).get("l2_population", "false") == "true",
                            "log_agent_heartbeats": False, "ovs_capabilities": {"datapath_types": ["netdev", "system"],
                                                                                "iface_types": ["internal", "patch", "vxlan"]},
                            "ovs_hybrid_plug": True, "resource_provider_bandwidths": {},
                            "resource_provider_hypervisors": {}, "resource_provider_inventory_defaults": {
                                "allocation_ratio": 1.0, "min_unit": 1, "step_size": 1, "reserved": 0},
                            "tunnel_types": tunnel, "tunneling_ip": ini.get("ovs", {}).get("local_ip", node.address),
                            "vhostuser_socket_dir": "/var/run/openvswitch"}
                elif cname == "neutron_l3_agent":
                    conf = {"agent_mode": "legacy", "ex_gw_ports": sum(1 for r in self.routers.values() if r["external_gateway_info"]),
                            "floating_ips": sum(1 for f in self.floatingips.values() if f["port_id"]),
                            "handle_internal_only_routers": True, "interface_driver": "openvswitch",
                            "interfaces": len([p for p in self.ports.values() if p["device_owner"] == "network:router_interface"]),
                            "routers": len(self.routers), "log_agent_heartbeats": False, "extensions": []}
                elif cname == "neutron_dhcp_agent":
                    conf = {"dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq", "dhcp_lease_duration": 86400,
                            "log_agent_heartbeats": False, "networks": sum(1 for n in self.networks.values() if any(
                                self.subnets[s]["enable_dhcp"] for s in n["subnets"])),
                            "notifies_port_ready": True, "ports": sum(1 for p in self.ports.values() if p["device_owner"] == "network:dhcp"),
                            "subnets": sum(1 for s in self.subnets.values() if s["enable_dhcp"])}
                elif cname == "neutron_metadata_agent":
                    conf = {"log_agent_heartbeats": False, "metadata_proxy_socket": "/var/lib/neutron/kolla/metadata_proxy",
                            "nova_metadata_host": "192.168.35.10", "nova_metadata_port": 8775}
                out.append({"id": aid, "agent_type": atype, "binary": binary, "topic": topic, "host": node.hostname,
                            "admin_state_up": True, "alive": alive, "availability_zone": "nova" if cname in (
                                "neutron_l3_agent", "neutron_dhcp_agent") else None,
                            "created_at": c.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "started_at": c.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "heartbeat_timestamp": beat.strftime("%Y-%m-%d %H:%M:%S"),
                            "configurations": conf, "description": None, "resources_synced": None,
                            "resource_versions": {}})
        return out

    # --- nova -------------------------------------------------------------------------------
    def compute_services(self) -> list[dict]:
        out = []
        for node in self.nodes.values():
            for cname, binary in (("nova_scheduler", "nova-scheduler"), ("nova_conductor", "nova-conductor"),
                                  ("nova_compute", "nova-compute")):
                c = node.containers.get(cname)
                if not c:
                    continue
                override = self.service_overrides.get(node.name, {}) if cname == "nova_compute" else {}
                host = override.get("host", node.hostname)
                disabled = override.get("disabled_reason")
                forced = bool(override.get("forced_down"))
                # nova/servicegroup: a forced-down service reads as down whatever its heartbeat
                up = c.status == "running" and not forced
                out.append({"id": str(uuid.uuid5(self._ns, f"svc-{host}-{binary}")), "binary": binary,
                            "host": host, "zone": node.availability_zone if cname == "nova_compute" else "internal",
                            "status": "disabled" if disabled is not None else "enabled",
                            "state": "up" if up else "down",
                            "updated_at": iso_us(now() if c.status == "running" else c.started_at),
                            "disabled_reason": disabled or None, "forced_down": forced})
        return out

    def host_zone(self, host: str) -> str:
        node = self._compute_node(host)
        return node.availability_zone if node is not None else "nova"

    def compute_hosts(self) -> list[str]:
        return [s["host"] for s in self.compute_services() if s["binary"] == "nova-compute" and s["state"] == "up"
                and s["status"] == "enabled"]

    def _schedule(self, server: dict, action: dict) -> tuple[list[str], str | None]:
        """nova-scheduler's select_destinations: Placement's allocation candidates first (a disabled
        compute carries COMPUTE_STATUS_DISABLED, which the compute_status_filter request filter
        forbids), then the enabled filters (ComputeFilter drops a compute whose service is down or
        forced down). Returns (hosts, NoValidHost reason) and writes the scheduler's INFO lines
        (nova/scheduler/manager.py, nova/filters.py)."""
        computes = [s for s in self.compute_services() if s["binary"] == "nova-compute"]
        if server.get("requested_az"):
            # request_filter.map_az_to_placement_aggregate: member_of the AZ's aggregates
            computes = [s for s in computes if s["zone"] == server["requested_az"]]
        # GET /allocation_candidates?resources=<the flavor's>&required=!COMPUTE_STATUS_DISABLED
        fit = {p["host"] for p in placement.candidates(self, placement.flavor_resources(server["flavor"]),
                                                        forbidden=(placement.DISABLED_TRAIT,))}
        candidates = [s for s in computes if s["host"] in fit]
        sched = next((n for n in self.nodes.values() if "nova_scheduler" in n.containers), self.controller())
        ctx = nova_records.context_tag(action["request_id"], server["user_id"], server["project_id"])
        log = lambda lines: self._log(sched, nova_records.SCHEDULER_LOG, lines)   # noqa: E731
        if not candidates:
            log(nova_records.log_record(
                "INFO", "nova.scheduler.manager", ctx, "Got no allocation candidates from the Placement API. This could "
                "be due to insufficient resources or a temporary occurrence as compute nodes start up.",
                pid=nova_records.SCHEDULER_PID))
            return [], ""
        up = [s["host"] for s in candidates if s["state"] == "up"]
        if not up:
            log(nova_records.log_record("INFO", "nova.filters", ctx, "Filter ComputeFilter returned 0 hosts",
                                        pid=nova_records.SCHEDULER_PID))
            log(nova_records.log_record(
                "INFO", "nova.filters", ctx, "Filtering removed all hosts for the request with instance ID "
                f"'{server['id']}'. Filter results: ['ComputeFilter: (start: {len(candidates)}, end: 0)']",
                pid=nova_records.SCHEDULER_PID))
            return [], "There are not enough hosts available."
        return up, None

    def metadata_reachable(self, port: dict) -> bool:
        """Kolla's dhcp agent forces metadata through qdhcp (needs a DHCP subnet); otherwise the
        router's qr- REDIRECT. Either way haproxy ends at the metadata agent."""
        net_nodes = self.nodes_in("network")
        md_alive = any(n.agent_alive("neutron_metadata_agent") for n in net_nodes)
        if not md_alive:
            return False
        for ip in port["fixed_ips"]:
            sub = self.subnets[ip["subnet_id"]]
            if sub["enable_dhcp"] and any(n.agent_alive("neutron_dhcp_agent") for n in net_nodes):
                return True
            if any(any(i["subnet_id"] == sub["id"] for i in p["fixed_ips"])
                   for p in self.ports.values() if p["device_owner"] == "network:router_interface") and \
                    any(n.agent_alive("neutron_l3_agent") for n in net_nodes):
                return True
        return False

    def build_server(self, body: dict, project_id: str, user_id: str) -> dict:
        image = self.find_image(body.get("imageRef"))
        flavor = self.find_flavor(body.get("flavorRef"))
        key_name = body.get("key_name")
        if key_name and key_name not in self.keypairs:
            raise CloudError(400, "badRequest", "Invalid key_name provided.")
        nets = body.get("networks")
        requested: list[str] = []
        if isinstance(nets, list):
            for item in nets:
                if item.get("uuid"):
                    if item["uuid"] not in self.networks:
                        raise CloudError(400, "badRequest", f"Network {item['uuid']} could not be found.")
                    requested.append(item["uuid"])
                elif item.get("port"):
                    requested.append("port:" + item["port"])
        elif nets in (None, "auto"):
            own = [n["id"] for n in self.networks.values() if not n["router:external"]]
            if len(own) > 1:
                raise CloudError(409, "conflictingRequest", "Multiple possible networks found, use a Network ID to be more specific.")
            requested = own
        # nova/compute/api.py _validate_flavor_image_nostatus: refused at the API (400), never a
        # build that ends No valid host.
        if flavor["ram"] < int(image.get("min_ram") or 0):
            raise CloudError(400, "badRequest", "Flavor's memory is too small for requested image.")
        gib = 1024 ** 3
        if flavor["disk"]:
            if int(image.get("size") or 0) > flavor["disk"] * gib:
                raise CloudError(400, "badRequest", f"Flavor's disk is too small for requested image. Flavor disk is "
                                 f"{flavor['disk'] * gib} bytes, image is {int(image['size'])} bytes.")
            if int(image.get("min_disk") or 0) * gib > flavor["disk"] * gib:
                raise CloudError(400, "badRequest", "Flavor's disk is smaller than the minimum size specified in image "
                                 f"metadata. Flavor disk is {flavor['disk'] * gib} bytes, minimum size is "
                                 f"{int(image['min_disk']) * gib} bytes.")
        zone = body.get("availability_zone")
        if zone and zone not in {s["zone"] for s in self.compute_services()
                                 if s["binary"] == "nova-compute" and s["status"] == "enabled"}:
            # nova/compute/api.py _provision_instances: only zones with an enabled compute are offered
            raise CloudError(400, "badRequest", "The requested availability zone is not available")
        sg_names = [sg.get("name") for sg in body.get("security_groups") or [{"name": "default"}]]
        sid = self.new_id("server")
        t = now()
        server = {"id": sid, "name": body.get("name", ""), "status": "BUILD", "vm_state": "building",
                  "task_state": "scheduling", "power_state": 0, "image": image, "flavor": flavor,
                  "key_name": key_name, "user_data": body.get("user_data"), "project_id": project_id,
                  "user_id": user_id, "created": t, "updated": t, "launched_at": None, "host": None,
                  "node_name": None, "fault": None, "security_groups": sg_names, "requested": requested,
                  "metadata": dict(body.get("metadata") or {}), "description": body.get("description"),
                  "console": "", "metadata_ok": False, "key_injected": False, "password_auth": False,
                  "instance_name": "instance-%08x" % (len(self.servers) + 1), "requested_az": zone or None, "admin_pass": secrets.token_urlsafe(9)}
        self.servers[sid] = server
        self._run_build(server)
        return server

    def _run_build(self, server: dict) -> None:
        sid = server["id"]
        req = "req-" + str(uuid.uuid4())
        action = {"action": "create", "instance_uuid": sid, "request_id": req, "user_id": server["user_id"],
                  "project_id": server["project_id"], "start_time": iso_us(now()), "message": None,
                  "updated_at": iso_us(now()), "events": []}
        self.actions.setdefault(sid, []).append(action)
        self._build_into(server, action)

    def _compute_node(self, host: str) -> Node | None:
        """The node whose nova-compute reports as ``host``."""
        for node in self.nodes.values():
            if "nova_compute" in node.containers and \
                    self.service_overrides.get(node.name, {}).get("host", node.hostname) == host:
                return node
        return None

    def _log(self, node: Node | None, path: str, lines: list[str]) -> None:
        if node is not None:
            for line in lines:
                node.append_log(path, line)

    def _conductor(self) -> Node:
        return next((n for n in self.nodes.values() if "nova_conductor" in n.containers), self.controller())

    def virt_error(self, host: str) -> str | None:
        """libvirt's refusal to define a guest of the node's virt_type: Kolla renders
        [libvirt] virt_type from nova_compute_virt_type (default kvm); without /dev/kvm libvirt's
        capabilities have no kvm domain (qemu_capabilities.c virQEMUCapsCacheLookupDefault)."""
        node = self._compute_node(host)
        if node is None:
            return None
        virt_type = node.nova_virt_type()
        if virt_type == "kvm" and not node.kvm:
            return "invalid argument: Emulator '/usr/libexec/qemu-kvm' does not support virt type 'kvm'"
        return None

    def _scheduler_consuming(self) -> bool:
        """Some nova-scheduler consumes the 'scheduler' queue: its container runs."""
        return any(n.containers["nova_scheduler"].status == "running"
                   for n in self.nodes.values() if "nova_scheduler" in n.containers)

    def _bury_timed_out(self, server: dict, action: dict) -> None:
        """nova/conductor/manager.py schedule_and_build_instances: select_destinations is an RPC call
        to the 'scheduler' queue; with no consumer oslo.messaging raises MessagingTimeout after
        rpc_response_timeout (60 s, amqpdriver.py ReplyWaiters.get: 'Timed out waiting for a reply to
        message ID <id>'); LOG.exception('Failed to schedule instances') and _bury_in_cell0. The
        fault's message is the class name (nova/compute/utils.py exception_to_dict: MessagingTimeout
        has no format_message)."""
        sid, conductor = server["id"], self._conductor()
        ctx = nova_records.context_tag(action["request_id"], server["user_id"], server["project_id"])
        msg = f"Timed out waiting for a reply to message ID {uuid.uuid4().hex}"
        summary = f"oslo_messaging.exceptions.MessagingTimeout: {msg}"
        tb = (f"Traceback (most recent call last):\n  File \"{NOVA_PY}/conductor/manager.py\", line 1683, in "
              "schedule_and_build_instances\n    host_lists = self._schedule_instances(context, request_specs[0],\n"
              f"  File \"{NOVA_PY}/scheduler/rpcapi.py\", line 160, in select_destinations\n"
              "    return cctxt.call(ctxt, 'select_destinations', **msg_args)\n"
              f"{summary}\n")
        self.scheduler_backlog += 1
        self._log(conductor, nova_records.CONDUCTOR_LOG, nova_records.log_record(
            "ERROR", "nova.conductor.manager", ctx, "Failed to schedule instances", pid=nova_records.CONDUCTOR_PID,
            summary=summary, traceback=tb.rstrip("\n")))
        nova_records.event_start(action, "conductor_schedule_and_build_instances", conductor.hostname)
        nova_records.event_finish(action, "conductor_schedule_and_build_instances", error="MessagingTimeout",
                                  traceback=tb)
        self._log(conductor, nova_records.CONDUCTOR_LOG,
                  nova_records.conductor_failure_lines(sid, ctx, msg, "oslo_messaging.exceptions.MessagingTimeout"))
        self._fail(server, action, {"code": 500, "created": iso(now()), "message": "MessagingTimeout", "details": tb})

    def _build_into(self, server: dict, action: dict) -> None:
        sid = server["id"]
        if not self._scheduler_consuming():
            self._bury_timed_out(server, action)
            return
        hosts, reason = self._schedule(server, action)
        conductor = self._conductor()
        ctx = nova_records.context_tag(action["request_id"], server["user_id"], server["project_id"])
        if not hosts:
            msg = f"No valid host was found. {reason or ''}"
            tb = (f"Traceback (most recent call last):\n  File \"{NOVA_PY}/conductor/manager.py\", line 1654, in "
                  "schedule_and_build_instances\n    host_lists = self._schedule_instances(context, request_specs[0],\n"
                  f"  File \"{NOVA_PY}/conductor/manager.py\", line 942, in _schedule_instances\n"
                  "    host_lists = self.query_client.select_destinations(\n"
                  f"  File \"{NOVA_PY}/scheduler/manager.py\", line 244, in select_destinations\n"
                  "    raise exception.NoValidHost(reason=\"\")\n"
                  "nova.exception.NoValidHost: No valid host was found. \n")
            # nova/conductor/manager.py _bury_in_cell0 -> _create_instance_action_for_cell0
            nova_records.event_start(action, "conductor_schedule_and_build_instances", conductor.hostname)
            nova_records.event_finish(action, "conductor_schedule_and_build_instances", error=msg, traceback=tb)
            self._log(conductor, nova_records.CONDUCTOR_LOG,
                      nova_records.conductor_failure_lines(sid, ctx, msg, "nova.exception.NoValidHost"))
            self._fail(server, action, {"code": 500, "created": iso(now()), "message": msg, "details": tb})
            return
        if hosts[0] in self.unmapped_hosts:
            # nova/conductor/manager.py schedule_and_build_instances: the selected host has no host
            # mapping -> LOG.error, _bury_in_cell0 with HostMappingNotFound (code 400: no details).
            exc = f"Host '{hosts[0]}' is not mapped to any cell"
            summary = f"nova.exception.HostMappingNotFound: {exc}"
            self._log(conductor, nova_records.CONDUCTOR_LOG, nova_records.log_record(
                "ERROR", "nova.conductor.manager", ctx, f"No host-to-cell mapping found for selected host "
                f"{hosts[0]}. Setup is incomplete.", pid=nova_records.CONDUCTOR_PID, summary=summary))
            nova_records.event_start(action, "conductor_schedule_and_build_instances", conductor.hostname)
            nova_records.event_finish(action, "conductor_schedule_and_build_instances", error=exc,
                                      traceback=f"Traceback (most recent call last):\n{summary}\n")
            self._log(conductor, nova_records.CONDUCTOR_LOG,
                      nova_records.conductor_failure_lines(sid, ctx, exc, "nova.exception.HostMappingNotFound"))
            self._fail(server, action, {"code": 400, "created": iso(now()), "message": exc, "details": ""})
            return
        node = self._compute_node(hosts[0])
        if node is not None and self.service_overrides.get(node.name, {}).get("not_consuming"):
            # nova/conductor/manager.py schedule_and_build_instances ends with a cast of
            # build_and_run_instance to compute.<host> (compute/rpcapi.py): no reply is awaited, so
            # with no consumer the message waits in the queue and the server stays BUILD/scheduling.
            self.compute_backlog.setdefault(hosts[0], []).append(sid)
            return
        # The scheduler returns the chosen host and up to max_attempts - 1 alternates; each failure
        # is rescheduled by the conductor (build_instances) onto the next one.
        attempts: list[nova_records.Attempt] = []
        for host in hosts[: self.max_attempts]:
            nova_records.event_start(action, nova_records.BUILD_EVENT, host)
            ports, failed, created = [], None, []
            for net_ref in server["requested"]:
                if net_ref.startswith("port:"):
                    port = self.ports.get(net_ref[5:])
                    if not port:
                        continue
                    port["device_id"], port["device_owner"] = sid, "compute:nova"
                else:
                    port = self.add_port({"network_id": net_ref, "device_id": sid, "device_owner": "compute:nova",
                                          "security_groups": self._sg_ids(server)}, server["project_id"])
                    created.append(port)
                ports.append(port)
                if not self.bind_port(port, host, global_id=action["request_id"]):
                    failed = port     # nova/network/neutron.py _update_ports_for_instance stops here
                    break
            virt_error = None if failed else self.virt_error(host)
            if failed is None and virt_error is None:
                server.update({"status": "ACTIVE", "vm_state": "active", "task_state": None, "power_state": 1,
                               "host": host, "node_name": host, "launched_at": now(), "updated": now()})
                nova_records.event_finish(action, nova_records.BUILD_EVENT)
                self._boot_guest(server, ports)
                return
            attempt = nova_records.Attempt(host, port_id=failed["id"] if failed else None, virt_error=virt_error)
            attempts.append(attempt)
            node = self._compute_node(host)
            virt_type = node.nova_virt_type() if node else "kvm"
            self._log(node, nova_records.COMPUTE_LOG,
                      attempt.compute_lines(sid, ctx, server["instance_name"], virt_type))
            # The ports Nova created are deleted, the ones passed in are unbound
            # (_update_ports_for_instance / deallocate_for_instance).
            for port in ports:
                if port in created:
                    self.delete_port(port["id"])
                else:
                    self._unbind_port(port)
            # RescheduledException is caught: _do_build_and_run_instance returns RESCHEDULED and
            # its event ends without an exception.
            nova_records.event_finish(action, nova_records.BUILD_EVENT)
            self._log(conductor, nova_records.CONDUCTOR_LOG, attempt.conductor_lines(sid, ctx))
        fault = nova_records.max_retries_fault(sid, len(attempts), attempts[-1].reason, self.max_attempts)
        self._log(conductor, nova_records.CONDUCTOR_LOG,
                  nova_records.conductor_failure_lines(sid, ctx, fault["message"], "nova.exception.MaxRetriesExceeded"))
        self._fail(server, action, fault)

    def compute_started(self, node: Node) -> None:
        """nova-compute (re)started: it consumes compute.<host> again and builds what waited there."""
        with self.lock:
            over = self.service_overrides.get(node.name, {})
            over.pop("not_consuming", None)
            host = over.get("host", node.hostname)
            for sid in self.compute_backlog.pop(host, []):
                server = self.servers.get(sid)
                if server is not None and server["status"] == "BUILD":
                    action = self.actions[sid][-1]
                    self._build_into(server, action)

    def _unbind_port(self, port: dict) -> None:
        """nova/network/neutron.py _unbind_ports: device_id/owner cleared, binding:host_id None."""
        port.update({"device_id": "", "device_owner": "", "binding:host_id": "", "binding:vif_type": "unbound",
                     "binding:vif_details": {}, "binding:profile": {}, "status": "DOWN"})
        self.stamp(port)

    def _sg_ids(self, server: dict) -> list[str]:
        out = []
        for name in server["security_groups"]:
            for sg in self.security_groups.values():
                if (sg["name"] == name or sg["id"] == name) and sg["project_id"] == server["project_id"]:
                    out.append(sg["id"])
        return out

    def _fail(self, server: dict, action: dict, fault: dict) -> None:
        server.update({"status": "ERROR", "vm_state": "error", "task_state": None, "power_state": 0,
                       "host": None, "node_name": None, "updated": now(), "fault": fault})

    def server_ports(self, server_id: str) -> list[dict]:
        return [p for p in self.ports.values() if p["device_id"] == server_id]

    def _boot_guest(self, server: dict, ports: list[dict]) -> None:
        port = ports[0] if ports else None
        md = bool(port) and self.metadata_reachable(port)
        ud = server.get("user_data") or ""
        try:
            import base64
            ud_text = base64.b64decode(ud).decode("utf-8", "replace") if ud else ""
        except ValueError:
            ud_text = ""
        server["metadata_ok"] = md
        server["key_injected"] = md and bool(server["key_name"])
        server["password_auth"] = md and "ssh_pwauth: true" in ud_text.replace("True", "true")
        server["console"] = _console_log(server, port, md, self.keypairs.get(server["key_name"] or ""),
                                         self.image_login_user(server["image"]))

    def image_login_user(self, image: dict) -> str:
        return image.get("os_admin_user") or image.get("_login_user") or "cloud-user"

    def rebuild_server(self, server: dict, body: dict) -> None:
        if body.get("imageRef"):
            server["image"] = self.find_image(body["imageRef"])
        if "key_name" in body:
            server["key_name"] = body["key_name"]
        for p in self.server_ports(server["id"]):
            self.delete_port(p["id"])
        server.update({"status": "BUILD", "fault": None})
        req = "req-" + str(uuid.uuid4())
        action = {"action": "rebuild", "instance_uuid": server["id"], "request_id": req, "user_id": server["user_id"],
                  "project_id": server["project_id"], "start_time": iso_us(now()), "message": None,
                  "updated_at": iso_us(now()), "events": []}
        self.actions.setdefault(server["id"], []).append(action)
        self._build_into(server, action)

    def delete_server(self, server: dict) -> None:
        for p in self.server_ports(server["id"]):
            self.delete_port(p["id"])
        del self.servers[server["id"]]

    def find_image(self, ref) -> dict:
        for img in self.images.values():
            if img["id"] == ref or img["name"] == ref:
                return img
        raise CloudError(400, "badRequest", f"Image {ref} could not be found.")

    def find_flavor(self, ref) -> dict:
        for fl in self.flavors.values():
            if fl["id"] == str(ref) or fl["name"] == ref:
                return fl
        raise CloudError(400, "badRequest", f"Flavor {ref} could not be found.")

    # --- reachability from the deploy host (the operator's LAN) --------------------------------
    def reach(self, address: str, protocol: str, port: int | None, source: str) -> tuple[bool, str]:
        """Can ``source`` on the external LAN reach ``address`` (tcp/port or icmp)? Returns
        (ok, why) where why is one of: ok, no-such-address, router-down, server-not-active,
        sg-blocked, no-route."""
        from . import packet_path
        if packet_path.lan_host(self, address):   # another machine answers ARP for it
            return (protocol == "icmp"), "other-machine"
        target_port, via_fip = None, None
        for fip in self.floatingips.values():
            if fip["floating_ip_address"] == address:
                via_fip = fip
                target_port = self.ports.get(fip["port_id"] or "")
                break
        if via_fip is None:
            for p in self.ports.values():
                net = self.networks.get(p["network_id"], {})
                if net.get("router:external") and any(ip["ip_address"] == address for ip in p["fixed_ips"]):
                    target_port = p
                    break
        if target_port is None:
            return False, "no-such-address"
        if target_port["device_owner"].startswith("network:router"):
            return (protocol == "icmp"), "ok" if protocol == "icmp" else "sg-blocked"
        if via_fip is not None:
            router = self.routers.get(via_fip["router_id"] or "")
            if not router or not router["external_gateway_info"]:
                return False, "no-route"
            if not any(n.agent_alive("neutron_l3_agent") for n in self.nodes_in("network")):
                return False, "router-down"
            node = packet_path.l3_node(self, router)
            if node is not None and packet_path.uplink(node)[1]:
                return False, "no-l2"
        if target_port["binding:vif_type"] != "ovs":
            return False, "no-route"
        server = self.servers.get(target_port["device_id"])
        if not server or server["status"] != "ACTIVE":
            return False, "server-not-active"
        if not packet_path.guest_addressed(self, target_port):
            return False, "no-address"
        if not self.sg_allows(target_port, protocol, port, source):
            return False, "sg-blocked"
        return True, "ok"

    def sg_allows(self, port: dict, protocol: str, dport: int | None, source: str) -> bool:
        if not port.get("port_security_enabled", True):
            return True
        src = ipaddress.ip_address(source)
        for sg_id in port["security_groups"]:
            for r in self.sg_rules.values():
                if r["security_group_id"] != sg_id or r["direction"] != "ingress" or r["ethertype"] != "IPv4":
                    continue
                if r["remote_group_id"]:
                    continue  # the operator's host is not a member of any group
                if r["remote_ip_prefix"] and src not in ipaddress.ip_network(r["remote_ip_prefix"], strict=False):
                    continue
                proto = r["protocol"]
                if proto not in (None, "any", protocol, {"icmp": "1", "tcp": "6"}.get(protocol)):
                    continue
                if protocol == "tcp" and r["port_range_min"] is not None:
                    if not (r["port_range_min"] <= (dport or 0) <= r["port_range_max"]):
                        continue
                return True
        return False


AGENT_KINDS = {
    OVS_AGENT: ("Open vSwitch agent", "neutron-openvswitch-agent", "N/A"),
    "neutron_l3_agent": ("L3 agent", "neutron-l3-agent", "l3_agent"),
    "neutron_dhcp_agent": ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent"),
    "neutron_metadata_agent": ("Metadata agent", "neutron-metadata-agent", "N/A"),
}


def _console_log(server: dict, port: dict | None, md_ok: bool, keypair: dict | None, login: str) -> str:
    t = now()
    day = t.strftime("%a, %d %b %Y %H:%M:%S +0000")
    ip = port["fixed_ips"][0]["ip_address"] if port else ""
    mac = port["mac_address"] if port else ""
    lines = [
        "[    0.000000] Linux version 5.14.0-503.14.1.el9_5.x86_64 (mockbuild@iad1-prod-build001.bld.equ.rockylinux.org) "
        "(gcc (GCC) 11.5.0 20240719 (Red Hat 11.5.0-2), GNU ld version 2.35.2-54.el9) #1 SMP PREEMPT_DYNAMIC",
        "[    0.000000] Command line: BOOT_IMAGE=(hd0,gpt3)/vmlinuz-5.14.0-503.14.1.el9_5.x86_64 root=UUID=5c4e3a1b "
        "console=ttyS0,115200n8 no_timer_check net.ifnames=0 crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M",
        "[  OK  ] Started Initial cloud-init job (pre-networking).",
        f"[    7.912345] cloud-init[712]: Cloud-init v. 23.4-19.el9 running 'init' at {day}. Up 7.85 seconds.",
        "[    7.931021] cloud-init[712]: ci-info: ++++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++++",
        "[    7.931544] cloud-init[712]: ci-info: +--------+------+-----------------------------+---------------+--------+-------------------+",
        "[    7.932001] cloud-init[712]: ci-info: | Device |  Up  |           Address           |      Mask     | Scope  |     Hw-Address    |",
        "[    7.932401] cloud-init[712]: ci-info: +--------+------+-----------------------------+---------------+--------+-------------------+",
        f"[    7.932810] cloud-init[712]: ci-info: |  eth0  | True | {ip:<27} | 255.255.255.0 | global | {mac} |",
        "[    7.933204] cloud-init[712]: ci-info: +--------+------+-----------------------------+---------------+--------+-------------------+",
    ]
    if md_ok:
        # A working fetch logs only at DEBUG, which the console never shows (cloud-init's
        # 05_logging.cfg: consoleHandler level WARNING); the final message names the datasource.
        if keypair:
            lines += [
                f"[   10.301122] cloud-init[890]: ci-info: +++++++++++++++++++++Authorized keys from /home/{login}/.ssh/authorized_keys for user {login}++++++++++++++++++++++",
                "[   10.301700] cloud-init[890]: ci-info: +-------------+-------------------------------------------------+---------+-------------+",
                "[   10.302011] cloud-init[890]: ci-info: |   Keytype   |                Fingerprint (sha256)             | Options |   Comment   |",
                f"[   10.302400] cloud-init[890]: ci-info: | ssh-ed25519 | {keypair['fingerprint']:<47} |    -    | {keypair['name']:<11} |",
            ]
        else:
            lines.append(f"[   10.301122] cloud-init[890]: ci-info: no authorized SSH keys fingerprints found for user {login}.")
        lines += [
            "<14>Jan  1 00:00:11 cloud-init: #############################################################",
            "<14>Jan  1 00:00:11 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----",
            "<14>Jan  1 00:00:11 cloud-init: 256 SHA256:pX3c1mYpA0kU8jZ2wq0l7o5xS2oQd3k0b3Vb0iH1yqA root@"
            f"{server['name']} (ED25519)",
            "<14>Jan  1 00:00:11 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----",
            "<14>Jan  1 00:00:11 cloud-init: #############################################################",
            f"[   12.502337] cloud-init[905]: Cloud-init v. 23.4-19.el9 finished at {day}. "
            "Datasource DataSourceOpenStackLocal [net,ver=2].  Up 12.49 seconds",
        ]
    else:
        for i, elapsed in enumerate((0, 1, 3, 7, 15, 31, 63)):
            lines.append(f"[   {8 + elapsed:>3}.1{i}2345] cloud-init[712]: 2025-01-01 00:00:{8 + elapsed % 50:02d},1{i}2 - "
                         "url_helper.py[WARNING]: Calling 'http://169.254.169.254/openstack' failed "
                         f"[{elapsed}/120s]: request error [HTTPConnectionPool(host='169.254.169.254', port=80): "
                         "Max retries exceeded with url: /openstack (Caused by ConnectTimeoutError(<urllib3.connection."
                         "HTTPConnection object at 0x7f3b2c1d5e50>, 'Connection to 169.254.169.254 timed out. "
                         "(connect timeout=50.0)'))]")
        lines += [
            "[  128.402211] cloud-init[712]: 2025-01-01 00:02:08,402 - DataSourceEc2.py[CRITICAL]: Giving up on md from "
            "['http://169.254.169.254/2009-04-04/meta-data/instance-id'] after 120 seconds",
            f"[  130.100101] cloud-init[890]: ci-info: no authorized SSH keys fingerprints found for user {login}.",
            f"[  131.502337] cloud-init[905]: Cloud-init v. 23.4-19.el9 finished at {day}. Datasource DataSourceNone.  Up 131.49 seconds",
            "[  131.502900] cloud-init[905]: 2025-01-01 00:02:11,502 - cc_final_message.py[WARNING]: Used fallback datasource",
        ]
    lines += ["", f"Rocky Linux 9.5 (Blue Onyx)", "Kernel 5.14.0-503.14.1.el9_5.x86_64 on an x86_64", "",
              f"{server['name']} login: "]
    return "\n".join(lines) + "\n"
