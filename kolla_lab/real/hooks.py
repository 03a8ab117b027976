"""What the real backend changes in the lab's shared machinery, installed by RealLab.start() in one
call: its ``kolla-ansible`` renders with Kolla's own templates (reconfigure.render_with_kolla), and a
container start or stop on a node reports that node's agents to real Neutron at once, as a real
OVS agent reports its state (configurations, heartbeat) when it starts rather than at the next
periodic beat (without it a fix's verification read the agent as it was before the restart); with
real Nova, starting or stopping a node's nova_compute/nova_conductor/nova_scheduler container
starts or stops the real process."""
from __future__ import annotations

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
