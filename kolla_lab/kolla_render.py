"""The lab's own reading of Kolla-Ansible: variable precedence and the openvswitch_agent.ini
template, written independently of wizard.kolla (two readings check each other).

Sources (see docs/kolla-facts.md §1-§2): ansible/roles/neutron/templates/openvswitch_agent.ini.j2,
ansible/group_vars/all(.yml|/*.yml), Ansible's variable precedence with globals.yml as extra vars."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import yaml

from .inifile import Inventory, dump_ini, merge_ini, parse_ini

TRUE_WORDS = {"yes", "true", "1", "on", "y", "t"}

# Kolla's playbook group_vars/all defaults that matter here (identical names across 2024.1..master).
KOLLA_DEFAULTS: dict[str, object] = {
    "network_interface": "eth0",
    "neutron_external_interface": "eth1",
    "enable_neutron_dvr": "no",
    "enable_neutron_provider_networks": "no",
    "neutron_plugin_agent": "openvswitch",
    "neutron_compute_dvr_mode": "dvr",
    "neutron_ovn_distributed_fip": "no",
    "enable_ovs_dpdk": "no",
    "kolla_container_engine": "docker",
    "ovsdb_port": "6640",
    "openstack_release": "2024.2",
    "kolla_base_distro": "rocky",
    "nova_compute_virt_type": "kvm",          # group_vars/all/nova.yml
}
ROLE_DEFAULTS: dict[str, object] = {"ovsdb_timeout": "10", "ovs_datapath": "system"}


def as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


@dataclass
class VarSource:
    value: object
    origin: str


@dataclass
class HostVars:
    host: str
    values: dict = field(default_factory=dict)
    origins: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)

    def get(self, key, default=None):
        return self.values.get(key, default)


class KollaConfig:
    """What the deploy node holds: globals.yml, globals.d, passwords.yml, the inventory and the
    group_vars/host_vars beside it, and /etc/kolla/config overrides. ``read`` reads a deploy-node
    file (returns None when missing); ``listdir`` lists a deploy-node directory."""

    def __init__(self, read, listdir, inventory_path: str, config_dir: str = "/etc/kolla",
                 extra_vars: dict | None = None):
        self.read = read
        self.listdir = listdir
        self.config_dir = config_dir
        self.inventory_path = inventory_path
        text = read(inventory_path)
        if text is None:
            raise FileNotFoundError(inventory_path)
        self.inventory = Inventory(text)
        self.extra: list[tuple[str, dict]] = []
        for name in ("globals.yml", "passwords.yml"):
            data = self._yaml(posixpath.join(config_dir, name))
            self.extra.append((posixpath.join(config_dir, name), data))
        gdir = posixpath.join(config_dir, "globals.d")
        for name in sorted(listdir(gdir) or []):
            if name.endswith((".yml", ".yaml", ".json")):
                path = posixpath.join(gdir, name)
                self.extra.append((path, self._yaml(path)))
        if extra_vars:
            self.extra.append(("-e", dict(extra_vars)))

    def _yaml(self, path: str) -> dict:
        text = self.read(path)
        if not text:
            return {}
        data = yaml.safe_load(text)
        return data if isinstance(data, dict) else {}

    def _vars_file(self, directory: str, name: str) -> tuple[str, dict] | None:
        for candidate in (name, name + ".yml", name + ".yaml"):
            path = posixpath.join(directory, candidate)
            if self.read(path) is not None:
                return path, self._yaml(path)
        return None

    @property
    def release(self) -> str:
        return str(self.global_value("openstack_release", KOLLA_DEFAULTS["openstack_release"]))

    def global_value(self, key, default=None):
        value = default
        for _, data in self.extra:
            if key in data:
                value = data[key]
        return value

    def host_vars(self, host: str) -> HostVars:
        inv = self.inventory
        groups = inv.groups_of(host)
        hv = HostVars(host=host, groups=groups)
        inv_dir = posixpath.dirname(self.inventory_path)

        def put(data: dict, origin: str):
            for k, v in data.items():
                hv.values[k] = v
                hv.origins[k] = origin

        put(ROLE_DEFAULTS, "role defaults")
        put(inv.group_vars.get("all", {}), f"{self.inventory_path} [all:vars]")
        for g in groups:
            if g != "all" and g in inv.group_vars:
                put(inv.group_vars[g], f"{self.inventory_path} [{g}:vars]")
        found = self._vars_file(posixpath.join(inv_dir, "group_vars"), "all")
        if found:
            put(found[1], found[0])
        put(KOLLA_DEFAULTS, "kolla ansible/group_vars/all")
        for g in groups:
            found = self._vars_file(posixpath.join(inv_dir, "group_vars"), g)
            if found:
                put(found[1], found[0])
        put(inv.hosts.get(host, {}), f"{self.inventory_path} host line")
        found = self._vars_file(posixpath.join(inv_dir, "host_vars"), host)
        if found:
            put(found[1], found[0])
        for origin, data in self.extra:
            put(data, origin)
        self._derive(hv)
        return hv

    def _derive(self, hv: HostVars) -> None:
        v = hv.values
        if "tunnel_interface" not in v:
            v["tunnel_interface"] = v.get("network_interface")
        if "neutron_bridge_name" not in v:
            v["neutron_bridge_name"] = "br_dpdk" if as_bool(v.get("enable_ovs_dpdk")) else "br-ex"
        if "neutron_physical_networks" not in v:
            bridges = str(v["neutron_bridge_name"]).split(",")
            v["neutron_physical_networks"] = ",".join(f"physnet{i + 1}" for i in range(len(bridges)))
        if "computes_need_external_bridge" not in v:
            v["computes_need_external_bridge"] = (
                (as_bool(v.get("enable_neutron_dvr")) and v.get("neutron_compute_dvr_mode") == "dvr")
                or as_bool(v.get("enable_neutron_provider_networks"))
                or as_bool(v.get("neutron_ovn_distributed_fip")))
            hv.origins["computes_need_external_bridge"] = "derived from enable_neutron_provider_networks/dvr"

    def needs_external_bridge(self, hv: HostVars) -> bool:
        """The template's condition (same gate for bridge_mappings and br-ex creation)."""
        members_network = self.inventory.members("network")
        members_compute = self.inventory.members("compute")
        return hv.host in members_network or (
            hv.host in members_compute and as_bool(hv.values.get("computes_need_external_bridge")))

    def bridge_pairs(self, hv: HostVars) -> list[tuple[str, str]]:
        bridges = str(hv.values["neutron_bridge_name"]).split(",")
        if self.release.startswith("2024.1") or self.release < "2024.2":
            physnets = [f"physnet{i + 1}" for i in range(len(bridges))]
        else:
            physnets = str(hv.values["neutron_physical_networks"]).split(",")
        return list(zip(physnets, bridges))

    def external_ports(self, hv: HostVars) -> list[tuple[str, str]]:
        bridges = str(hv.values["neutron_bridge_name"]).split(",")
        ifaces = str(hv.values["neutron_external_interface"]).split(",")
        return list(zip(bridges, ifaces))

    def render_ovs_agent_ini(self, hv: HostVars, local_ip: str) -> str:
        ovs: dict[str, str] = {}
        if self.needs_external_bridge(hv):
            ovs["bridge_mappings"] = ",".join(f"{p}:{b}" for p, b in self.bridge_pairs(hv))
        ovs["datapath_type"] = str(hv.values.get("ovs_datapath", "system"))
        ovs["ovsdb_connection"] = f"tcp:127.0.0.1:{hv.values.get('ovsdb_port', '6640')}"
        ovs["ovsdb_timeout"] = str(hv.values.get("ovsdb_timeout", "10"))
        ovs["local_ip"] = local_ip
        data = {
            "agent": {"tunnel_types": "vxlan", "l2_population": "true", "arp_responder": "true"},
            "securitygroup": {
                "firewall_driver": "neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver"},
            "ovs": ovs,
        }
        custom = posixpath.join(self.config_dir, "config", "neutron")
        for path in (posixpath.join(custom, "openvswitch_agent.ini"),
                     posixpath.join(custom, hv.host, "openvswitch_agent.ini")):
            text = self.read(path)
            if text is not None:
                data = merge_ini(data, parse_ini(text))
        return dump_ini(data)

    def render_nova_compute_conf(self, hv: HostVars, address: str) -> str:
        """The part of nova-compute's nova.conf the lab models (roles/nova-cell/templates/nova.conf.j2
        and nova.conf.d/libvirt.conf.j2: virt_type = {{ nova_compute_virt_type }}), merged with the
        operator's overrides as roles/nova-cell/tasks/config.yml merge_configs does: node_custom_config
        global.conf, nova.conf, nova/nova-compute.conf, nova/<inventory_hostname>/nova.conf."""
        text = ("[DEFAULT]\ndebug = False\nlog_dir = /var/log/kolla/nova\nstate_path = /var/lib/nova\n"
                "compute_driver = libvirt.LibvirtDriver\n\n[libvirt]\n"
                f"connection_uri = \"qemu+tcp://{address}/system\"\nlive_migration_inbound_addr = \"{address}\"\n"
                f"virt_type = {hv.get('nova_compute_virt_type', 'kvm')}\nnum_pcie_ports = 16\n")
        custom = posixpath.join(self.config_dir, "config")
        overrides = [self.read(posixpath.join(custom, *parts)) for parts in
                     (("global.conf",), ("nova.conf",), ("nova", "nova-compute.conf"), ("nova", hv.host, "nova.conf"))]
        if not any(o is not None for o in overrides):
            return text
        data = parse_ini(text)
        for override in overrides:
            if override is not None:
                data = merge_ini(data, parse_ini(override))
        return dump_ini(data)

    def render_neutron_conf(self, hv: HostVars, controller: str) -> str:
        secret = self.global_value("rabbitmq_password", "")
        data = {
            "DEFAULT": {
                "debug": "False",
                "log_dir": "/var/log/kolla/neutron",
                "use_stderr": "False",
                "state_path": "/var/lib/neutron/kolla",
                "core_plugin": "ml2",
                "transport_url": f"rabbit://openstack:{secret}@{controller}:5672//",
            },
            "oslo_concurrency": {"lock_path": "/var/lib/neutron/tmp"},
            "agent": {"root_helper": "sudo neutron-rootwrap /etc/neutron/rootwrap.conf"},
        }
        return dump_ini(data)
