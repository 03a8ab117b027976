"""The real ``neutron-openvswitch-agent``, one per node whose scenario runs one, on a real
``ovs-vswitchd`` (userspace ``netdev`` datapath: this machine has no Open vSwitch kernel module).

Each such node gets a network namespace of its own (a holder process started with ``unshare
--net``, killed with the lab), where its ovs-vswitchd and its agent run together: the switch's
tap devices (br-int, br-ex, br-tun) stay out of the host's interfaces, and the agent's OpenFlow
listener (``of_listen_address`` 127.0.0.1) and the switch share a loopback. In it:
- ``lo`` carries the node's Kolla address (the ``local_ip`` Kolla renders, 192.168.35.x), so the
  agent finds it on "this host's interfaces"; there is no dummy driver here. The namespace has no
  route out: nothing there can dial 192.168.35.x or 10.x outside it.
- a veth pair to the host with a link-local /30 (169.254.a.b): the lab's RabbitMQ also listens on
  the host end, the only way out of the namespace.
ovsdb stays the node's (nodes.py), reached over its unix socket (sockets cross network
namespaces); ``OVS_RUNDIR`` is the node's run directory (the switch's ``br-*.mgmt`` sockets).

The agent reads the node's deployed openvswitch_agent.ini (Kolla's render, in the node's
/etc/kolla) after a lab neutron.conf (transport_url, host) and before a small override file for
what only this machine needs (datapath_type netdev, ovsdb_connection, privsep helper); its log is
the node's /var/log/kolla/neutron/neutron-openvswitch-agent.log."""
from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from .venvs import RealTierUnavailable, venv

UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
IP = shutil.which("ip") or "/usr/sbin/ip"
OVS_VSWITCHD = shutil.which("ovs-vswitchd") or "/usr/sbin/ovs-vswitchd"
OVS_VSCTL = shutil.which("ovs-vsctl") or "/usr/bin/ovs-vsctl"
AGENT_INI = "etc-kolla/neutron-openvswitch-agent/openvswitch_agent.ini"   # under the node's directory
AGENT_LOG = "var-log/kolla/neutron/neutron-openvswitch-agent.log"
STARTUP_TIMEOUT = 120.0
# Docker's restart policy (Kolla's containers: unless-stopped): the delay before a restart doubles
# from 100 ms up to a minute, and goes back to 100 ms once the container ran 10 s.
RESTART_FIRST, RESTART_MAX, RESTART_RESET = 0.1, 60.0, 10.0


def available() -> str | None:
    """None when the real agents can run here, else why not (one line)."""
    iptables_save = shutil.which("iptables-save") or "/usr/sbin/iptables-save"   # Kolla's iptables_hybrid driver
    for program in (UNSHARE, NSENTER, IP, OVS_VSWITCHD, iptables_save):
        if not os.access(program, os.X_OK):
            return f"{program} is missing (install with: bash .ci/real-tier-deps)"
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (ovs-vswitchd's userspace datapath needs it)"
    return None


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    if done.returncode != 0:
        raise RealTierUnavailable(f"real agents: {' '.join(argv[:6])}: "
                                  f"{(done.stderr or done.stdout).strip()[:300]}")


def _used_link_local() -> set[ipaddress.IPv4Network]:
    out = subprocess.run([IP, "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    nets = set()
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            nets.add(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    return nets


class NodeNetwork:
    """One node's network namespace (a holder process) with the node's address on lo and a
    veth pair to the host on a link-local /30 picked free on this machine."""

    def __init__(self, name: str, address: str, spawner):
        self.name, self.address = name, address
        used = _used_link_local()
        while True:
            # 169.254.1.0 .. 169.254.254.255, never 169.254.169.254 (metadata)
            net = ipaddress.ip_network(f"169.254.{random.randint(1, 254)}.{4 * random.randint(0, 63)}/30")
            if net not in used and not net.overlaps(ipaddress.ip_network("169.254.169.0/24")):
                break
        hosts = list(net.hosts())
        self.host_address, self.node_address = str(hosts[0]), str(hosts[1])
        self.host_link = "kwl" + secrets.token_hex(5)          # 13 characters (15 is the limit)
        self.holder = spawner.popen([UNSHARE, "--net", "sleep", "infinity"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        mine = os.stat("/proc/self/ns/net").st_ino
        deadline = time.monotonic() + 10
        while True:             # unshare has run once the holder's namespace differs from ours
            try:
                if os.stat(f"/proc/{self.holder.pid}/ns/net").st_ino != mine:
                    break
            except OSError:
                pass
            if self.holder.poll() is not None or time.monotonic() > deadline:
                raise RealTierUnavailable(f"real agents: {name}: unshare --net failed")
            time.sleep(0.01)
        pid = str(self.holder.pid)
        _run([IP, "link", "add", self.host_link, "type", "veth", "peer", "name", "eth0", "netns", pid])
        _run([IP, "addr", "add", f"{self.host_address}/30", "dev", self.host_link])
        _run([IP, "link", "set", self.host_link, "up"])
        _run(self.nsenter() + ["sh", "-ec", f"{IP} link set lo up; {IP} addr add {self.address}/32 dev lo; "
                               f"{IP} addr add {self.node_address}/30 dev eth0; {IP} link set eth0 up"])

    def nsenter(self) -> list[str]:
        return [NSENTER, f"--net=/proc/{self.holder.pid}/ns/net", "--"]

    def stop(self) -> None:
        # The veth pair and everything in the namespace go with its last process.
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(timeout=5)


def _override_ini(root: Path, db_sock: Path) -> str:
    return ("# kolla-wizard lab: what only this machine needs (the operator's file is not edited)\n"
            "[ovs]\n"
            "datapath_type = netdev\n"                              # no OVS kernel module here
            f"ovsdb_connection = unix:{db_sock}\n"
            "[agent]\n"
            # The agent runs as root here: no sudo/rootwrap, only the node's OVS run directory.
            f"root_helper = env OVS_RUNDIR={root / 'run/openvswitch'}\n")


def _neutron_conf(root: Path, hostname: str, transport_url: str) -> str:
    return ("[DEFAULT]\n"
            f"host = {hostname}\n"
            f"transport_url = {transport_url}\n"
            "use_stderr = false\n"
            f"state_path = {root / 'agent-state'}\n"
            f"[oslo_concurrency]\nlock_path = {root / 'agent-state/lock'}\n")


class NodeAgent:
    """One node's ovs-vswitchd and neutron-openvswitch-agent, in the node's namespace."""

    def __init__(self, name: str, hostname: str, network: NodeNetwork, spawner):
        self.name, self.hostname, self.network, self.spawner = name, hostname, network, spawner
        self.root: Path | None = None
        self.vswitchd: subprocess.Popen | None = None
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_delay = RESTART_FIRST
        self.wanted = False             # the container should run (docker start vs docker stop)
        self.restart_at: float | None = None
        self.log_offset = 0

    # -- the switch -----------------------------------------------------------------------------
    def start_switch(self, root: Path) -> None:
        self.root = root
        run = root / "run/openvswitch"
        db_sock = run / "db.sock"
        vsctl = [OVS_VSCTL, f"--db=unix:{db_sock}", "--no-wait"]
        bridges = subprocess.run(vsctl + ["list-br"], capture_output=True, text=True, timeout=30).stdout.split()
        for bridge in bridges:         # the userspace datapath; "system" needs the kernel module
            _run(vsctl + ["set", "bridge", bridge, "datapath_type=netdev"])
        env = dict(os.environ, OVS_RUNDIR=str(run))
        log = root / "ovs/ovs-vswitchd.log"
        self.vswitchd = self.spawner.popen(
            self.network.nsenter() + [OVS_VSWITCHD, f"unix:{db_sock}", f"--log-file={log}",
                                      f"--unixctl={run / 'ovs-vswitchd.ctl'}", "--verbose=off",
                                      "--verbose=file:info"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        (root / "agent-state/lock").mkdir(parents=True, exist_ok=True)
        (root / "agent-override.ini").write_text(_override_ini(root, db_sock))

    # -- the agent ------------------------------------------------------------------------------
    def write_conf(self, transport_url: str) -> None:
        (self.root / "agent-neutron.conf").write_text(_neutron_conf(self.root, self.hostname, transport_url))

    def start(self) -> None:
        root = self.root
        log = root / AGENT_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log_offset = log.stat().st_size if log.exists() else 0
        out = open(root / "neutron-openvswitch-agent.stderr", "ab")
        argv = [str(venv("openstack") / "bin/neutron-openvswitch-agent"),
                "--config-file", str(root / "agent-neutron.conf"),
                "--config-file", str(root / AGENT_INI),
                "--config-file", str(root / "agent-override.ini"),
                "--log-file", str(log)]
        self.process = self.spawner.popen(
            self.network.nsenter() + argv,
            # The venv's bin first: oslo.privsep starts ``privsep-helper`` (after root_helper) for
            # each of Neutron's privsep contexts by name.
            env=dict(os.environ, OVS_RUNDIR=str(root / "run/openvswitch"),
                     PATH=f"{venv('openstack') / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"),
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, cwd=root)
        out.close()
        self.started_at = time.monotonic()
        self.wanted, self.restart_at = True, None

    def said_terminated(self) -> bool:
        """The agent logged "... Agent terminated!" since its last start. neutron 29's agent (its
        threading backend) logs it and calls sys.exit(1) in its main thread, but the process stays
        (os-ken's OpenFlow listener thread): seen here, see docs/real-tier.md."""
        try:
            with open(self.root / AGENT_LOG, "rb") as handle:
                handle.seek(self.log_offset)
                return b"Agent terminated!" in handle.read(4 << 20)
        except OSError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        if self.process is None:
            return None
        code = self.process.poll()
        if code is None:
            return None
        return code if code >= 0 else 128 - code

    def stop_agent(self, graceful: bool = True) -> None:
        """docker stop: SIGTERM, then SIGKILL; to the process group (the agent's privsep daemons
        leave its process but not its group)."""
        self.wanted, self.restart_at = False, None
        proc = self.process
        if proc is None:
            return
        for sig in ((signal.SIGTERM, signal.SIGKILL) if graceful else (signal.SIGKILL,)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=5)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue

    # -- an instance's VIF ---------------------------------------------------------------------
    def plug_vif(self, port_id: str, mac: str, instance_id: str, mtu: int | None = None) -> str:
        """What os-vif's ovs plugin does for a Kolla libvirt compute (``VIFBridge``: Kolla's agent
        runs OVSHybridIptablesFirewallDriver, so Neutron's vif_details say ovs_hybrid_plug):
        ``_plug_bridge`` makes the Linux bridge qbr<id>, the veth pair qvb<id>/qvo<id> (qvb in qbr)
        and adds qvo<id> to br-int with the Interface external_ids of ``create_ovs_vif_port``
        (iface-id, iface-status, attached-mac, vm-uuid); names are prefix + port id cut to 14
        (``gen_port_name``, NIC_NAME_LEN). libvirt's tap<id> in qbr is the guest's, and no guest
        runs here. Done in the node's namespace, where its ovs-vswitchd (userspace datapath) opens
        qvo like any system port; the real agent sees the port and reports the device up."""
        qbr, qvb, qvo = (f"{prefix}{port_id}"[:14] for prefix in ("qbr", "qvb", "qvo"))
        size = f" mtu {int(mtu)}" if mtu else ""
        _run(self.network.nsenter() + ["sh", "-ec",
             f"{IP} link show {qvo} >/dev/null 2>&1 && exit 0; "
             f"{IP} link add {qbr} type bridge; {IP} link set {qbr} up; "
             f"{IP} link add {qvb}{size} type veth peer name {qvo}{size}; "
             f"{IP} link set {qvb} master {qbr}; {IP} link set {qvb} up; {IP} link set {qvo} up"])
        db = f"--db=unix:{self.root / 'run/openvswitch/db.sock'}"
        _run([OVS_VSCTL, db, "--timeout=30", "--", "--may-exist", "add-port", "br-int", qvo, "--",
              "set", "Interface", qvo, f'external_ids:iface-id="{port_id}"', "external_ids:iface-status=active",
              f'external_ids:attached-mac="{mac}"', f'external_ids:vm-uuid="{instance_id}"'])
        return qvo

    def unplug_vif(self, port_id: str) -> None:
        """os-vif's ``_unplug_bridge``: qvo<id> off br-int, qbr<id> and the veth pair deleted."""
        qbr, qvb, qvo = (f"{prefix}{port_id}"[:14] for prefix in ("qbr", "qvb", "qvo"))
        db = f"--db=unix:{self.root / 'run/openvswitch/db.sock'}"
        _run([OVS_VSCTL, db, "--timeout=30", "--if-exists", "del-port", "br-int", qvo])
        if self.network.holder.poll() is None:
            _run(self.network.nsenter() + ["sh", "-c", f"{IP} link del {qvb} 2>/dev/null; "
                                                       f"{IP} link del {qbr} 2>/dev/null; true"])

    def stop(self) -> None:
        self.stop_agent(graceful=False)        # the lab goes away: nothing to shut down cleanly
        if self.vswitchd is not None and self.vswitchd.poll() is None:
            self.vswitchd.kill()
            self.vswitchd.wait(timeout=5)
        self.network.stop()


class OvsAgents:
    """The real agents of one lab: ``prepare`` (before RabbitMQ starts: it listens on the veths'
    host ends), ``start`` (after the nodes' ovsdb-servers), ``follow`` (docker start/stop),
    ``beat`` (exits and docker's restart policy), ``stop``."""

    def __init__(self, spawner):
        self.spawner = spawner
        self.agents: dict[str, NodeAgent] = {}
        # follow (a stand-in's thread) and beat (the lab's beat thread) both start and stop agents
        self._lock = threading.Lock()

    def prepare(self, nodes: dict[str, tuple[str, str]]) -> list[str]:
        """nodes: name -> (hostname, Kolla address). Returns the host-side addresses."""
        for name, (hostname, address) in nodes.items():
            self.agents[name] = NodeAgent(name, hostname, NodeNetwork(name, address, self.spawner), self.spawner)
        return [a.network.host_address for a in self.agents.values()]

    def start_switches(self, roots: dict[str, Path], transport_url_on) -> None:
        for name, agent in self.agents.items():
            agent.start_switch(roots[name])
            agent.write_conf(transport_url_on(agent.network.host_address))

    def stop(self) -> None:
        for agent in list(self.agents.values()):
            try:
                agent.stop()
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.agents.clear()

    def follow(self, name: str, running: bool) -> None:
        """The node's container was started, stopped or restarted (docker through the stand-in,
        kolla-ansible's handlers, a fix): the real agent follows."""
        agent = self.agents.get(name)
        if agent is None or agent.root is None:
            return
        with self._lock:
            agent.stop_agent()
            if running:
                agent.start()

    def beat(self) -> dict[str, int | None]:
        """Docker's restart policy over the agents: {node: exit code} for an agent seen exited now
        (its restart scheduled), {node: None} for one restarted now."""
        with self._lock:
            return self._beat()

    def _beat(self) -> dict[str, int | None]:
        now = time.monotonic()
        changes: dict[str, int | None] = {}
        for name, agent in self.agents.items():
            if not agent.wanted or agent.process is None:
                continue
            if agent.restart_at is not None:
                if now >= agent.restart_at:
                    agent.start()
                    changes[name] = None
                continue
            code = agent.exit_code()
            if code is None:
                if now - agent.started_at >= RESTART_RESET:
                    agent.restart_delay = RESTART_FIRST
                continue
            agent.restart_at = now + agent.restart_delay
            agent.restart_delay = min(agent.restart_delay * 2, RESTART_MAX)
            changes[name] = code
        return changes
