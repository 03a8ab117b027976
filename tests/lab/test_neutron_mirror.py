"""The real backend's data-path stand-ins print real Neutron's ids: the DHCP agent names its
namespace qdhcp-<network id> after the id Neutron gave the network (neutron/agent/linux/dhcp.py
NS_PREFIX + network.id), so once real Neutron's networks are mirrored the stand-in's
``ip netns list`` shows those ids, not the model's."""
from kolla_lab import Lab
from kolla_lab.real import neutron_mirror
from kolla_lab.shell import run_argv


def test_qdhcp_namespace_carries_real_neutrons_network_id():
    with Lab("seed-homelab") as lab:
        cloud = lab.state.cloud
        controller = next(n for n in lab.state.nodes.values() if "network" in n.groups)
        dhcp_nets = [n for n in cloud.networks.values()
                     if any(cloud.subnets[s]["enable_dhcp"] for s in n["subnets"])]
        assert dhcp_nets, "seed-homelab has a DHCP-enabled network"
        real = {"routers": [], "l3_hosts": {}, "ports": [], "floatingips": [], "sg_rules": [], "subnets": [],
                "networks": [{"id": f"real-{n['id']}", "name": n["name"]} for n in cloud.networks.values()]}
        before, _, rc = run_argv(lab.state, controller, ["ip", "netns", "list"])
        assert rc == 0 and f"qdhcp-{dhcp_nets[0]['id']}" in before
        with cloud.lock:
            neutron_mirror.apply(cloud, real, lambda server_id: None)
        after, _, rc = run_argv(lab.state, controller, ["ip", "netns", "list"])
        assert rc == 0
        for net in dhcp_nets:
            assert f"qdhcp-real-{net['id']}\n" in after
            assert f"qdhcp-{net['id']}\n" not in after
