"""python-openstackclient (the real CLI, as a subprocess) against the seed lab."""
import json

from .conftest import osc


def test_server_list_and_fault(seed_lab):
    servers = json.loads(osc(seed_lab, "server", "list", "-f", "json").stdout)
    status = {s["Name"]: s["Status"] for s in servers}
    assert status == {"rocky-vm1": "ERROR", "rocky-vm2": "ACTIVE"}
    shown = json.loads(osc(seed_lab, "server", "show", "rocky-vm1", "-f", "json", "-c", "fault", "-c", "status").stdout)
    vm1 = next(s for s in seed_lab.state.cloud.servers.values() if s["name"] == "rocky-vm1")
    assert shown["fault"]["code"] == 500
    assert shown["fault"]["message"] == ("Exceeded maximum number of retries. Exhausted all hosts available for "
                                         f"retrying build failures for instance {vm1['id']}.")
    assert "PortBindingFailed: Binding failed for port" in shown["fault"]["details"]


def test_events_show_port_binding_traceback(seed_lab):
    events = json.loads(osc(seed_lab, "server", "event", "list", "rocky-vm1", "-f", "json").stdout)
    assert [e["Action"] for e in events] == ["create"]
    detail = json.loads(osc(seed_lab, "server", "event", "show", "rocky-vm1", events[0]["Request ID"], "-f", "json").stdout)
    tracebacks = " ".join(e.get("traceback") or "" for e in detail["events"])
    assert "nova.exception.PortBindingFailed" in tracebacks
    # Nova deleted the failed port; the evidence is in neutron-server.log on the controller
    log = seed_lab.state.nodes["controller"].read("/var/log/kolla/neutron/neutron-server.log")
    assert "ERROR neutron.plugins.ml2.managers" in log and "on host compute01 for vnic_type normal using segments" in log
    assert not any(p["binding:vif_type"] == "binding_failed" for p in seed_lab.state.cloud.ports.values())


def test_agents_networks_services(seed_lab):
    agents = json.loads(osc(seed_lab, "network", "agent", "list", "--long", "-f", "json").stdout)
    ovs = {a["Host"]: a for a in agents if a["Agent Type"] == "Open vSwitch agent"}
    assert set(ovs) == {"controller", "compute01"} and all(a["Alive"] for a in ovs.values())
    net = json.loads(osc(seed_lab, "network", "show", "public1", "-f", "json").stdout)
    assert net["provider:network_type"] == "flat" and net["provider:physical_network"] == "physnet1"
    assert net["router:external"] is True
    services = json.loads(osc(seed_lab, "compute", "service", "list", "-f", "json").stdout)
    assert {"nova-compute", "nova-scheduler", "nova-conductor"} <= {s["Binary"] for s in services}
    keys = json.loads(osc(seed_lab, "keypair", "list", "-f", "json").stdout)
    assert [k["Name"] for k in keys] == ["homelab-key"]


def test_floating_ip_flow(seed_lab):
    cloud = seed_lab.state.cloud
    vm2 = next(s for s in cloud.servers.values() if s["name"] == "rocky-vm2")
    port_id = cloud.server_ports(vm2["id"])[0]["id"]
    port = json.loads(osc(seed_lab, "port", "show", port_id, "-f", "json").stdout)
    assert port["binding_vif_type"] == "ovs" and port["binding_host_id"] == "compute01"
    fail = osc(seed_lab, "floating", "ip", "create", "--port", port_id, "public1", check=False)
    assert fail.returncode != 0
    public1 = next(n for n in cloud.networks.values() if n["name"] == "public1")
    assert (f"External network {public1['id']} is not reachable from subnet {port['fixed_ips'][0]['subnet_id']}.  "
            f"Therefore, cannot associate Port {port_id} with a Floating IP.") in fail.stderr
    assert "404" in fail.stderr
    osc(seed_lab, "router", "create", "demo-router")
    osc(seed_lab, "router", "set", "--external-gateway", "public1", "demo-router")
    osc(seed_lab, "router", "add", "subnet", "demo-router", "demo-subnet")
    fip = json.loads(osc(seed_lab, "floating", "ip", "create", "public1", "-f", "json").stdout)
    osc(seed_lab, "server", "add", "floating", "ip", "rocky-vm2", fip["floating_ip_address"])
    assert cloud.floatingips[fip["id"]]["port_id"] == port_id
    rule = json.loads(osc(seed_lab, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                          "default", "-f", "json").stdout)
    assert rule["port_range_min"] == 22 and rule["remote_ip_prefix"] == "0.0.0.0/0"
    assert cloud.reach(fip["floating_ip_address"], "tcp", 22, "192.168.35.5") == (True, "ok")
    assert cloud.reach(fip["floating_ip_address"], "icmp", None, "192.168.35.5") == (False, "sg-blocked")


def test_console_log(seed_lab):
    out = osc(seed_lab, "console", "log", "show", "rocky-vm2").stdout
    assert "Using metadata source: 'http://169.254.169.254'" in out
    assert "homelab-key" in out
