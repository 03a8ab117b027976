"""What the real backend changes in the lab's shared machinery, installed by RealLab.start() in one
call: its ``kolla-ansible`` renders with Kolla's own templates (reconfigure.render_with_kolla), and a
container start or stop on a node reports that node's agents to real Neutron at once, as a real
OVS agent reports its state (configurations, heartbeat) when it starts rather than at the next
periodic beat (without it a fix's verification read the agent as it was before the restart); with
real Nova, starting or stopping a node's nova_compute/nova_conductor/nova_scheduler container
starts or stops the real process; and a stand-in that answers from the data path (ip netns, nc,
ping, ssh-keyscan) first gets real Neutron's routers, ports and floating IPs into the model
(neutron_mirror.py), so a router a fix created through real Neutron has its qrouter- namespace;
with real Nova, `rabbitmqctl list_queues` in a node's rabbitmq container is the real broker's."""
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

    def real_broker(node, args: list[str]):
        """`docker exec rabbitmq rabbitmqctl list_queues ...` where the rabbitmq container runs:
        the lab's real broker answers, with real Nova's queues and their consumers. Only with real
        Nova: without it the broker carries only Neutron's queues, and the model's table stands
        for Nova's (control_plane.rabbitmq_list_queues)."""
        stack = lab.openstack
        container = node.containers.get("rabbitmq")
        if lab.nova is None or stack is None or stack.rabbitmq is None or container is None \
                or container.status != "running" or args[:3] != ["rabbitmq", "rabbitmqctl", "list_queues"]:
            return None
        out = stack.rabbitmq.ctl(*args[2:])
        return {"out": out.stdout, "err": out.stderr, "rc": out.returncode}

    lab.state.real_container_program = real_broker
