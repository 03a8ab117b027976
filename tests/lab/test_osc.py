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
    # The details are the conductor's own traceback (the compute's exception stayed in the compute).
    assert shown["fault"]["details"].endswith(f"nova.exception.MaxRetriesExceeded: {shown['fault']['message']}\n")
    assert "PortBindingFailed" not in shown["fault"]["details"]


def test_events_record_the_attempt_as_real_nova_does(seed_lab):
    events = json.loads(osc(seed_lab, "server", "event", "list", "rocky-vm1", "-f", "json").stdout)
    assert [e["Action"] for e in events] == ["create"]
    assert seed_lab.state.cloud.actions and all(a[0]["message"] is None for a in seed_lab.state.cloud.actions.values())
    detail = json.loads(osc(seed_lab, "server", "event", "show", "rocky-vm1", events[0]["Request ID"], "-f", "json").stdout)
    # RescheduledException is caught inside _do_build_and_run_instance: the event ends Success with
    # no traceback, and the conductor's reschedule records no event.
    assert [(e["event"], e["host"], e["result"], e["traceback"]) for e in detail["events"]] == [
        ("compute__do_build_and_run_instance", "compute01", "Success", None)]
    vm1 = next(s for s in seed_lab.state.cloud.servers.values() if s["name"] == "rocky-vm1")
    # Why: nova-compute.log on compute01 (LOG.exception with the exception appended by oslo.log) ...
    compute_log = seed_lab.state.nodes["compute01"].read("/var/log/kolla/nova/nova-compute.log")
    failed = [ln for ln in compute_log.splitlines() if f"[instance: {vm1['id']}] Failed to build and run instance: " in ln]
    assert len(failed) == 1 and ": nova.exception.PortBindingFailed: Binding failed for port " in failed[0]
    # The non-DEBUG lines real nova 34 wrote for this build, in order (real-nova's run, 2026-11-29).
    mine = [ln.split("] ", 1)[-1] if " nova.compute.manager [None" in ln or " nova.compute.claims" in ln
            or " nova.scheduler.client.report" in ln or " nova.compute.manager [-]" in ln else None
            for ln in compute_log.splitlines() if " ERROR nova.compute.manager [instance" not in ln]
    messages = [m.split(": nova.exception")[0] for m in mine if m]
    assert messages == [f"[instance: {vm1['id']}] Claim successful on node compute01",
                        "Instance failed network setup after 1 attempt(s)",
                        f"[instance: {vm1['id']}] Instance failed to spawn",
                        f"[instance: {vm1['id']}] Terminating instance",
                        f"[instance: {vm1['id']}] Took 0.01 seconds to destroy the instance on the hypervisor.",
                        f"[instance: {vm1['id']}] Took 0.05 seconds to deallocate network for instance.",
                        f"[instance: {vm1['id']}] Failed to build and run instance",
                        f"[instance: {vm1['id']}] Took 0.07 seconds to deallocate network for instance.",
                        f"Deleted allocations for instance {vm1['id']}"], messages
    assert failed[0].split(" ")[2:5] == ["7", "ERROR", "nova.compute.manager"]
    port_id = failed[0].split("Binding failed for port ")[1].split(",")[0]
    # ... the conductor's reschedule line, and neutron-server.log with Nova's request id first.
    conductor = seed_lab.state.nodes["controller"].read("/var/log/kolla/nova/nova-conductor.log")
    assert f"[instance: {vm1['id']}] Error from last host: compute01 (node compute01): [" in conductor
    log = seed_lab.state.nodes["controller"].read("/var/log/kolla/neutron/neutron-server.log")
    bind = [ln for ln in log.splitlines() if f"Failed to bind port {port_id} on host compute01 for vnic_type normal" in ln]
    # neutron tries 10 times (MAX_BIND_TRIES), each failure logged, with Nova's request id first.
    assert len(bind) == 10 and all("ERROR neutron.plugins.ml2.managers [" + events[0]["Request ID"] + " req-" in b
                                   for b in bind)
    assert f"INFO neutron.plugins.ml2.plugin [{events[0]['Request ID']} " in log and f"Attempt 10 to bind port {port_id}" in log
    # Nova deleted the port it created.
    assert port_id not in seed_lab.state.cloud.ports
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
    assert "Datasource DataSourceOpenStackLocal [net,ver=2]." in out and "[DEBUG]" not in out
    assert "homelab-key" in out
