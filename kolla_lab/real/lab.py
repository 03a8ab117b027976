"""RealLab: a scenario on real Keystone and Neutron, with each node's deployed
openvswitch_agent.ini rendered by kolla-ansible's own templates, and the same contract as Lab
(config_dir, cloud_name, deploy_host, request_count(), stop()).

Each node is a real OpenSSH ``sshd`` on 127.0.0.1 in its own mount and UTS namespace (its own
hostname, /etc/kolla, /var/log/kolla, home and a real ``sudo``) with a real ``ovsdb-server`` holding
its bridges (nodes.py). The lab keeps its node model over those real parts: the model's files are the
node's files on disk and its ``ovs`` is the node's ovsdb, so the scenario, reconfigure and the agent
boot land in them. Only what has no real program here is a stand-in (standin.py: docker/podman's
container state, kolla-ansible, ip netns, nc/ping to guest addresses), answered by the lab's command
set; ``docker exec openvswitch_vswitchd ovs-vsctl ...`` runs the real ovs-vsctl. ``nodes="embedded"``
keeps the embedded lab's paramiko SSH nodes instead.

Each node's deployed openvswitch_agent.ini comes from Kolla's templates, and its OVS agent is a row
in real Neutron's ``agents`` table, kept in step with the node (configurations from the file the
agent loaded; heartbeat old when the container is down or a mapped bridge is missing)."""
from __future__ import annotations

import atexit
import os
import datetime as _dt
import shutil
import subprocess
import sqlite3
import tempfile
import threading
import time
import uuid
from types import SimpleNamespace
from pathlib import Path

import yaml

from ..build import LabState
from ..cloud import AGENT_KINDS
from ..lab import Lab, _new_key
from ..nodes import OVS_AGENT, OVS_AGENT_LOG, OVS_INI
from .. import packet_path
from ..nova_records import COMPUTE_LOG as NOVA_COMPUTE_LOG
from . import kolla as kolla_render
from .compute import Compute, serve
from . import hooks
from .services import OpenStack, _http
from .venvs import RealTierUnavailable, venv

HEARTBEAT_EVERY = 5.0
NEUTRON_SERVER_LOG = "/var/log/kolla/neutron/neutron-server.log"
# Real Nova's processes: the container that stands for each on a node, and where Kolla puts its log.
NOVA_CONTROL = {"nova-api": ("nova_api", "/var/log/kolla/nova/nova-api.log"),
                "nova-conductor": ("nova_conductor", "/var/log/kolla/nova/nova-conductor.log"),
                "nova-scheduler": ("nova_scheduler", "/var/log/kolla/nova/nova-scheduler.log"),
                "placement-api": ("placement_api", "/var/log/kolla/placement/placement-api.log")}


def _stamp(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class RealLab(Lab):
    backend = "real"

    def __init__(self, scenario: str = "seed-homelab", config_dir=None, nodes: str = "real",
                 compute: str = "lab", agents: str = "lab"):
        super().__init__(scenario, config_dir)
        if nodes not in ("real", "embedded"):
            raise ValueError(f"RealLab: nodes must be 'real' or 'embedded', not {nodes!r}")
        if compute not in ("lab", "nova"):
            raise ValueError(f"RealLab: compute must be 'lab' or 'nova', not {compute!r}")
        if agents not in ("lab", "real"):
            raise ValueError(f"RealLab: agents must be 'lab' or 'real', not {agents!r}")
        if agents == "real" and nodes != "real":
            raise ValueError("RealLab: real agents need the real nodes (their ovsdb)")
        self.nodes_backend = nodes
        # "real": each node's neutron-openvswitch-agent is the real one (ovs_agents.py) on a real
        # ovs-vswitchd, reporting to a neutron-rpc-server; "lab": rows the lab writes (_agent_rows).
        self.agents_backend = agents
        self.ovs_agents = None
        self._agent_spawner = None
        # "nova": real Placement and Nova (nova.py) build the scenario's servers; "lab": the small
        # compute API of compute.py (kept while the trees still read records only it writes).
        self.compute_backend = compute
        self.nova = None
        self._nova_servers: dict[str, str] = {}      # real Nova's instance UUID -> scenario server name
        # The scenario's L3 and DHCP agents were alive when its networks and routers were made (a
        # scenario's dead agent died later): real Neutron schedules those to live agents only.
        self._networks_being_built = True
        self._plugged: dict = {}        # port id -> the real agent (ovs_agents.NodeAgent) whose br-int has its VIF
        self._building_scenario = False
        self._agent_rows_lock = threading.Lock()
        self.openstack: OpenStack | None = None
        self.compute: Compute | None = None
        self._compute_http = None
        self._workdir: str | None = None
        self._stop_beats = threading.Event()
        self.render_differences: dict[str, tuple[str, str]] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "RealLab":
        if self.openstack:
            return self
        atexit.register(self.stop)
        self._workdir = tempfile.mkdtemp(prefix="kolla-real-lab-")
        work = Path(self._workdir)
        self.client_private, self.client_public = _new_key()
        self.state = LabState(self.scenario, self.client_public)
        self.state.faults = self.faults
        hooks.install(self)     # its kolla-ansible renders with Kolla's templates; agents report at start
        passwords = yaml.safe_load(self.state.deploy.read("/etc/kolla/passwords.yml") or "") or {}
        admin_password = str(passwords.get("keystone_admin_password") or "admin-password")
        cloud_spec = self.scenario["cloud"]
        self.openstack = OpenStack(work, admin_password, str(self.scenario.get("region", "RegionOne")),
                                   [str(p) for p in cloud_spec.get("flat_physnets", ["physnet1"])],
                                   str(passwords.get("rabbitmq_password") or "rabbitmq-password"),
                                   service_role=self.compute_backend == "nova",
                                   rpc_server=self.agents_backend == "real")
        try:
            if self.agents_backend == "real":
                # The agents' namespaces first: RabbitMQ also listens on their veths' host ends.
                self.openstack.rabbitmq.extra_addresses = self._prepare_real_agents()
            self.openstack.start_keystone()
            if self.compute_backend == "nova":
                from .nova import Nova
                self.nova = Nova(work / "nova", self.openstack.keystone.url, admin_password, self.openstack.region,
                                 self.openstack.rabbitmq.transport_url, list(self.nova_hosts()))
                self.nova.start_apis()              # placement-api and nova-api boot beside Keystone
            self._render_deployed_files(work)       # kolla-ansible runs while Keystone starts
            self.openstack.finish_keystone()
            self.openstack.start_neutron()
            stack = self.openstack
            self.compute = Compute(stack.keystone.url, "", lambda: stack.admin_token, self._compute_hosts,
                                   stack.admin_project_id, stack.admin_user_id)
            self.compute.console_for = self._guest_console
            self.compute.write_log = self._write_nova_log
            self.compute.plug, self.compute.unplug = self._plug_vifs, self._unplug_vif
            self._compute_http = serve(self.compute)
            threading.Thread(target=self._compute_http.serve_forever, kwargs={"poll_interval": 0.2},
                             daemon=True, name="real-lab-compute").start()
            base = f"http://127.0.0.1:{self._compute_http.server_address[1]}"
            self.openstack.neutron.wait("/")
            self.openstack.wait_rabbitmq()      # before Neutron's first RPC cast (the scenario's ports)
            self.compute.neutron_url = self.openstack.neutron.url
            stack.register("network", "neutron", self.openstack.neutron.url)
            stack.register("image", "glance", f"{base}/image")
            if self.nova:
                stack.register("placement", "placement", self.nova.placement.url)
                stack.register("compute", "nova", f"{self.nova.api.url}/v2.1")
                # Each nova-compute runs in its node's namespaces, reading the node's nova.conf:
                # the nodes first.
                self._start_nodes()
                self.nova.compute_namespaces = self._compute_namespaces()
                self.nova.start_services()          # conductor, scheduler, computes: the broker is up
                self.nova.wait_apis()
                self.nova.wait_computes(stack.admin_token)
            else:
                stack.register("compute", "nova", f"{base}/compute/v2.1")
            self._sync_agents()
            threading.Thread(target=self._heartbeats, daemon=True, name="real-lab-agents").start()
            if self.ovs_agents is not None:
                # Real agents need the nodes' ovsdb, and must have reported before the scenario's
                # ports are bound (ML2 binds only to a live agent): the nodes come first.
                self._start_nodes()
                self._start_real_agents()
            # A scenario states how the nodes are now; its guests booted before that, so a DHCP
            # agent the scenario has dead died after it had served them (their ports ACTIVE).
            self._building_scenario = True
            try:
                self._build_cloud(cloud_spec)
            finally:
                self._building_scenario = False
            self._wait_plugged_ports()
            self._sync_server_log()
            self._start_nodes()                 # here unless real Nova or real agents needed them first
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stop_beats.set()
        if self._compute_http:
            self._compute_http.shutdown()
            self._compute_http.server_close()
            self._compute_http = None
        if self.nova:
            self.nova.stop()
            self.nova = None
        if self.ovs_agents is not None:
            self.ovs_agents.stop()
            self.ovs_agents = None
        if self.openstack:
            self.openstack.stop()
            self.openstack = None
        super().stop()
        if self._agent_spawner is not None:     # after the kills: its exit would signal them
            self._agent_spawner.close()
            self._agent_spawner = None
        if self._workdir and os.environ.get("KOLLA_WIZARD_REAL_LAB_KEEP"):
            print(f"real lab: kept {self._workdir}")       # debugging: service logs stay
        elif self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def request_count(self) -> int:
        return self.compute.requests if self.compute else 0

    # -- nodes --------------------------------------------------------------------------------
    def _new_fleet(self):
        if self.nodes_backend == "embedded":
            return super()._new_fleet()
        # Real sshd + ovsdb-server per node; Lab._start_nodes then writes the same client
        # configuration (ssh_config/known_hosts from self.ports and self._ssh.host_public).
        from .nodes import RealNodeFleet
        return RealNodeFleet(self.state, self.client_public, Path(self._workdir) / "nodes", self.faults)

    def _start_nodes(self, config_prefix: str = "kolla-real-lab-config-") -> None:
        """Once: real Nova's computes and the real agents need the nodes before the scenario is
        built, the lab's compute and agent rows do not."""
        if self._ssh is not None:
            return
        super()._start_nodes(config_prefix)
        if self.nodes_backend != "embedded":
            self.faults.on_change(self._write_known_hosts)      # host_key: unknown, switched at run time

    def _write_config(self) -> None:
        # The embedded writer takes auth_url from its API object; ours is real Keystone.
        self.api = SimpleNamespace(base=self.openstack.keystone.url, counts={}, count_lock=threading.Lock())
        super()._write_config()
        self.api = None
        clouds = {"clouds": {self.cloud_name: {
            "auth": {"auth_url": self.openstack.keystone.url + "/v3", "username": "admin",
                     "password": self.openstack.admin_password, "project_name": "admin",
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": self.openstack.region, "interface": "public", "identity_api_version": 3}}}
        self._write("clouds.yaml", yaml.safe_dump(clouds, sort_keys=False), 0o600)

    def _render_deployed_files(self, work: Path) -> None:
        """Each node's openvswitch_agent.ini as kolla-ansible's templates render it from the
        deploy node's /etc/kolla (plus the node's render_vars), unless the scenario wrote it."""
        deploy = self.state.deploy
        kolla_dir = work / "deploy-etc-kolla"
        for path, text in deploy.files.items():
            if path.startswith("/etc/kolla/"):
                target = kolla_dir / path[len("/etc/kolla/"):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        specs = self.scenario["nodes"]
        by_vars: dict[str, dict[str, str]] = {}
        for name, node in self.state.nodes.items():
            spec_files = (specs.get(name) or {}).get("files") or {}
            if OVS_AGENT not in node.containers or OVS_INI in spec_files:
                continue
            render_vars = (specs.get(name) or {}).get("render_vars") or {}
            key = yaml.safe_dump(dict(render_vars), sort_keys=True)
            by_vars.setdefault(key, {})[name] = node.address
        for key, hosts in by_vars.items():
            rendered = kolla_render.render_ovs_agent_ini(kolla_dir, hosts, yaml.safe_load(key) or {})
            for name, text in rendered.items():
                node = self.state.nodes[name]
                embedded = node.read(OVS_INI) or ""
                node.write(OVS_INI, text)
                if _mappings(embedded) == _mappings(text):
                    continue
                self.render_differences[name] = (embedded, text)
                # The agent loads what Kolla deployed, unless the scenario says it started with
                # something else (an agent not restarted after an edit).
                started_with = (((specs.get(name) or {}).get("containers") or {}).get(OVS_AGENT) or {}) \
                    .get("started_with")
                if node.containers[OVS_AGENT].status == "running" and started_with is None:
                    node.start_container(OVS_AGENT)

    def _guest_console(self, name: str) -> str:
        for server in self.state.cloud.servers.values():
            if server.get("name") == name:
                return str(server.get("console") or "")
        return ""

    def _write_nova_log(self, host: str | None, path: str, lines: list[str]) -> None:
        """Nova's log lines onto the node that runs the service (host None: the conductor's node)."""
        for node in self.state.nodes.values():
            if (host is None and "nova_conductor" in node.containers) or \
                    (host is not None and node.hostname == host and "nova_compute" in node.containers):
                for line in lines:
                    node.append_log(path, line)
                return

    # -- agents -------------------------------------------------------------------------------
    def nova_hosts(self) -> dict[str, str]:
        """Nova host name -> node name for the nodes whose nova_compute container runs (the
        scenario's ``nova_host``, else the node's hostname): one real nova-compute each."""
        specs = self.scenario["nodes"]
        return {str((specs.get(name) or {}).get("nova_host") or n.hostname): name
                for name, n in self.state.nodes.items()
                if (c := n.containers.get("nova_compute")) is not None and c.status == "running"}

    def _compute_namespaces(self) -> dict[str, tuple[int, Path]]:
        """Nova host -> (its node's sshd, whose mount and UTS namespaces are the node's; the node's
        nova-compute.log on this machine's disk), for nodes run as real sshds."""
        from .nodes import TREES
        procs = getattr(self._ssh, "procs", None) or {}
        out: dict[str, tuple[int, Path]] = {}
        for host, name in self.nova_hosts().items():
            proc = procs.get(name)
            if proc is not None and proc.sshd is not None and proc.sshd.poll() is None:
                out[host] = (proc.sshd.pid, proc.root / TREES["/var/log"] / NOVA_COMPUTE_LOG[len("/var/log/"):])
        return out

    def _nova_processes(self) -> list[tuple[str, str, str, str]]:
        """(node name, container, real process, log path on the node) for real Nova's processes."""
        if not self.nova:
            return []
        rows = [(host_node, "nova_compute", f"nova-compute@{host}", NOVA_COMPUTE_LOG)
                for host, host_node in self.nova_hosts().items() if f"nova-compute@{host}" in self.nova.daemons]
        for name, node in self.state.nodes.items():
            for process, (container, log) in NOVA_CONTROL.items():
                if container in node.containers:
                    rows.append((name, container, process, log))
        return rows

    def follow_container(self, node, container: str) -> None:
        agents = self.ovs_agents
        if agents is not None and container == OVS_AGENT and node.name in agents.agents:
            agents.follow(node.name, node.containers[OVS_AGENT].status == "running")
        if not self.nova:
            return
        for name, cname, process, _ in self._nova_processes():
            if cname == container and self.state.nodes.get(name) is node:
                self.nova.follow(process, node.containers[cname].status == "running")

    def _prepare_real_agents(self) -> list[str]:
        """Each OVS agent node's network namespace and veth pair (ovs_agents.py); returns the
        addresses RabbitMQ must also listen on."""
        from .nodes import _Spawner
        from .ovs_agents import OvsAgents, available
        why = available()
        if why:
            raise RealTierUnavailable(f"real lab: the real OVS agents cannot run here: {why}")
        self._agent_spawner = _Spawner()
        self.ovs_agents = OvsAgents(self._agent_spawner)
        nodes = {name: (n.hostname, n.address) for name, n in self.state.nodes.items() if OVS_AGENT in n.containers}
        for name in nodes:
            self.state.nodes[name].real_ovs_agent = True      # DiskNode: no model boot, the real one
        return self.ovs_agents.prepare(nodes)

    def _start_real_agents(self) -> None:
        """Each node's ovs-vswitchd and, where its container runs, its agent; then wait until every
        started agent has reported its state to Neutron or exited (deadline)."""
        from .ovs_agents import STARTUP_TIMEOUT
        agents = self.ovs_agents
        specs = self.scenario["nodes"]
        rabbit = self.openstack.rabbitmq
        agents.start_switches({name: Path(self._workdir) / "nodes" / name for name in agents.agents},
                              rabbit.transport_url_on)
        started = []
        for name, agent in agents.agents.items():
            node = self.state.nodes[name]
            # The agent's log is the real agent's: only what the scenario itself wrote stays.
            node.write(OVS_AGENT_LOG, str(((specs.get(name) or {}).get("files") or {}).get(OVS_AGENT_LOG) or ""))
            container = node.containers[OVS_AGENT]
            if container.status in ("running", "restarting"):
                container.status, container.exit_code = "running", 0
                agent.start()
                started.append(name)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        waiting = set(started)
        while waiting:
            for name in list(waiting):
                agent = agents.agents[name]
                if not agent.alive() or agent.said_terminated() or self._real_agent_reported(agent.hostname):
                    waiting.discard(name)
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise RealTierUnavailable(f"real lab: OVS agents on {sorted(waiting)} did not report "
                                          f"within {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.2)
        self._sync_processes()

    def _agent_on_compute(self, host: str):
        """The real agent of the node whose compute is ``host`` (its Nova host name), if any."""
        agents = self.ovs_agents
        if agents is None:
            return None
        overrides = self.state.cloud.service_overrides
        for node in self.state.nodes.values():
            if overrides.get(node.name, {}).get("host", node.hostname) == host:
                return agents.agents.get(node.name)
        return None

    def _plug_vifs(self, host: str, server_id: str, ports: list[dict], networks: dict[str, dict]) -> None:
        """The server is ACTIVE on ``host``: where that node's agent is real, its VIFs are plugged
        into the node's br-int as os-vif does (ovs_agents.NodeAgent.plug_vif), so the real agent
        binds them and real Neutron marks the ports ACTIVE itself (update_device_up)."""
        agent = self._agent_on_compute(host)
        if agent is None or agent.root is None:
            return
        for port in ports:
            agent.plug_vif(port["id"], port["mac_address"], server_id,
                           (networks.get(port["network_id"]) or {}).get("mtu"))
            self._plugged[port["id"]] = agent
        self._dhcp_ready([p for p in ports if p["fixed_ips"]])

    def _dhcp_ready(self, ports: list[dict]) -> None:
        """The lab's DHCP agent model, where its container runs, reports the ports configured as
        the real DHCP agent does once dnsmasq has their host entries (dhcp_ready.py)."""
        nodes = [n for n in self.state.nodes.values()
                 if (c := n.containers.get("neutron_dhcp_agent")) is not None
                 and (c.status == "running" or self._building_scenario)]
        if not nodes or not ports:
            return
        # The guest's lease, as the embedded lab's dnsmasq.log has it (packet_path.dnsmasq_log),
        # for real Neutron's port: the guest booted and dnsmasq answered it.
        for port in ports:
            for ip in port["fixed_ips"]:
                for line in packet_path.dnsmasq_lease_lines(port["id"], ip["ip_address"], port["mac_address"]):
                    nodes[0].append_log(packet_path.DNSMASQ_LOG, line)
        done = subprocess.run([str(venv("openstack") / "bin/python"), str(Path(__file__).with_name("dhcp_ready.py")),
                               nodes[0].hostname, *[p["id"] for p in ports]],
                              env=dict(os.environ, KOLLA_LAB_TRANSPORT_URL=self.openstack.rabbitmq.transport_url),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        if done.returncode != 0:
            raise RealTierUnavailable(f"real lab: dhcp_ready_on_ports: {(done.stderr or done.stdout).strip()[-300:]}")

    def _unplug_vif(self, port: dict) -> None:
        agent = self._plugged.pop(port["id"], None)
        if agent is not None and agent.root is not None:
            agent.unplug_vif(port["id"])

    def _wait_plugged_ports(self) -> None:
        """The scenario's plugged ports until real Neutron has them ACTIVE (the agent's
        update_device_up), within a deadline: Nova too waits for network-vif-plugged before it
        calls a libvirt guest ACTIVE. A port left DOWN (an agent that never reports) stays so."""
        deadline = time.monotonic() + PORT_ACTIVE_TIMEOUT
        waiting = set(self._plugged)
        while waiting and time.monotonic() < deadline:
            for port_id in list(waiting):
                if self._neutron("GET", f"/ports/{port_id}")["port"]["status"] == "ACTIVE":
                    waiting.discard(port_id)
            if waiting:
                time.sleep(0.5)

    def _real_agent_reported(self, host: str) -> bool:
        try:
            with sqlite3.connect(self.openstack.neutron_db, timeout=10) as db:
                return db.execute("SELECT 1 FROM agents WHERE host = ? AND binary = ?",
                                  (host, "neutron-openvswitch-agent")).fetchone() is not None
        except sqlite3.OperationalError:
            return False

    def _sync_processes(self) -> None:
        """A real Nova process that died shows as its container exited, with its exit code; a real
        agent that exited as its container restarting (Kolla's restart policy), and is restarted."""
        agents = self.ovs_agents
        if agents is not None:
            for name, exited in agents.beat().items():
                container = self.state.nodes[name].containers[OVS_AGENT]
                if exited is not None:
                    container.status, container.exit_code = "restarting", exited
                    container.restart_count += 1
                elif container.status == "restarting":
                    container.status, container.exit_code = "running", 0
                    container.started_at = _dt.datetime.now(_dt.timezone.utc)
        for name, cname, process, _ in self._nova_processes():
            container = self.state.nodes[name].containers[cname]
            code = self.nova.exit_code(process) if self.nova else None
            if code is not None and container.status == "running":
                container.status, container.exit_code = "exited", code

    def server_name(self, server_id: str) -> str | None:
        """The name of the server real Neutron's port belongs to (its device_id), on either compute."""
        if server_id in self._nova_servers:
            return self._nova_servers[server_id]
        server = self.compute.servers.get(server_id) if self.compute else None
        return str(server["name"]) if server and server.get("name") is not None else None

    def _compute_hosts(self) -> list[str]:
        overrides = self.state.cloud.service_overrides
        return [overrides.get(n.name, {}).get("host", n.hostname) for n in self.state.nodes.values()
                if (c := n.containers.get("nova_compute")) is not None and c.status == "running"]

    def _agent_rows(self) -> list[tuple]:
        rows = []
        now = _dt.datetime.utcnow()
        real = set(self.ovs_agents.agents) if self.ovs_agents is not None else set()
        for node in self.state.nodes.values():
            for cname, (agent_type, binary, topic) in AGENT_KINDS.items():
                container = node.containers.get(cname)
                if container is None or (cname == OVS_AGENT and node.name in real):
                    continue        # the real agent reports itself (report_state over RPC)
                alive = container.status == "running" or (
                    self._networks_being_built and cname in ("neutron_l3_agent", "neutron_dhcp_agent"))
                configurations: dict = {}
                if cname == OVS_AGENT:
                    ini = node.agent_config()
                    mappings = node.agent_mappings()
                    # The real agent exits when a mapped bridge is missing: no more heartbeats.
                    alive = alive and all(bridge in node.ovs for bridge in mappings.values())
                    configurations = {
                        "bridge_mappings": mappings, "integration_bridge": "br-int",
                        "tunnel_types": [t.strip() for t in ini.get("agent", {}).get("tunnel_types", "").split(",")
                                         if t.strip()],
                        "tunneling_ip": ini.get("ovs", {}).get("local_ip", node.address),
                        "datapath_type": ini.get("ovs", {}).get("datapath_type", "system"),
                        "l2_population": ini.get("agent", {}).get("l2_population") == "true",
                        "arp_responder_enabled": ini.get("agent", {}).get("arp_responder") == "true",
                        "ovs_hybrid_plug": True, "enable_distributed_routing": False, "devices": 0,
                        "extensions": [], "log_agent_heartbeats": False,
                        "ovs_capabilities": {"datapath_types": ["netdev", "system"],
                                             "iface_types": ["internal", "patch", "vxlan"]}}
                elif cname == "neutron_l3_agent":
                    configurations = {"agent_mode": "legacy", "interface_driver": "openvswitch",
                                      "handle_internal_only_routers": True}
                elif cname == "neutron_dhcp_agent":
                    configurations = {"dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq", "notifies_port_ready": True}
                beat = now if alive else now - _dt.timedelta(hours=1)
                agent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{node.hostname}/{binary}"))
                import json
                zone = "nova" if cname in ("neutron_l3_agent", "neutron_dhcp_agent") else None
                rows.append((agent_type, binary, topic, node.hostname, zone, _stamp(now - _dt.timedelta(hours=2)),
                             _stamp(now - _dt.timedelta(hours=2)), _stamp(beat), json.dumps(configurations),
                             agent_id))
        return rows

    def _sync_agents(self) -> None:
        # One writer at a time, rows computed inside: the beat thread computed a stopped agent's
        # row (an hour-old heartbeat), a container start then wrote it alive, and the beat's late
        # write made it dead again, so a fix's verification read "dead" (parity ovs-agent-down
        # failed that way in a full CI run under load).
        with self._agent_rows_lock:
            self._sync_agent_rows()

    def _sync_agent_rows(self) -> None:
        stack = self.openstack          # read once: stop() may clear it while the beat thread runs
        if stack is None:
            return
        rows = self._agent_rows()
        for attempt in range(20):
            if self._stop_beats.is_set() and threading.current_thread().name == "real-lab-agents":
                return
            try:
                with sqlite3.connect(stack.neutron_db, timeout=10) as db:
                    for row in rows:
                        db.execute(
                            "INSERT INTO agents (agent_type, binary, topic, host, availability_zone, admin_state_up,"
                            " created_at, started_at, heartbeat_timestamp, configurations, load, id)"
                            " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0, ?)"
                            " ON CONFLICT(id) DO UPDATE SET heartbeat_timestamp=excluded.heartbeat_timestamp,"
                            " configurations=excluded.configurations", row)
                return
            except sqlite3.OperationalError:
                time.sleep(0.1 * (attempt + 1))

    def _heartbeats(self) -> None:
        while not self._stop_beats.wait(HEARTBEAT_EVERY):
            if self.openstack:
                self._write_consoles()
                self._sync_processes()
                self._sync_agents()
                self._sync_server_log()

    def _write_consoles(self) -> None:
        """Each guest's console for real Nova's driver (nova_run.py), from the lab's guest model."""
        nova = self.nova
        if not nova:
            return
        for uuid_, name in list(self._nova_servers.items()):
            path = nova.console_dir / uuid_
            text = self._guest_console(name)
            try:
                if not path.is_file() or path.read_text() != text:
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(text)
                    os.replace(tmp, path)
            except OSError:
                pass

    def _sync_server_log(self) -> None:
        """The controller's neutron-server.log is real Neutron's own log (its binding failures)."""
        if not self.openstack or not self.openstack.neutron:
            return
        source = self.openstack.neutron.workdir / "neutron-server.log"
        try:
            text = source.read_text(errors="replace")
        except OSError:
            return
        for node in self.state.nodes.values():
            if "neutron_server" in node.containers:
                node.write(NEUTRON_SERVER_LOG, text)
        nova = self.nova
        for name, _, process, log in self._nova_processes():
            if nova.logs_in_node(process):
                continue            # it writes the node's file itself
            try:
                node_log = nova.log_of(process).read_text(errors="replace")
            except (OSError, KeyError, AttributeError):
                continue
            self.state.nodes[name].write(log, node_log)

    # -- the scenario's cloud, through the real APIs ------------------------------------------
    def _neutron(self, method: str, path: str, body: dict | None = None) -> dict:
        status, _, payload = _http(method, f"{self.openstack.neutron.url}/v2.0{path}", body,
                                   token=self.openstack.admin_token)
        if status >= 500:
            # wsgiref answers a generic body for an exception that escaped Neutron; the reason is in
            # the server's stderr/log, so the lab's error carries its last exception line.
            raise RuntimeError(f"real lab: neutron {method} {path}: {status} {payload}; "
                               f"neutron-server's last error: {self._neutron_last_error()}")
        if status >= 400:
            raise RuntimeError(f"real lab: neutron {method} {path}: {status} {payload}")
        return payload

    def _neutron_last_error(self) -> str:
        service = self.openstack.neutron
        for path in (service.workdir / f"{service.name}.stderr", service.workdir / "neutron-server.log"):
            try:
                lines = path.read_text(errors="replace").splitlines()[-400:]
            except OSError:
                continue
            errors = [l for l in lines if l and not l.startswith((" ", "\t", "Traceback")) and
                      ("Error" in l or "Exception" in l or " ERROR " in l)]
            if errors:
                return f"{path.name}: {errors[-1][:400]}"
        return "none logged"

    def _nova_api(self, method: str, path: str, body: dict | None = None, ok=(200, 201, 202, 204)) -> dict:
        status, _, payload = _http(method, f"{self.nova.api.url}/v2.1{path}", body, token=self.openstack.admin_token)
        if status not in ok:
            raise RuntimeError(f"real lab: nova {method} {path}: {status} {payload}")
        return payload

    def _build_servers_with_nova(self, spec: dict, networks: dict[str, dict]) -> dict[str, dict]:
        """The scenario's servers through the real Nova API, one at a time as the operator built them;
        each is waited for until Nova has finished with it (ACTIVE or ERROR, within a deadline)."""
        flavors = {f["name"]: f for f in self._nova_api("GET", "/flavors")["flavors"]}
        servers: dict[str, dict] = {}
        for server in spec.get("servers", []):
            image = next(i for i in self.compute.images.values() if i["name"] == server["image"])
            body = {"name": server["name"], "imageRef": image["id"], "flavorRef": flavors[server["flavor"]]["id"],
                    "networks": [{"uuid": networks[n]["id"]}
                                 for n in [server["network"], *(server.get("extra_networks") or [])]]}
            if server.get("key_name"):
                body["key_name"] = server["key_name"]
            if server.get("security_groups"):
                body["security_groups"] = [{"name": str(n)} for n in server["security_groups"]]
            created = self._nova_api("POST", "/servers", {"server": body})["server"]
            self._nova_servers[created["id"]] = server["name"]
            self._write_consoles()
            deadline = time.monotonic() + SERVER_BUILD_TIMEOUT
            while True:
                shown = self._nova_api("GET", f"/servers/{created['id']}")["server"]
                if shown["status"] in ("ACTIVE", "ERROR") and not shown.get("OS-EXT-STS:task_state"):
                    break
                if time.monotonic() > deadline:
                    raise RealTierUnavailable(f"real lab: nova left {server['name']} in {shown['status']} "
                                       f"after {SERVER_BUILD_TIMEOUT:.0f} s")
                time.sleep(0.2)
            servers[server["name"]] = shown
        return servers

    def _build_cloud(self, spec: dict) -> None:
        compute = self.compute
        for flavor in spec.get("flavors", []):
            compute.add_flavor(flavor)
            if self.nova:
                self._nova_api("POST", "/flavors", {"flavor": {
                    "name": flavor["name"], "vcpus": int(flavor.get("vcpus", 1)), "ram": int(flavor.get("ram", 512)),
                    "disk": int(flavor.get("disk", 1)), **({"id": str(flavor["id"])} if flavor.get("id") else {})}})
        for image in spec.get("images", []):
            compute.add_image(image)
        for keypair in spec.get("keypairs", []):
            compute.add_keypair(keypair["name"], self.client_public)
            if self.nova:
                self._nova_api("POST", "/os-keypairs", {"keypair": {"name": keypair["name"],
                                                                     "public_key": self.client_public}})
        subnets: dict[str, dict] = {}
        networks: dict[str, dict] = {}
        for net in spec.get("networks", []):
            body = {"name": net["name"], "router:external": bool(net.get("external", False)),
                    "provider:network_type": net.get("network_type", "vxlan")}
            if net.get("physical_network"):
                body["provider:physical_network"] = net["physical_network"]
            if net.get("segmentation_id"):
                body["provider:segmentation_id"] = net["segmentation_id"]
            created = self._neutron("POST", "/networks", {"network": body})["network"]
            networks[net["name"]] = created
            for sub in net.get("subnets", []):
                sbody = {"name": sub["name"], "network_id": created["id"], "ip_version": 4, "cidr": sub["cidr"],
                         "enable_dhcp": bool(sub.get("enable_dhcp", True))}
                for key in ("gateway_ip", "allocation_pools", "dns_nameservers"):
                    if key in sub:
                        sbody[key] = sub[key]
                subnets[sub["name"]] = self._neutron("POST", "/subnets", {"subnet": sbody})["subnet"]
        # A scenario's fixed floating address is taken before any router: real Neutron's IPAM gives a
        # router's gateway a random free address of the pool, which can be the scenario's one (CI saw
        # 409 IpAddressAlreadyAllocated for 192.168.35.160). The address is associated after the build.
        reserved: dict[int, dict] = {}
        for index, fip in enumerate(spec.get("floating_ips", [])):
            if fip.get("address"):
                reserved[index] = self._neutron("POST", "/floatingips", {"floatingip": {
                    "floating_network_id": networks[fip["network"]]["id"],
                    "floating_ip_address": str(fip["address"])}})["floatingip"]
        for router in spec.get("routers", []):
            body: dict = {"name": router["name"]}
            if router.get("external_gateway"):
                body["external_gateway_info"] = {"network_id": networks[router["external_gateway"]]["id"]}
            created = self._neutron("POST", "/routers", {"router": body})["router"]
            for subnet in router.get("interfaces", []):
                self._neutron("PUT", f"/routers/{created['id']}/add_router_interface",
                              {"subnet_id": subnets[subnet]["id"]})
        groups = self._neutron("GET", f"/security-groups?project_id={self.openstack.admin_project_id}")
        default = next((g for g in groups["security_groups"] if g["name"] == "default"), None)
        if default is None:       # the default group appears on first use
            self._neutron("GET", f"/security-groups?project_id={self.openstack.admin_project_id}&name=default")
            default = self._neutron("GET", "/security-groups?name=default")["security_groups"][0]
        by_name = {"default": default}
        for group in spec.get("security_groups", []):
            by_name[group["name"]] = self._neutron("POST", "/security-groups", {"security_group": {
                "name": group["name"], "description": str(group.get("description") or "")}})["security_group"]
        for rule in spec.get("security_group_rules", []):
            body = {"security_group_id": by_name[rule.get("group", "default")]["id"],
                    "direction": rule.get("direction", "ingress"),
                    "ethertype": "IPv4", "protocol": rule.get("protocol")}
            if rule.get("port") is not None:
                body["port_range_min"] = body["port_range_max"] = int(rule["port"])
            if rule.get("remote_ip_prefix"):
                body["remote_ip_prefix"] = rule["remote_ip_prefix"]
            self._neutron("POST", "/security-group-rules", {"security_group_rule": body})
        self._networks_being_built = False
        self._sync_agents()
        servers: dict[str, dict] = {}
        if self.nova:
            servers = self._build_servers_with_nova(spec, networks)
        for server in spec.get("servers", []) if not self.nova else []:
            image = next(i for i in compute.images.values() if i["name"] == server["image"])
            flavor = next(f for f in compute.flavors.values() if f["name"] == server["flavor"])
            servers[server["name"]] = compute.build_server({
                "name": server["name"], "imageRef": image["id"], "flavorRef": flavor["id"],
                "key_name": server.get("key_name"),
                **({"security_groups": [{"name": str(n)} for n in server["security_groups"]]}
                   if server.get("security_groups") else {}),
                "networks": [{"uuid": networks[n]["id"]} for n in [server["network"], *(server.get("extra_networks") or [])]]})
        for index, fip in enumerate(spec.get("floating_ips", [])):
            body = {"floating_network_id": networks[fip["network"]]["id"]}
            if fip.get("server"):
                ports = self._neutron("GET", f"/ports?device_id={servers[fip['server']]['id']}")["ports"]
                if fip.get("port_network"):
                    ports = [p for p in ports if p["network_id"] == networks[fip["port_network"]]["id"]]
                if ports:
                    body["port_id"] = ports[0]["id"]
            if index in reserved:           # the scenario's address, taken above (an admin may ask for one)
                if "port_id" in body:
                    self._neutron("PUT", f"/floatingips/{reserved[index]['id']}",
                                  {"floatingip": {"port_id": body["port_id"]}})
                continue
            self._neutron("POST", "/floatingips", {"floatingip": body})


SERVER_BUILD_TIMEOUT = 180.0
PORT_ACTIVE_TIMEOUT = 60.0


def _mappings(ini_text: str) -> str:
    for line in ini_text.splitlines():
        if line.strip().startswith("bridge_mappings"):
            return line.split("=", 1)[1].strip()
    return ""


def start_real_lab(scenario: str = "seed-homelab") -> RealLab:
    """The CLI's entry point for ``--lab-backend real``: same contract as Lab, and the same real
    parts as ``kolla-wizard lab --backend real`` (real Nova, Placement, RabbitMQ and each node's
    neutron-openvswitch-agent), so the diagnosis reads what those components recorded."""
    return RealLab(scenario, compute="nova", agents="real").start()
