"""The real backend on its own: real Neutron's verdicts for the seed homelab, through openstacksdk,
and nothing left running after stop()."""
from __future__ import annotations

import os

import openstack
import pytest

from .conftest import venv_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]


def test_seed_homelab_on_real_neutron(monkeypatch):
    venv_or_skip("openstack")
    venv_or_skip("kolla")
    from kolla_lab.real import RealLab
    lab = RealLab("seed-homelab").start()
    rabbitmq = lab.openstack.rabbitmq
    pids = [lab.openstack.keystone.process.pid, lab.openstack.neutron.process.pid, rabbitmq.process.pid,
            rabbitmq.epmd.pid]
    try:
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab.config_dir / "clouds.yaml"))
        conn = openstack.connect(cloud=lab.cloud_name)
        servers = {s.name: s for s in conn.compute.servers()}
        assert servers["rocky-vm1"].status == "ERROR"
        assert servers["rocky-vm1"].fault["message"].startswith("Exceeded maximum number of retries.")
        assert servers["rocky-vm2"].status == "ACTIVE"
        agents = {(a.agent_type, a.host): a for a in conn.network.agents()}
        assert agents[("Open vSwitch agent", "compute01")].configuration["bridge_mappings"] == {}
        assert agents[("Open vSwitch agent", "controller")].configuration["bridge_mappings"] == {"physnet1": "br-ex"}
        port = next(conn.network.ports(device_id=servers["rocky-vm2"].id))
        with pytest.raises(openstack.exceptions.NotFoundException) as raised:
            conn.network.create_ip(floating_network_id=conn.network.find_network("public1").id, port_id=port.id)
        assert "is not reachable from subnet" in str(raised.value)      # real ExternalGatewayForFloatingIPNotFound
        assert not lab.render_differences
        # neutron-server's RPC goes over the lab's own RabbitMQ (its casts while the scenario was built)
        neutron_pid = lab.openstack.neutron.process.pid
        broker_log = rabbitmq.log_file.read_text()
        assert f"wsgi_serve.py:{neutron_pid}:" in broker_log and "user 'openstack' authenticated" in broker_log
    finally:
        lab.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
