"""The real backend as the CLI starts it (`diagnose --lab-backend real`, through the composition
root's start_lab): real Keystone, Neutron, Nova, Placement, RabbitMQ and each node's
neutron-openvswitch-agent run; real Neutron's verdicts for the seed homelab hold through
openstacksdk; the wizard's `--symptom all` walk on those records reports the seed's five findings,
with the port and host of the failed build read from the real logs; nothing is left running after
stop() (issue 13's done-when)."""
from __future__ import annotations

import os

import openstack
import pytest

from .conftest import real_stack_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode()


def test_the_clis_real_backend_runs_real_parts_and_the_seeds_walk_reads_them(monkeypatch):
    real_stack_or_skip("openstack", "kolla", "nova", agents=True)
    from kolla_wizard.main import start_lab
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis
    from wizard.playbook import trees_in_all

    lab = start_lab("seed-homelab", backend="real")
    rabbitmq = lab.openstack.rabbitmq
    pids = [lab.openstack.keystone.process.pid, lab.openstack.neutron.process.pid, rabbitmq.process.pid,
            rabbitmq.epmd.pid]
    try:
        # The real parts, as `ps` shows them.
        nova = {name: proc.pid for name, proc in lab.nova.processes().items() if proc is not None}
        assert set(nova) == {"placement-api", "nova-api", "nova-conductor", "nova-scheduler",
                             "nova-compute@compute01"}, sorted(nova)
        agents = {name: agent.process.pid for name, agent in lab.ovs_agents.agents.items()
                  if agent.process is not None and agent.process.poll() is None}
        assert set(agents) == {"controller", "compute01"}, sorted(agents)
        assert "nova_run.py compute" in _cmdline(nova["nova-compute@compute01"])
        assert all("neutron-openvswitch-agent" in _cmdline(pid) for pid in agents.values())
        pids += [*nova.values(), *agents.values()]

        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab.config_dir / "clouds.yaml"))
        conn = openstack.connect(cloud=lab.cloud_name)
        servers = {s.name: s for s in conn.compute.servers()}
        assert servers["rocky-vm1"].status == "ERROR"
        assert servers["rocky-vm1"].fault["message"].startswith("Exceeded maximum number of retries.")
        assert servers["rocky-vm2"].status == "ACTIVE"
        rows = {(a.agent_type, a.host): a for a in conn.network.agents()}
        assert rows[("Open vSwitch agent", "compute01")].configuration["bridge_mappings"] == {}
        assert rows[("Open vSwitch agent", "controller")].configuration["bridge_mappings"] == {"physnet1": "br-ex"}
        port = next(conn.network.ports(device_id=servers["rocky-vm2"].id))
        with pytest.raises(openstack.exceptions.NotFoundException) as raised:
            conn.network.create_ip(floating_network_id=conn.network.find_network("public1").id, port_id=port.id)
        assert "is not reachable from subnet" in str(raised.value)      # real ExternalGatewayForFloatingIPNotFound
        assert not lab.render_differences
        # neutron-server's RPC goes over the lab's own RabbitMQ (its casts while the scenario was built)
        broker_log = rabbitmq.log_file.read_text()
        assert f"wsgi_serve.py:{lab.openstack.neutron.process.pid}:" in broker_log
        assert "user 'openstack' authenticated" in broker_log

        # The wizard's walk of every tree in "all", on what those components recorded.
        lab._sync_server_log()
        ctx = context(lab)
        try:
            report, _engine = run_diagnosis(ctx, trees_in_all())
        finally:
            ctx.close()
    finally:
        lab.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert [f.id for f in report.findings] == ["bridge-mapping-missing", "no-router", "fip-not-associated",
                                               "sg-blocks-ssh", "sg-blocks-icmp"], (report.findings, report.problems)
    mapping = report.findings[0]
    failed_port = mapping.facts["port"]["id"]
    assert mapping.host == "compute01"
    assert any("/var/log/kolla/nova/nova-compute.log: ERROR nova.compute.manager" in e
               and f"Binding failed for port {failed_port}" in e for e in mapping.evidence), mapping.evidence
    assert any(f"Failed to bind port {failed_port} on host compute01" in e for e in mapping.evidence)
