"""The real neutron-openvswitch-agent in the real lab (``RealLab(..., agents="real")``): one per node
that runs one in seed-homelab, on a real ovs-vswitchd (userspace datapath) in the node's own network
namespace, reporting to a real neutron-rpc-server over the lab's RabbitMQ. The agent rows, their
``configurations`` and heartbeats, the agent's log, the container state docker reports, and a mapped
bridge that is missing are what the real agent did. One lab for the module."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import openstack
import pytest

from .conftest import real_stack_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]
DEADLINE = 150.0
AGENT_LOG = "/var/log/kolla/neutron/neutron-openvswitch-agent.log"
TERMINATED = "Bridge br-ex for physical network physnet1 does not exist. Agent terminated!"


@pytest.fixture(scope="module")
def lab():
    real_stack_or_skip("openstack", "kolla", agents=True)
    from kolla_lab.real import RealLab
    real = RealLab("seed-homelab", agents="real").start()
    try:
        yield real
    finally:
        agents = list(real.ovs_agents.agents.values()) if real.ovs_agents else []
        pids = [p.pid for a in agents for p in (a.process, a.vswitchd, a.network.holder) if p is not None]
        links = [a.network.host_link for a in agents]
        real.stop()
        for pid in pids:            # nothing of the agents outlives the lab
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        shown = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        assert not [link for link in links if link in shown]


@pytest.fixture(scope="module")
def conn(lab):
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(lab.config_dir / "clouds.yaml")
    try:
        yield openstack.connect(cloud=lab.cloud_name)
    finally:
        os.environ.pop("OS_CLIENT_CONFIG_FILE", None)


@pytest.fixture(scope="module")
def first_rows(conn):
    return {a.host: a for a in conn.network.agents(agent_type="Open vSwitch agent")}


def ssh(lab, node: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-F", str(lab.config_dir / "ssh_config"), "-o", "BatchMode=yes", node, command],
                          capture_output=True, text=True, timeout=60)


def wait_for(what: str, predicate, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:.0f} s: {what}")
        time.sleep(0.5)


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode()


def test_the_real_agents_run_in_their_nodes_namespaces(lab):
    agents = lab.ovs_agents.agents
    assert sorted(agents) == ["compute01", "controller"]
    ours = os.stat("/proc/self/ns/net").st_ino
    namespaces = set()
    for name, agent in agents.items():
        assert agent.alive(), name
        line = _cmdline(agent.process.pid)
        assert "neutron-openvswitch-agent" in line
        # the node's deployed file (Kolla's render), then the lab's override for this machine only
        assert f"/nodes/{name}/etc-kolla/neutron-openvswitch-agent/openvswitch_agent.ini" in line
        assert line.index("openvswitch_agent.ini") < line.index("agent-override.ini")
        # nsenter execs the agent: the agent process itself is in the node's namespace
        net = os.stat(f"/proc/{agent.process.pid}/ns/net").st_ino
        assert net != ours and net == os.stat(f"/proc/{agent.vswitchd.pid}/ns/net").st_ino
        namespaces.add(net)
        assert "ovs-vswitchd" in _cmdline(agent.vswitchd.pid)
    assert len(namespaces) == 2
    assert lab.openstack.rpc is not None and lab.openstack.rpc.poll() is None     # neutron-rpc-server


def test_agent_rows_are_the_agents_own_reports(lab, first_rows):
    assert set(first_rows) == {"controller", "compute01"}
    controller, compute = first_rows["controller"], first_rows["compute01"]
    assert controller.is_alive and compute.is_alive
    assert controller.binary == "neutron-openvswitch-agent"
    # configurations as the agent built them from Kolla's file: the controller maps physnet1, compute01
    # has no mapping at all (the seed's fault), each tunnels from the node's own Kolla address
    assert controller.configuration["bridge_mappings"] == {"physnet1": "br-ex"}
    assert compute.configuration["bridge_mappings"] == {}
    assert controller.configuration["tunneling_ip"] == lab.state.nodes["controller"].address
    assert compute.configuration["tunneling_ip"] == lab.state.nodes["compute01"].address
    # keys only the real agent writes (the lab's rows never had them)
    assert "resource_provider_inventory_defaults" in compute.configuration
    assert compute.configuration["resource_provider_hypervisors"] == {"rp_tunnelled": "vm"}


def test_the_max_retries_tree_reads_the_real_agents_rows(lab):
    """The seed's max-retries walk on rows only the real agents wrote: compute01's agent is alive
    and maps nothing, which is the seed's finding."""
    from tests.trees.network_support import diagnose, finding_ids, steps
    report = diagnose(lab, ["max-retries"])
    assert finding_ids(report, "max-retries") == ["bridge-mapping-missing"]
    walked = dict(steps(report, "max-retries"))
    assert walked.get("agent-state") == "alive", walked


def test_the_agent_log_is_the_real_agents(lab):
    for name in ("controller", "compute01"):
        pid = lab.ovs_agents.agents[name].process.pid
        text = wait_for(f"{name}: the agent's start in its log",
                        lambda: (r := ssh(lab, name, f"grep -F 'Agent initialized successfully' {AGENT_LOG}")).returncode == 0
                        and r.stdout)
        # the lines carry the real process's pid (the lab's model wrote a small random one)
        assert re.search(rf"^\S+ \S+ {pid} INFO neutron\.plugins\.ml2\.drivers\.openvswitch\.agent\."
                         r"ovs_neutron_agent \[.*\] Agent initialized successfully", text, re.M), text
    # docker logs reports that same log (the stand-in reads the node's file)
    pid = lab.ovs_agents.agents["compute01"].process.pid
    logs = ssh(lab, "compute01", "sudo -n docker logs neutron_openvswitch_agent 2>&1")
    assert re.search(rf" {pid} INFO .* Agent initialized successfully", logs.stdout)
    mapped = ssh(lab, "controller", f"grep -F 'Mapping physical network physnet1 to bridge br-ex' {AGENT_LOG}")
    assert mapped.returncode == 0
    # compute01's agent maps nothing: it says nothing about physnet1
    assert ssh(lab, "compute01", f"grep -c 'Mapping physical network' {AGENT_LOG}").stdout.strip() == "0"


def test_docker_stop_and_start_drive_the_real_agent(lab, conn):
    agent = lab.ovs_agents.agents["compute01"]
    before = agent.process.pid
    assert ssh(lab, "compute01", "sudo -n docker stop neutron_openvswitch_agent").returncode == 0
    wait_for("the agent process gone", lambda: not agent.alive())
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)
    shown = ssh(lab, "compute01", "sudo -n docker ps -a --filter name=neutron_openvswitch_agent").stdout
    assert "Exited" in shown
    assert ssh(lab, "compute01", "sudo -n docker start neutron_openvswitch_agent").returncode == 0
    wait_for("a new agent process", lambda: agent.alive() and agent.process.pid != before)
    assert "Up" in ssh(lab, "compute01", "sudo -n docker ps --filter name=neutron_openvswitch_agent").stdout


def test_a_killed_agent_is_restarted_as_docker_restarts_kolla_containers(lab):
    """SIGKILL: the container shows the exit (137) and one restart, and a new agent runs."""
    agent = lab.ovs_agents.agents["compute01"]
    before = agent.process.pid
    os.kill(before, signal.SIGKILL)
    wait_for("a new agent process after the kill", lambda: agent.alive() and agent.process.pid != before)
    inspect = ssh(lab, "compute01", "sudo -n docker inspect neutron_openvswitch_agent")
    assert inspect.returncode == 0
    shown = json.loads(inspect.stdout)[0]
    assert shown["RestartCount"] == 1
    assert shown["State"]["Running"] is True


def test_a_missing_mapped_bridge_is_what_the_real_agent_says(lab):
    """The controller maps physnet1 to br-ex: remove br-ex and restart the agent."""
    node = "controller"
    agent = lab.ovs_agents.agents[node]
    assert ssh(lab, node, "sudo -n docker exec openvswitch_vswitchd ovs-vsctl del-br br-ex").returncode == 0
    assert ssh(lab, node, "sudo -n docker restart neutron_openvswitch_agent").returncode == 0
    pid = wait_for("a new agent process", lambda: agent.process is not None and agent.process.pid)
    line = wait_for("the agent's own termination line",
                    lambda: (r := ssh(lab, node, f"grep -F 'Agent terminated!' {AGENT_LOG}")).returncode == 0
                    and r.stdout.strip().splitlines()[-1])
    assert re.match(rf"^\S+ \S+ {pid} ERROR neutron\.plugins\.ml2\.drivers\.openvswitch\.agent\.ovs_neutron_agent "
                    rf"\[-\] {re.escape(TERMINATED)}$", line), line
    # what the wizard's node-agent step reads on that node concludes the same
    from tests.trees.network_support import context
    from wizard.probes.node_ovs import ovs_agent_node_state
    ctx = context(lab)
    try:
        ctx.facts["host"] = node
        evidence = ovs_agent_node_state(ctx, {}, lambda *a, **k: None)
    finally:
        ctx.close()
    assert evidence.outcome == "bridge-missing"
    assert evidence.facts["ovs"]["missing_bridge"] == "br-ex"


def test_heartbeats_are_the_agents(lab, conn, first_rows):
    """compute01's agent (restarted above) keeps reporting: its heartbeat moves past the first row's."""
    first = first_rows["compute01"].last_heartbeat_at
    row = wait_for("a newer heartbeat from compute01",
                   lambda: next((a for a in conn.network.agents(agent_type="Open vSwitch agent", host="compute01")
                                 if a.last_heartbeat_at > first), None), deadline=DEADLINE)
    assert row.is_alive


def _bridge_port(agent, name: str) -> dict | None:
    """br-int's Interface row ``name`` on the node's ovsdb (name, external_ids), or None."""
    db = f"--db=unix:{agent.root / 'run/openvswitch/db.sock'}"
    ports = subprocess.run(["ovs-vsctl", db, "list-ports", "br-int"], capture_output=True, text=True, timeout=30)
    if name not in ports.stdout.split():
        return None
    shown = subprocess.run(["ovs-vsctl", db, "--format=json", "--columns=name,external_ids", "list", "Interface", name],
                           capture_output=True, text=True, timeout=30)
    row = json.loads(shown.stdout)["data"][0]
    return {"name": row[0], "external_ids": dict(row[1][1])}


def test_an_active_servers_port_is_active_because_the_real_agent_said_so(lab, conn):
    """rocky-vm2 (demo-net, vxlan) is ACTIVE on compute01: its VIF is plugged into compute01's br-int
    as os-vif's hybrid plug does (qvo<port id[:11]>, Interface external_ids iface-id, iface-status,
    attached-mac, vm-uuid), compute01's real agent reports the device up, and real Neutron has the
    port ACTIVE. Unplugged, the agent reports it down and Neutron has it DOWN; plugged again, ACTIVE;
    the server deleted, the VIF is gone from br-int."""
    server = conn.compute.find_server("rocky-vm2")
    assert server.status == "ACTIVE" and server.compute_host == "compute01"
    [port] = list(conn.network.ports(device_id=server.id))
    agent = lab.ovs_agents.agents["compute01"]
    qvo = f"qvo{port.id}"[:14]
    assert port.binding_vif_details.get("ovs_hybrid_plug") is True      # Kolla's iptables_hybrid driver
    plugged = _bridge_port(agent, qvo)
    assert plugged is not None, f"{qvo} is not on compute01's br-int"
    assert plugged["external_ids"] == {"iface-id": port.id, "iface-status": "active",
                                       "attached-mac": port.mac_address, "vm-uuid": server.id}
    wait_for("real Neutron has the port ACTIVE",
             lambda: conn.network.get_port(port.id).status == "ACTIVE")
    said = ssh(lab, "compute01", f"grep -F \"Configuration for devices up ['{port.id}']\" {AGENT_LOG}")
    assert said.returncode == 0, "the real agent never reported the device up"

    agent.unplug_vif(port.id)
    assert _bridge_port(agent, qvo) is None
    wait_for("real Neutron has the unplugged port DOWN (the agent's update_device_down)",
             lambda: conn.network.get_port(port.id).status == "DOWN")
    # treat_devices_removed's own line (a set of one), before its update_device_list(devices_down)
    assert ssh(lab, "compute01", f"grep -F \"Ports {{'{port.id}'}} removed\" {AGENT_LOG}").returncode == 0
    agent.plug_vif(port.id, port.mac_address, server.id)
    wait_for("ACTIVE again once plugged again", lambda: conn.network.get_port(port.id).status == "ACTIVE")

    conn.compute.delete_server(server.id)
    wait_for("the server's VIF unplugged from br-int", lambda: _bridge_port(agent, qvo) is None)
    assert not list(conn.network.ports(device_id=server.id))
