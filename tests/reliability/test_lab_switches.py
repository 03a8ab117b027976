"""The lab's fault switches and the fidelity fixes the wizard relies on, checked with the real
clients (paramiko through the wizard's transport, openstacksdk), not through the wizard's probes."""
from __future__ import annotations

import pytest
import requests

from tests.trees.network_support import conn
from kolla_lab.faults import FaultError, Faults
from wizard.transport.base import CommandTimeout, OutputTooLarge, SudoPasswordRequired, TransportError
from wizard.transport.ssh import SSHPool


@pytest.fixture
def pool(lab):
    p = SSHPool(ssh_config=lab.config_dir / "ssh_config", known_hosts=[lab.config_dir / "known_hosts"],
                connect_timeout=1, command_timeout=1)
    yield p
    p.close()


def test_hostname_I_and_sudo_forms(lab, pool, case):
    deploy, compute = pool.transport("deploy"), pool.transport("compute01")
    assert deploy.run(["hostname", "-I"]).stdout.split() == ["192.168.35.5"]
    assert compute.run(["hostname", "-I"]).stdout.split() == ["192.168.35.11"]
    via_sudo = deploy.run(["cat", "/etc/hostname"], sudo=True)            # sudo -n -- cat ...
    via_sh = deploy.run("hostname && echo ok", sudo=True)                  # sudo -n -- sh -c '...'
    case.record("ssh", "lab fidelity: hostname -I, `sudo -n -- CMD`, `sudo -n -- sh -c 'CMD'`",
                f"{via_sudo.command!r} -> rc {via_sudo.rc}; {via_sh.command!r} -> {via_sh.stdout.split()}")
    assert via_sudo.command.startswith("sudo -n -- cat") and via_sudo.rc == 0
    assert via_sh.stdout.split() == ["deploy", "ok"]


def test_node_switches_with_the_wizard_transport(lab, pool, case):
    compute = pool.transport("compute01")
    lab.faults.set_node("compute01", sudo_password=True, flood="yes*", hang="sleepy*", hang_seconds=3)
    with pytest.raises(SudoPasswordRequired):
        compute.run(["hostname"], sudo=True)
    with pytest.raises(OutputTooLarge):
        compute.run(["yes"])
    with pytest.raises(CommandTimeout):
        compute.run(["sleepy"])
    lab.faults.clear()
    lab.faults.set_node("compute01", drop="hostname*")
    with pytest.raises(TransportError, match="connection dropped"):
        compute.run(["hostname"])
    lab.faults.clear()
    assert compute.run(["hostname"]).stdout == "compute01\n"               # back after clear
    case.record("ssh", "lab switches sudo_password, flood, hang, drop on one node, then clear",
                "SudoPasswordRequired, OutputTooLarge, CommandTimeout, 'connection dropped'; node answers after clear")


def test_down_then_up_on_the_same_port(lab, pool, case):
    port = lab.ports["compute01"]
    lab.faults.set_node("compute01", down=True)
    with pytest.raises(TransportError, match="connection refused"):
        pool.transport("compute01").run(["true"])
    lab.faults.clear()
    fresh = SSHPool(ssh_config=lab.config_dir / "ssh_config", known_hosts=[lab.config_dir / "known_hosts"],
                    connect_timeout=1, command_timeout=1)
    try:
        assert fresh.transport("compute01").run(["true"]).rc == 0
    finally:
        fresh.close()
    case.record("ssh", "lab switch down (listener closed), then cleared",
                f"connection refused, then sshd back on the same port ({port == lab.ports['compute01']})")
    assert port == lab.ports["compute01"]


def test_api_switches_and_validation(lab, case):
    c = conn(lab)
    lab.faults.set("network", "/v2.0/networks", method="GET", status=503, times=1)
    first = requests.get(f"{lab.auth_url}/network/v2.0/networks", headers={"X-Auth-Token": c.auth_token}, timeout=5)
    second = requests.get(f"{lab.auth_url}/network/v2.0/networks", headers={"X-Auth-Token": c.auth_token}, timeout=5)
    assert first.status_code == 503 and "NeutronError" in first.json() and second.status_code == 200
    for bad in (lambda f: f.set("dns", status=500), lambda f: f.set("network", status=200),
                lambda f: f.set("network"), lambda f: f.set_node("x", colour="red"),
                lambda f: f.set_node("x", host_key="lost")):
        with pytest.raises(FaultError):
            bad(Faults())
    case.record("api", "lab API switch with times=1; invalid switches",
                f"HTTP {first.status_code} with a NeutronError body, then {second.status_code}; 5 bad switches refused")


def test_server_add_security_group(lab, case):
    c = conn(lab)
    server = c.compute.find_server("rocky-vm2")
    sg = c.network.create_security_group(name="operator-access")
    c.compute.add_security_group_to_server(server, sg)
    ports = list(c.network.ports(device_id=server.id))
    assert all(sg.id in p.security_group_ids for p in ports)
    assert "operator-access" in {g["name"] for g in c.compute.get_server(server.id).security_groups}
    c.compute.remove_security_group_from_server(server, sg)
    assert all(sg.id not in p.security_group_ids for p in c.network.ports(device_id=server.id))
    case.record("api", "lab fidelity: Nova addSecurityGroup / removeSecurityGroup (openstack server add security group)",
                f"group on all {len(ports)} port(s) of the server, then removed")
