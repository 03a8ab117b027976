"""Tell real Neutron that the DHCP agent has configured ports, with the DHCP agent's own RPC client
(``python dhcp_ready.py HOST PORT_ID...``, the transport URL in $KOLLA_LAB_TRANSPORT_URL).

The real tier's DHCP agent is still the lab's model (docs/real-tier.md: dnsmasq in a qdhcp-
namespace does not run on the userspace datapath here), but real ML2 puts a DHCP provisioning block
on every port of a network a DHCP agent hosts (ml2 plugin ``_setup_dhcp_agent_provisioning_component``)
and marks the port ACTIVE only once the DHCP agent calls ``dhcp_ready_on_ports`` and the L2 agent
``update_device_up``. A running DHCP agent sends that call after it has written dnsmasq's host entry
(neutron/agent/dhcp/agent.py ``_dhcp_ready_ports_loop``), so the lab sends it for its running model,
with ``DhcpPluginApi`` itself. Run by venv-openstack's Python."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]


def main() -> int:
    host, port_ids = sys.argv[1], sys.argv[2:]
    import tempfile
    from neutron_lib.agent import topics
    from neutron.agent.dhcp.agent import DhcpPluginApi
    from neutron.common import config as common_config
    from neutron.conf import service
    # as the DHCP agent's main does (neutron/cmd/eventlet/agents/dhcp.py, neutron/agent/dhcp_agent.py)
    common_config.register_common_config_options()
    service.register_service_opts(service.RPC_EXTRA_OPTS)
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write(f"[DEFAULT]\ntransport_url = {os.environ['KOLLA_LAB_TRANSPORT_URL']}\n")
        conf.flush()
        common_config.init(["--config-file", conf.name], default_config_files=[])
    DhcpPluginApi(topics.PLUGIN, host).dhcp_ready_on_ports(set(port_ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
