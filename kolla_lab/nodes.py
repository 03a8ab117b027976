"""Lab nodes: a virtual filesystem, containers, OVS bridges, and the agent lifecycle."""
from __future__ import annotations

import datetime as _dt
import posixpath
import random
from dataclasses import dataclass, field

from .inifile import parse_ini, parse_mappings

OVS_AGENT = "neutron_openvswitch_agent"
OVS_INI = "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini"
OVS_AGENT_LOG = "/var/log/kolla/neutron/neutron-openvswitch-agent.log"
NEUTRON_SERVER_LOG = "/var/log/kolla/neutron/neutron-server.log"
NOVA_COMPUTE = "nova_compute"
NOVA_COMPUTE_CONF = "/etc/kolla/nova-compute/nova.conf"

IMAGE_NAMES = {
    "neutron_openvswitch_agent": "neutron-openvswitch-agent", "openvswitch_vswitchd": "openvswitch-vswitchd",
    "openvswitch_db": "openvswitch-db-server", "nova_compute": "nova-compute", "nova_libvirt": "nova-libvirt",
    "nova_ssh": "nova-ssh", "neutron_server": "neutron-server", "neutron_l3_agent": "neutron-l3-agent",
    "neutron_dhcp_agent": "neutron-dhcp-agent", "neutron_metadata_agent": "neutron-metadata-agent",
    "nova_api": "nova-api", "nova_scheduler": "nova-scheduler", "nova_conductor": "nova-conductor",
    "nova_novncproxy": "nova-novncproxy", "keystone": "keystone", "glance_api": "glance-api",
    "placement_api": "placement-api", "horizon": "horizon", "mariadb": "mariadb-server",
    "rabbitmq": "rabbitmq", "memcached": "memcached", "kolla_toolbox": "kolla-toolbox", "cron": "cron",
    "fluentd": "fluentd",
}

GROUP_CONTAINERS = {
    "control": ["keystone", "glance_api", "placement_api", "nova_api", "nova_scheduler", "nova_conductor",
                "nova_novncproxy", "neutron_server", "horizon", "mariadb", "rabbitmq", "memcached"],
    "network": ["neutron_l3_agent", "neutron_dhcp_agent", "neutron_metadata_agent", OVS_AGENT,
                "openvswitch_vswitchd", "openvswitch_db"],
    "compute": ["nova_compute", "nova_libvirt", "nova_ssh", OVS_AGENT, "openvswitch_vswitchd", "openvswitch_db"],
}
COMMON_CONTAINERS = ["kolla_toolbox", "cron", "fluentd"]


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def log_stamp(t: _dt.datetime | None = None) -> str:
    t = t or now()
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


@dataclass
class Container:
    name: str
    image: str
    status: str = "running"          # running | exited | restarting
    exit_code: int = 0
    restart_count: int = 0
    started_at: _dt.datetime = field(default_factory=now)
    created_at: _dt.datetime = field(default_factory=now)
    loaded: dict = field(default_factory=dict)   # config files as read at the last start
    id: str = field(default_factory=lambda: "%064x" % random.getrandbits(256))

    def status_text(self) -> str:
        if self.status == "running":
            return "Up " + _ago(self.started_at) + (" (healthy)" if self.name != "kolla_toolbox" else "")
        if self.status == "restarting":
            return f"Restarting ({self.exit_code or 1}) 2 seconds ago"
        return f"Exited ({self.exit_code}) " + _ago(self.started_at) + " ago"


def _ago(t: _dt.datetime) -> str:
    secs = max(1, int((now() - t).total_seconds()))
    if secs < 60:
        return "Less than a second" if secs < 2 else f"{secs} seconds"
    if secs < 3600:
        return "About a minute" if secs < 120 else f"{secs // 60} minutes"
    if secs < 86400:
        return "About an hour" if secs < 7200 else f"{secs // 3600} hours"
    return f"{secs // 86400} days"


class Node:
    """One Kolla host. ``files`` maps absolute paths to text; directories are implied."""

    def __init__(self, name: str, hostname: str, address: str, groups: list[str], ssh_user: str,
                 engine: str = "docker", deploy: bool = False):
        self.name = name
        self.hostname = hostname
        self.address = address
        self.groups = list(groups)
        self.ssh_user = ssh_user
        self.engine = engine
        self.deploy = deploy
        self.files: dict[str, str] = {}
        self.dirs: set[str] = {"/"}
        self.containers: dict[str, Container] = {}
        self.ovs: dict[str, list[str]] = {}         # bridge -> ports (operator/Kolla-made)
        self.ovs_uuid = "%08x-%04x-%04x-%04x-%012x" % tuple(random.getrandbits(b) for b in (32, 16, 16, 16, 48))
        self.interfaces: list[str] = []
        self.interface_addresses: dict[str, str] = {}   # NIC -> "a.b.c.d/len" configured on it
        self.mtu = 1500                                  # the underlay NIC's MTU (1450 on a nested homelab)
        self.netns_extra: list[str] = []
        self.cloud = None                            # set by the lab state (for netns, agents)
        self.kvm = True                              # the CPU has vmx/svm and /dev/kvm exists
        self.availability_zone = "nova"             # the AZ of its aggregate (Nova's default_availability_zone)
        self.resources: dict[str, int] = {}          # VCPU/MEMORY_MB/DISK_GB the compute reports (placement.py)
        self.control: dict = {}                      # galera/rabbitmq/keepalived keys (control_plane.py)

    # --- filesystem -------------------------------------------------------------------------
    def write(self, path: str, text: str) -> None:
        path = posixpath.normpath(path)
        self.files[path] = text
        d = posixpath.dirname(path)
        while d not in self.dirs:
            self.dirs.add(d)
            d = posixpath.dirname(d)

    def read(self, path: str) -> str | None:
        return self.files.get(posixpath.normpath(path))

    def append_log(self, path: str, line: str) -> None:
        self.write(path, (self.read(path) or "") + line.rstrip("\n") + "\n")

    def is_dir(self, path: str) -> bool:
        return posixpath.normpath(path) in self.dirs

    def listdir(self, path: str) -> list[str] | None:
        path = posixpath.normpath(path)
        if path not in self.dirs:
            return None
        prefix = path.rstrip("/") + "/"
        names = set()
        for p in list(self.files) + list(self.dirs):
            if p.startswith(prefix) and p != path:
                names.add(p[len(prefix):].split("/")[0])
        return sorted(names)

    def mkdir(self, path: str) -> None:
        path = posixpath.normpath(path)
        while path not in self.dirs:
            self.dirs.add(path)
            path = posixpath.dirname(path)

    # --- containers & agents ------------------------------------------------------------------
    def add_container(self, name: str, release: str, distro: str) -> Container:
        image = f"quay.io/openstack.kolla/{IMAGE_NAMES.get(name, name.replace('_', '-'))}:{release}-{distro}-9"
        c = Container(name=name, image=image)
        self.containers[name] = c
        return c

    def ovs_running(self) -> bool:
        c = self.containers.get("openvswitch_vswitchd")
        return bool(c and c.status == "running")

    def agent_config(self) -> dict:
        c = self.containers.get(OVS_AGENT)
        if not c:
            return {}
        return parse_ini(c.loaded.get(OVS_INI, ""))

    def agent_mappings(self) -> dict[str, str]:
        return parse_mappings(self.agent_config().get("ovs", {}).get("bridge_mappings"))

    def nova_virt_type(self) -> str:
        """[libvirt] virt_type as nova-compute read it at its last start (Kolla's default kvm)."""
        c = self.containers.get(NOVA_COMPUTE)
        text = c.loaded.get(NOVA_COMPUTE_CONF) if c and NOVA_COMPUTE_CONF in c.loaded else self.read(NOVA_COMPUTE_CONF)
        return str(parse_ini(text or "").get("libvirt", {}).get("virt_type") or "kvm").strip()

    def start_container(self, name: str, restart: bool = True) -> Container:
        """(Re)start a container; the OVS agent re-reads its files now, as kolla_start copies them
        at every start (COPY_ALWAYS), and dies if a mapped bridge is missing."""
        c = self.containers[name]
        c.started_at = now()
        c.status, c.exit_code = "running", 0
        if name == OVS_AGENT:
            c.loaded = {OVS_INI: self.read(OVS_INI) or ""}
            self._ovs_agent_boot(c)
        elif name == NOVA_COMPUTE:
            c.loaded = {NOVA_COMPUTE_CONF: self.read(NOVA_COMPUTE_CONF) or ""}
            if self.cloud is not None:      # a fresh RPC consumer on compute.<host>
                self.cloud.compute_started(self)
        self._container_changed(name)
        return c

    # A backend's listener, called with (node, container name) after a start or a stop: the real
    # backend reports the node's agents to Neutron at once, as a real agent reports at start.
    on_container_change = None

    def _container_changed(self, name: str) -> None:
        if self.on_container_change is not None:
            self.on_container_change(self, name)

    def _ovs_agent_boot(self, c: Container) -> None:
        pid = random.randint(7, 99)
        log = f"{log_stamp()} {pid} INFO neutron.common.config [-] Logging enabled!"
        self.append_log(OVS_AGENT_LOG, log)
        mappings = self.agent_mappings()
        for physnet, bridge in mappings.items():
            self.append_log(OVS_AGENT_LOG, f"{log_stamp()} {pid} INFO neutron.plugins.ml2.drivers.openvswitch."
                            f"agent.ovs_neutron_agent [-] Mapping physical network {physnet} to bridge {bridge}")
            if bridge not in self.ovs:
                self.append_log(OVS_AGENT_LOG, f"{log_stamp()} {pid} ERROR neutron.plugins.ml2.drivers.openvswitch."
                                f"agent.ovs_neutron_agent [-] Bridge {bridge} for physical network {physnet} "
                                "does not exist. Agent terminated!")
                c.status, c.exit_code = "restarting", 1
                c.restart_count += 1
                return
        # The agent builds br-int/br-tun and the patch ports for each mapping.
        self.ovs.setdefault("br-int", [])
        self.ovs.setdefault("br-tun", [])
        for physnet, bridge in mappings.items():
            short = bridge[:11]
            if f"int-{short}" not in self.ovs["br-int"]:
                self.ovs["br-int"].append(f"int-{short}")
            if f"phy-{short}" not in self.ovs[bridge]:
                self.ovs[bridge].append(f"phy-{short}")
        self.append_log(OVS_AGENT_LOG, f"{log_stamp()} {pid} INFO neutron.plugins.ml2.drivers.openvswitch.agent."
                        "ovs_neutron_agent [-] Agent initialized successfully, now running... ")

    def stop_container(self, name: str) -> None:
        c = self.containers[name]
        c.status, c.exit_code = "exited", 0
        self._container_changed(name)

    def agent_alive(self, name: str = OVS_AGENT) -> bool:
        c = self.containers.get(name)
        return bool(c and c.status == "running")
