"""`kolla-ansible` on the deploy node: re-render each target's openvswitch_agent.ini, create br-ex
and plug the external interface (openvswitch role, same condition), and restart the containers
whose config changed.

Who renders the file is a hook: ``state.ovs_agent_renderer`` when a backend sets it (the real
backend: kolla-ansible's own templates), else the embedded lab's own Kolla reading (kolla_render.py).
The output (tasks, PLAY RECAP) is the same whichever renders."""
from __future__ import annotations

from .nodes import NOVA_COMPUTE, NOVA_COMPUTE_CONF, OVS_AGENT, OVS_INI

ACTIONS = {"reconfigure", "deploy", "genconfig", "mariadb-recovery", "mariadb_recovery", "rabbitmq-reset-state"}


class RenderFailed(Exception):
    """A renderer could not render: ``line`` is one ansible-like line, ``returncode`` the exit."""

    def __init__(self, line: str, returncode: int = 2):
        super().__init__(line)
        self.line, self.returncode = line, returncode


def embedded_ovs_agent_renderer(state, deploy, kc, inventory: str, extra: dict,
                                hosts: dict[str, str]) -> dict[str, str]:
    """{host: openvswitch_agent.ini} for ``hosts`` ({inventory name: tunnel address}), by the
    embedded lab's own reading of Kolla (``kc``: the deploy node's config with the -e vars)."""
    return {host: kc.render_ovs_agent_ini(kc.host_vars(host), address) for host, address in hosts.items()}


def _usage(msg: str) -> tuple[str, str, int]:
    return "", msg + "\n", 2


def kolla_ansible(state, node, argv):
    args = argv[1:]
    try:
        release = str(state.kolla().release)
    except FileNotFoundError:
        release = state.release
    old_cli = release < "2024.2"
    action = None
    if args and args[0] in ACTIONS:
        action, args = args[0], args[1:]
    elif old_cli:
        for a in args:
            if a in ACTIONS:
                action = a
        if action:
            args = [a for a in args if a != action]
    if action is None:
        if args and args[0].startswith("-"):
            return _usage(f"kolla-ansible: '{args[0]}' is not a kolla-ansible command. See 'kolla-ansible --help'.")
        return _usage(f"kolla-ansible: '{args[0] if args else ''}' is not a kolla-ansible command. "
                      "See 'kolla-ansible --help'." if args else "usage: kolla-ansible [--version] [-v | -q] [--log-file LOG_FILE] [-h] [--debug]")
    inventory, tags, skip, limit, extra = None, None, set(), None, {}
    i = 0
    while i < len(args):
        a = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if a in ("-i", "--inventory"):
            inventory = val
        elif a in ("-t", "--tags"):
            tags = {t.strip() for t in val.split(",") if t.strip()}
        elif a == "--skip-tags":
            skip = {t.strip() for t in val.split(",")}
        elif a in ("-l", "--limit") or (a == "--limit"):
            limit = val
        elif a in ("-e", "--extra-vars", "--extra"):
            if val and "=" in val and not val.startswith("@"):
                k, _, v = val.partition("=")
                extra[k] = v
        elif a.startswith("-v") or a in ("-D", "--diff", "-b", "--become"):
            i += 1
            continue
        else:
            return _usage(f"kolla-ansible {action}: error: unrecognized arguments: {a}")
        i += 2
    if not inventory:
        inventory = "/etc/kolla/ansible/inventory/all-in-one"
    if node.read(inventory) is None:
        return "", f"ERROR: Kolla Ansible inventory {inventory} not found\n", 1
    kc = state.kolla(extra_vars=extra, inventory=inventory)
    if action in ("mariadb-recovery", "mariadb_recovery", "rabbitmq-reset-state"):
        from .control_plane import kolla_ansible_action
        return kolla_ansible_action(state, kc, action, extra)
    targets = sorted(kc.inventory.members("openvswitch") | kc.inventory.members("compute") |
                     kc.inventory.members("network"))
    if limit:
        wanted: set[str] = set()
        for part in limit.replace(":", ",").split(","):
            part = part.strip()
            wanted |= kc.inventory.members(part) if (part in kc.inventory.direct or part in kc.inventory.children) else {part}
        targets = [t for t in targets if t in wanted]
    do_ovs = (tags is None or "openvswitch" in tags) and "openvswitch" not in skip
    do_neutron = (tags is None or "neutron" in tags) and "neutron" not in skip
    # The lab models nova-compute's nova.conf ([libvirt] virt_type) only; it renders it when the
    # nova tag is asked for, so untagged runs print what they printed before nova was modelled.
    do_nova = tags is not None and "nova" in tags and "nova" not in skip
    rendered: dict[str, str] = {}
    if do_neutron:
        to_render = {h: state.nodes[h].address for h in targets
                     if h in state.nodes and OVS_AGENT in state.nodes[h].containers}
        renderer = getattr(state, "ovs_agent_renderer", None) or embedded_ovs_agent_renderer
        try:
            rendered = renderer(state, node, kc, inventory, extra, to_render) if to_render else {}
        except RenderFailed as failed:
            return "", failed.line + "\n", failed.returncode
    out = [f"Kolla Ansible playbook: reconfigure" if action == "reconfigure" else f"Kolla Ansible playbook: {action}", ""]
    recap = []
    for host in targets:
        target = state.nodes.get(host)
        if target is None:
            out.append(f"fatal: [{host}]: UNREACHABLE! => {{\"changed\": false, \"msg\": \"Failed to connect to the host via ssh\", \"unreachable\": true}}")
            recap.append(f"{host:<26}: ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0")
            continue
        ok = changed = 0
        restarted: set[str] = set()
        hv = kc.host_vars(host)
        if do_ovs and "openvswitch_vswitchd" in target.containers:
            out.append("TASK [openvswitch : Ensuring OVS bridge is properly setup] ***")
            if kc.needs_external_bridge(hv):
                for bridge, iface in kc.external_ports(hv):
                    if bridge not in target.ovs:
                        target.ovs[bridge] = []
                        out.append(f"changed: [{host}] => (item={bridge})")
                        changed += 1
                    else:
                        out.append(f"ok: [{host}] => (item={bridge})")
                        ok += 1
                out.append("TASK [openvswitch : Ensuring OVS ports are properly setup] ***")
                for bridge, iface in kc.external_ports(hv):
                    if iface not in target.ovs[bridge]:
                        target.ovs[bridge].append(iface)
                        out.append(f"changed: [{host}] => (item=['{bridge}', '{iface}'])")
                        changed += 1
                    else:
                        out.append(f"ok: [{host}] => (item=['{bridge}', '{iface}'])")
                        ok += 1
            else:
                out.append(f"skipping: [{host}]")
        if do_neutron and OVS_AGENT in target.containers:
            out.append("TASK [neutron : Copying over openvswitch_agent.ini] ***")
            new = rendered[host]
            if target.read(OVS_INI) != new:
                target.write(OVS_INI, new)
                out.append(f"changed: [{host}] => (item=neutron-openvswitch-agent)")
                changed += 1
                if action != "genconfig":
                    out.append("RUNNING HANDLER [neutron : Restart neutron-openvswitch-agent container] ***")
                    target.start_container(OVS_AGENT)
                    restarted.add(OVS_AGENT)
                    out.append(f"changed: [{host}]")
                    changed += 1
            else:
                # kolla compares the deployed file, so a hand-edited-but-identical file is not restarted
                out.append(f"ok: [{host}] => (item=neutron-openvswitch-agent)")
                ok += 1
        if do_nova and NOVA_COMPUTE in target.containers:
            out.append("TASK [nova-cell : Copying over nova.conf] ***")
            new = kc.render_nova_compute_conf(hv, target.address)
            if target.read(NOVA_COMPUTE_CONF) != new:
                target.write(NOVA_COMPUTE_CONF, new)
                out.append(f"changed: [{host}] => (item=nova-compute)")
                changed += 1
                if action != "genconfig":
                    out.append("RUNNING HANDLER [nova-cell : Restart nova-compute container] ***")
                    target.start_container(NOVA_COMPUTE)
                    out.append(f"changed: [{host}]")
                    changed += 1
            else:
                out.append(f"ok: [{host}] => (item=nova-compute)")
                ok += 1
        if do_neutron and action != "genconfig":
            # "Check neutron containers" (check-containers.yml): kolla_container's compare_container
            # also compares the container's state, so a neutron container that is not running
            # (exited, or restarting in a crash loop) is changed and its restart handler runs.
            # (One handler run per container: one the config change already restarted is not
            # restarted again.)
            down = [c for name, c in sorted(target.containers.items())
                    if name.startswith("neutron_") and c.status != "running" and name not in restarted]
            if down:
                out.append("TASK [neutron : Check neutron containers] ***")
                for c in down:
                    out.append(f"changed: [{host}] => (item={c.name.replace('_', '-')})")
                    changed += 1
                for c in down:
                    out.append(f"RUNNING HANDLER [neutron : Restart {c.name.replace('_', '-')} container] ***")
                    target.start_container(c.name)
                    out.append(f"changed: [{host}]")
                    changed += 1
        recap.append(f"{host:<26}: ok={ok:<5}changed={changed:<5}unreachable=0    failed=0    skipped=0    rescued=0    ignored=0")
    out += ["", "PLAY RECAP *********************************************************************"] + recap
    return "\n".join(out) + "\n", "", 0
