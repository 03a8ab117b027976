"""Build the live model (nodes + cloud) from a validated scenario mapping."""
from __future__ import annotations

import posixpath

from .cloud import Cloud
from .kolla_render import KollaConfig
from .nodes import COMMON_CONTAINERS, GROUP_CONTAINERS, NOVA_COMPUTE, NOVA_COMPUTE_CONF, OVS_AGENT, OVS_INI, Node

OVS_CONF_DIR = "/etc/kolla/neutron-openvswitch-agent"


class LabState:
    def __init__(self, scenario: dict, public_key: str):
        self.scenario = scenario
        self.name = scenario["name"]
        self.release = str(scenario.get("release", "2024.2"))
        self.operator_address = str(scenario.get("operator_address", "192.168.35.5"))
        self.ssh_user = str(scenario.get("ssh_user", "kolla"))
        self.expect = {k: list(v) for k, v in scenario.get("expect", {}).items()}
        self.nodes: dict[str, Node] = {}
        self._build_nodes(scenario["nodes"])
        self.cloud = Cloud(self.name, str(scenario.get("region", "RegionOne")), self.nodes, self.operator_address)
        for n in self.nodes.values():
            n.cloud = self.cloud
        for name, spec in scenario["nodes"].items():
            if spec.get("nova_host"):   # nova-compute reports another name than the node's hostname
                self.cloud.service_overrides[str(name)] = {"host": str(spec["nova_host"])}
            if spec.get("cell_mapped") is False:      # discover_hosts never ran after it joined
                self.cloud.unmapped_hosts.add(str(spec.get("nova_host") or spec.get("hostname") or name))
            service = spec.get("nova_service") or {}     # `openstack compute service set` done before
            if service:
                over = self.cloud.service_overrides.setdefault(str(name), {})
                if "disabled_reason" in service:
                    over["disabled_reason"] = str(service["disabled_reason"] or "")
                if service.get("forced_down"):
                    over["forced_down"] = True
                if service.get("consuming") is False:
                    over["not_consuming"] = True
        self._build_cloud(scenario["cloud"], public_key)

    @property
    def deploy(self) -> Node:
        return next(n for n in self.nodes.values() if n.deploy)

    def kolla(self, extra_vars: dict | None = None, inventory: str = "/etc/kolla/multinode") -> KollaConfig:
        d = self.deploy
        return KollaConfig(d.read, d.listdir, inventory, extra_vars=extra_vars)

    @property
    def engine(self) -> str:
        try:
            return str(self.kolla().global_value("kolla_container_engine", "docker"))
        except FileNotFoundError:
            return "docker"

    def _build_nodes(self, specs: dict) -> None:
        for name, spec in specs.items():
            node = Node(name=str(name), hostname=str(spec.get("hostname", name)), address=str(spec.get("address", "")),
                        groups=[str(g) for g in spec.get("groups", [])], ssh_user=self.ssh_user,
                        deploy=bool(spec.get("deploy", False)))
            node.interfaces = [str(i) for i in spec.get("interfaces", ["enp1s0"])]
            node.interface_addresses = {str(k): str(v) for k, v in (spec.get("interface_addresses") or {}).items()}
            node.mtu = int(spec.get("mtu", 1500))
            for path, text in (spec.get("files") or {}).items():
                node.write(str(path), text)
            node.mkdir("/tmp")
            node.mkdir(f"/home/{self.ssh_user}")
            node.write("/etc/hostname", node.hostname + "\n")
            node.write("/etc/os-release", 'NAME="Rocky Linux"\nVERSION="9.5 (Blue Onyx)"\nID="rocky"\n'
                       'ID_LIKE="rhel centos fedora"\nVERSION_ID="9.5"\nPRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"\n')
            self.nodes[node.name] = node
        engine = self.engine
        kolla = self.kolla()
        distro = str(kolla.global_value("kolla_base_distro", "rocky"))
        for name, spec in specs.items():
            node = self.nodes[str(name)]
            node.engine = engine
            if node.deploy:
                continue
            wanted: list[str] = []
            for g in node.groups:
                for c in GROUP_CONTAINERS.get(g, []):
                    if c not in wanted:
                        wanted.append(c)
            if wanted:
                wanted += [c for c in COMMON_CONTAINERS if c not in wanted]
            overrides = spec.get("containers") or {}
            for cname in list(wanted) + [c for c in overrides if c not in wanted]:
                cspec = overrides.get(cname) or {}
                if cspec.get("status") == "absent":
                    continue
                node.add_container(cname, self.release, distro)
            self._deploy_node_config(node, spec, kolla)
            for cname, c in node.containers.items():
                cspec = overrides.get(cname) or {}
                if cname == OVS_AGENT and cspec.get("started_with") is not None:
                    c.loaded = {OVS_INI: str(cspec["started_with"])}
                    node._ovs_agent_boot(c)
                else:
                    node.start_container(cname)
                import datetime as _dt
                deployed = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=20, hours=3)
                c.created_at = deployed
                c.started_at = deployed + _dt.timedelta(minutes=2)
                status = cspec.get("status", "running")
                if status == "exited":
                    c.status, c.exit_code = "exited", int(cspec.get("exit_code", 137))
                elif status == "restarting":
                    c.status, c.exit_code = "restarting", 1
            from .control_plane import build as build_control_plane
            build_control_plane(self, node, spec)

    def _deploy_node_config(self, node: Node, spec: dict, kolla: KollaConfig) -> None:
        """What the last `kolla-ansible deploy` left on the node: rendered with the deploy node's
        current config plus the node's ``render_vars`` (a past state of globals.yml)."""
        rk = self.kolla(extra_vars=dict(spec.get("render_vars") or {})) if spec.get("render_vars") else kolla
        if NOVA_COMPUTE in node.containers:
            self._compute_host(node, spec, rk)
        if OVS_AGENT not in node.containers:
            return
        hv = rk.host_vars(node.name)
        if node.read(OVS_INI) is None:
            node.write(OVS_INI, rk.render_ovs_agent_ini(hv, node.address))
        conf = posixpath.join(OVS_CONF_DIR, "neutron.conf")
        if node.read(conf) is None:
            node.write(conf, rk.render_neutron_conf(hv, self.controller_address()))
        node.write(posixpath.join(OVS_CONF_DIR, "config.json"), OVS_CONFIG_JSON)
        if "network" in node.groups:
            for svc in ("neutron-server", "neutron-l3-agent", "neutron-dhcp-agent", "neutron-metadata-agent"):
                path = f"/etc/kolla/{svc}/neutron.conf"
                if node.read(path) is None:
                    node.write(path, rk.render_neutron_conf(hv, self.controller_address()))
            node.mkdir("/etc/kolla/neutron-server")
            node.write("/etc/kolla/neutron-server/ml2_conf.ini",
                       "[ml2]\ntype_drivers = flat,vlan,vxlan\ntenant_network_types = vxlan\n"
                       "mechanism_drivers = openvswitch,l2population\nextension_drivers = port_security\n\n"
                       "[ml2_type_vlan]\nnetwork_vlan_ranges = \n\n[ml2_type_flat]\n"
                       f"flat_networks = {','.join(p for p, _ in rk.bridge_pairs(hv))}\n\n"
                       "[ml2_type_vxlan]\nvni_ranges = 1:1000\n")
        if spec.get("ovs") is not None:
            for bridge, ports in spec["ovs"].items():
                node.ovs[str(bridge)] = [str(p) for p in (ports or [])]
        elif rk.needs_external_bridge(hv):
            for bridge, iface in rk.external_ports(hv):
                node.ovs.setdefault(bridge, [])
                if iface not in node.ovs[bridge]:
                    node.ovs[bridge].append(iface)

    def _compute_host(self, node: Node, spec: dict, rk: KollaConfig) -> None:
        """nova-compute's nova.conf, and the host's CPU as libvirt sees it: ``kvm: false`` is a
        nested homelab VM without vmx/svm, so no /dev/kvm."""
        node.kvm = bool(spec.get("kvm", True))
        keys = {"vcpus": "VCPU", "memory_mb": "MEMORY_MB", "disk_gb": "DISK_GB"}
        node.resources = {keys[k]: int(v) for k, v in (spec.get("resources") or {}).items()}
        node.availability_zone = str(spec.get("availability_zone") or "nova")
        if node.read(NOVA_COMPUTE_CONF) is None:
            node.write(NOVA_COMPUTE_CONF, rk.render_nova_compute_conf(rk.host_vars(node.name), node.address))
        if node.read("/proc/cpuinfo") is None:
            node.write("/proc/cpuinfo", cpuinfo(node.kvm))
        if node.kvm and node.read("/dev/kvm") is None:
            node.write("/dev/kvm", "")

    def controller_address(self) -> str:
        for n in self.nodes.values():
            if "control" in n.groups:
                return n.address
        return "127.0.0.1"

    def _build_cloud(self, spec: dict, public_key: str) -> None:
        c = self.cloud
        c.flat_physnets = set(spec.get("flat_physnets") or ["physnet1"])
        c.vlan_ranges = [str(r) for r in (spec.get("vlan_ranges") or [])]
        admin = spec.get("admin") or {}
        project = c.add_project(str(admin.get("project", "admin")))
        try:
            password = str(self.kolla().global_value("keystone_admin_password") or "")
        except FileNotFoundError:
            password = ""
        user = c.add_user(str(admin.get("username", "admin")), str(admin.get("password") or password or "lab-admin"), project["id"])
        self.admin_password = user["password"]
        pid = project["id"]
        for f in spec.get("flavors") or []:
            fid = str(len(c.flavors) + 1)
            c.flavors[fid] = {"id": fid, "name": f["name"], "vcpus": int(f.get("vcpus", 1)), "ram": int(f.get("ram", 512)),
                              "disk": int(f.get("disk", 1))}
        for img in spec.get("images") or []:
            iid = c.new_id("image")
            c.images[iid] = {
                "id": iid, "name": img["name"], "status": "active", "visibility": "public", "protected": False,
                "disk_format": "qcow2", "container_format": "bare", "min_disk": 0, "min_ram": 0,
                "size": int(img.get("size", 600000000)), "virtual_size": 10737418240, "checksum": None,
                "os_hash_algo": "sha512", "os_hash_value": None, "owner": pid, "os_hidden": False, "tags": [],
                "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
                "self": f"/v2/images/{iid}", "file": f"/v2/images/{iid}/file", "schema": "/v2/schemas/image",
                "os_distro": img.get("os_distro"), "os_version": str(img.get("os_version", "")),
                "os_admin_user": img.get("login_user"), "_login_user": img.get("login_user"),
                "description": img.get("file")}
        from .api import API
        helper = API.__new__(API)
        helper.cloud = c
        for kp in spec.get("keypairs") or []:
            API.cloud_add_keypair(helper, kp["name"], str(kp.get("public_key") or public_key.strip() + " " + kp["name"]),
                                  user["id"])
        subnet_ids: dict[str, str] = {}
        net_ids: dict[str, str] = {}
        for net in spec.get("networks") or []:
            body = {"name": net["name"], "provider:network_type": net.get("network_type", "vxlan"),
                    "provider:physical_network": net.get("physical_network"),
                    "router:external": bool(net.get("external", False)), "shared": bool(net.get("shared", False))}
            if net.get("segmentation_id") is not None:
                body["provider:segmentation_id"] = net["segmentation_id"]
            saved = c.flat_physnets
            c.flat_physnets = saved | {net.get("physical_network")}   # scenario data may predate ml2 changes
            n = c.add_network(body, pid)
            c.flat_physnets = saved
            net_ids[net["name"]] = n["id"]
            for sub in net.get("subnets") or []:
                sbody = {"name": sub["name"], "network_id": n["id"], "cidr": str(sub["cidr"]),
                         "enable_dhcp": bool(sub.get("enable_dhcp", True)),
                         "dns_nameservers": list(sub.get("dns_nameservers") or [])}
                if "gateway_ip" in sub:
                    sbody["gateway_ip"] = sub["gateway_ip"]
                if sub.get("allocation_pools"):
                    sbody["allocation_pools"] = [dict(p) for p in sub["allocation_pools"]]
                s = c.add_subnet(sbody, pid)
                subnet_ids[sub["name"]] = s["id"]
        for r in spec.get("routers") or []:
            router = c.add_router({"name": r["name"]}, pid)
            if r.get("external_gateway"):
                c.set_gateway(router, {"network_id": net_ids[r["external_gateway"]]})
            for sub in r.get("interfaces") or []:
                c.add_router_interface(router, {"subnet_id": subnet_ids[sub]})
        sg = c.default_sg(pid)
        groups = {"default": sg}
        for group in spec.get("security_groups") or []:
            groups[group["name"]] = c.add_security_group(group["name"], pid, str(group.get("description") or ""))
        for rule in spec.get("security_group_rules") or []:
            port = rule.get("port")
            c.add_sg_rule({"security_group_id": groups[rule.get("group", "default")]["id"],
                           "direction": rule.get("direction", "ingress"),
                           "ethertype": "IPv4", "protocol": rule.get("protocol"),
                           "port_range_min": rule.get("port_range_min", port),
                           "port_range_max": rule.get("port_range_max", port),
                           "remote_ip_prefix": rule.get("remote_ip_prefix", "0.0.0.0/0")}, pid)
        for s in spec.get("servers") or []:
            body = {"name": s["name"], "imageRef": c.find_image(s["image"])["id"],
                    "flavorRef": c.find_flavor(s["flavor"])["id"],
                    "networks": [{"uuid": net_ids[n]} for n in [s["network"], *(s.get("extra_networks") or [])]],
                    "key_name": s.get("key_name")}
            if s.get("security_groups"):
                body["security_groups"] = [{"name": str(n)} for n in s["security_groups"]]
            if s.get("availability_zone"):
                body["availability_zone"] = str(s["availability_zone"])
            if s.get("user_data"):
                import base64
                body["user_data"] = base64.b64encode(str(s["user_data"]).encode()).decode()
            c.build_server(body, pid, user["id"])
        c.lan_hosts = [dict(h) for h in spec.get("lan_hosts") or []]
        for f in spec.get("floating_ips") or []:
            server = next(sv for sv in c.servers.values() if sv["name"] == f["server"])
            ports = c.server_ports(server["id"])
            if f.get("port_network"):    # a server with several ports: the one on that network
                ports = [p for p in ports if p["network_id"] == net_ids[f["port_network"]]]
            c.add_floatingip({"floating_network_id": net_ids[f.get("network", "public1")],
                              "port_id": ports[0]["id"] if ports else None,
                              "floating_ip_address": f.get("address")}, pid)


OVS_CONFIG_JSON = """{
    "command": "neutron-openvswitch-agent --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/openvswitch_agent.ini",
    "config_files": [
        {"source": "/var/lib/kolla/config_files/neutron.conf", "dest": "/etc/neutron/neutron.conf", "owner": "neutron", "perm": "0600"},
        {"source": "/var/lib/kolla/config_files/openvswitch_agent.ini", "dest": "/etc/neutron/plugins/ml2/openvswitch_agent.ini", "owner": "neutron", "perm": "0600"}
    ]
}
"""


def cpuinfo(vmx: bool) -> str:
    """/proc/cpuinfo of a one-vCPU KVM guest (the homelab compute), with or without nested vmx."""
    flags = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss "
             "syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq "
             + ("vmx " if vmx else "") + "ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes "
             "xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single ssbd ibrs ibpb "
             "stibp fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid xsaveopt arat umip arch_capabilities")
    return ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
            "model name\t: Intel Xeon Processor (Cascadelake)\nstepping\t: 6\nmicrocode\t: 0x1\n"
            "cpu MHz\t\t: 2394.374\ncache size\t: 16384 KB\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\n"
            "cpu cores\t: 1\napicid\t\t: 0\ninitial apicid\t: 0\nfpu\t\t: yes\nfpu_exception\t: yes\n"
            "cpuid level\t: 13\nwp\t\t: yes\n"
            f"flags\t\t: {flags}\n"
            "bogomips\t: 4788.74\nclflush size\t: 64\ncache_alignment\t: 64\n"
            "address sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n")
