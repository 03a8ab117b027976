"""What the real backend changes in the lab's shared machinery, installed by RealLab.start() in one
call: its ``kolla-ansible`` renders with Kolla's own templates (reconfigure.render_with_kolla), and a
container start or stop on a node reports that node's agents to real Neutron at once, as a real
OVS agent reports its state (configurations, heartbeat) when it starts rather than at the next
periodic beat (without it a fix's verification read the agent as it was before the restart); with
real Nova, starting or stopping a node's nova_compute/nova_conductor/nova_scheduler container
starts or stops the real process; and a stand-in that answers from the data path (ip netns, nc,
ping, ssh-keyscan) first gets real Neutron's routers, ports and floating IPs into the model
(neutron_mirror.py), so a router a fix created through real Neutron has its qrouter- namespace."""
from __future__ import annotations

from . import neutron_mirror
from .reconfigure import render_with_kolla


def install(lab) -> None:
    lab.state.ovs_agent_renderer = render_with_kolla

    def report(node, container: str) -> None:
        stack = lab.openstack
        if stack is not None and stack.neutron is not None and stack.neutron_db.is_file():
            lab._sync_agents()
        lab.follow_container(node, container)      # a real Nova process follows its container

    for node in lab.state.nodes.values():
        node.on_container_change = report

    def mirror_neutron(node, argv: list[str]) -> None:
        stack = lab.openstack
        if stack is None or stack.neutron is None or not neutron_mirror.reads_data_path(argv, node.engine):
            return
        try:
            real = neutron_mirror.read_neutron(lab._neutron)
        except (RuntimeError, OSError, KeyError):
            return              # Neutron is stopping: the model answers as it stands
        with lab.state.cloud.lock:
            neutron_mirror.apply(lab.state.cloud, real, lab.server_name)

    lab.state.before_standin = mirror_neutron
