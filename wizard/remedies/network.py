"""Remedies for the floating-IP path: routers, gateways, interfaces, floating IPs, external
networks. Each remedy prints the exact ``openstack`` commands (IDs for positional arguments,
every value shell-quoted) and carries the same change as CloudCall actions, executed through the
openstacksdk ops registered here with ``cloud_op``.

Every op returns a dict describing what it changed, including ``undo``: the op and params that
reverse it, so apply can roll back a half-done sequence."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..findings import Finding, Remedy
from ..readings import neutron as nx
from .actions import CloudCall, cloud_op
from .quoting import join, option, positional
from .registry import remedy
from ..probe_context import ProbeContext
from ..i18n import t

# --- openstacksdk operations -----------------------------------------------------------------


@dataclass
class ReversibleCall(CloudCall):
    """A CloudCall whose undo is recorded by the op itself: apply.py calls the op named by
    ``undo`` with the dict the op returned, and ``undo_recorded`` replays ``made["undo"]``."""
    undo: str = "undo_recorded"


@cloud_op("undo_recorded")
def op_undo_recorded(conn: Any, undo: dict[str, Any] | None = None, **_made: Any) -> dict[str, Any]:
    from .actions import CLOUD_OPS
    if not undo:
        return {}  # the op changed nothing (e.g. the rule already existed)
    return CLOUD_OPS[undo["op"]](conn, **undo["params"])



def _find_router(conn: Any, router_id: str | None, name: str | None) -> Any:
    if router_id:
        return conn.network.get_router(router_id)
    return conn.network.find_router(name, ignore_missing=False)


@cloud_op("create_router")
def op_create_router(conn: Any, name: str) -> dict[str, Any]:
    """The router of this name, created if missing (the printed `router show || router create`):
    two findings (no-router, fip-not-associated) both build the same path; never a second router."""
    existing = conn.network.find_router(name, ignore_missing=True)
    if existing is not None:
        return {"router_id": existing.id}
    router = conn.network.create_router(name=name)
    return {"router_id": router.id, "undo": {"op": "delete_router", "params": {"router_id": router.id}}}


@cloud_op("delete_router")
def op_delete_router(conn: Any, router_id: str) -> dict[str, Any]:
    conn.network.delete_router(router_id, ignore_missing=True)
    return {"router_id": router_id}


@cloud_op("set_router_gateway")
def op_set_router_gateway(conn: Any, network_id: str, router_id: str | None = None,
                          router_name: str | None = None) -> dict[str, Any]:
    router = _find_router(conn, router_id, router_name)
    previous = router.external_gateway_info or None
    conn.network.update_router(router, external_gateway_info={"network_id": network_id})
    undo_params: dict[str, Any] = {"router_id": router.id}
    if previous and previous.get("network_id"):
        undo_params["network_id"] = previous["network_id"]
        return {"router_id": router.id, "undo": {"op": "set_router_gateway", "params": undo_params}}
    return {"router_id": router.id, "undo": {"op": "clear_router_gateway", "params": undo_params}}


@cloud_op("clear_router_gateway")
def op_clear_router_gateway(conn: Any, router_id: str) -> dict[str, Any]:
    conn.network.update_router(router_id, external_gateway_info={})
    return {"router_id": router_id}


@cloud_op("add_router_interface")
def op_add_router_interface(conn: Any, subnet_id: str, router_id: str | None = None,
                            router_name: str | None = None) -> dict[str, Any]:
    router = _find_router(conn, router_id, router_name)
    if any(ip.get("subnet_id") == subnet_id for p in conn.network.ports(device_id=router.id)
           for ip in (p.fixed_ips or [])):
        return {"router_id": router.id}  # already attached (the printed guard skips it too)
    conn.network.add_interface_to_router(router, subnet=subnet_id)
    return {"router_id": router.id, "undo": {"op": "remove_router_interface",
                                             "params": {"router_id": router.id, "subnet_id": subnet_id}}}


@cloud_op("remove_router_interface")
def op_remove_router_interface(conn: Any, router_id: str, subnet_id: str) -> dict[str, Any]:
    conn.network.remove_interface_from_router(router_id, subnet=subnet_id)
    return {"router_id": router_id}


@cloud_op("create_floating_ip")
def op_create_floating_ip(conn: Any, network_id: str, port_id: str) -> dict[str, Any]:
    """A floating IP on this network for this port, allocated if it has none (the printed `floating
    ip list --port --network | grep -q . ||` guard): no-router's and fip-not-associated's fixes both
    end with it, and a runbook followed top to bottom must not allocate a second address."""
    existing = next(iter(conn.network.ips(port_id=port_id, floating_network_id=network_id)), None)
    if existing is not None:
        return {"fip_id": existing.id}   # nothing made, nothing to undo
    fip = conn.network.create_ip(floating_network_id=network_id, port_id=port_id)
    return {"fip_id": fip.id, "address": fip.floating_ip_address,
            "undo": {"op": "delete_floating_ip", "params": {"fip_id": fip.id}}}


@cloud_op("delete_floating_ip")
def op_delete_floating_ip(conn: Any, fip_id: str) -> dict[str, Any]:
    conn.network.delete_ip(fip_id, ignore_missing=True)
    return {"fip_id": fip_id}


@cloud_op("associate_floating_ip")
def op_associate_floating_ip(conn: Any, fip_id: str, port_id: str) -> dict[str, Any]:
    conn.network.update_ip(fip_id, port_id=port_id)
    return {"fip_id": fip_id, "undo": {"op": "disassociate_floating_ip", "params": {"fip_id": fip_id}}}


@cloud_op("disassociate_floating_ip")
def op_disassociate_floating_ip(conn: Any, fip_id: str) -> dict[str, Any]:
    conn.network.update_ip(fip_id, port_id=None)
    return {"fip_id": fip_id}


@cloud_op("set_network_external")
def op_set_network_external(conn: Any, network_id: str, external: bool = True) -> dict[str, Any]:
    conn.network.update_network(network_id, is_router_external=external)
    return {"network_id": network_id, "undo": {"op": "set_network_external",
                                               "params": {"network_id": network_id, "external": not external}}}


# --- helpers -----------------------------------------------------------------------------


def _osc(*argv: Any) -> str:
    return join(["openstack", *[str(a) for a in argv]])


def new_router_name(ctx: ProbeContext, network_name: str | None) -> str:
    """A name for a new router that is safe as a shell word and as a positional argument (it never
    starts with '-'), and not yet used in this project."""
    base = "router-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in (network_name or "tenant"))[:40]
    try:
        taken = {r.get("name") for r in ctx.cloud.routers()}
    except Exception:
        taken = set()
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _path_facts(ctx: ProbeContext, finding: Finding) -> dict[str, Any]:
    """port, subnet, external network and router path for the finding's instance, computed here
    if the tree that raised the finding did not look (ssh-refused does not)."""
    from ..probes.cloud_network import choose_reachable_external_network, router_path
    facts = finding.facts
    port = facts.get("port") or {}
    subnet = facts.get("subnet") or {}
    ext = facts.get("floating_network") or {}
    if not ext.get("id") or not ext.get("external"):
        chosen, _, _note = choose_reachable_external_network(ctx, subnet.get("id"))
        ext = nx.network_fact(chosen) if chosen else {}
    path = router_path(ctx, subnet["id"], ext["id"]) if subnet.get("id") and ext.get("id") else None
    return {"port": port, "subnet": subnet, "ext": ext, "path": path, "network": facts.get("network") or {},
            "server": facts.get("server") or {}}


def fip_steps(port: dict[str, Any], ext: dict[str, Any], server: dict[str, Any]) -> tuple[list[str], list[CloudCall]]:
    # Guarded, as the router path above it: the no-router and fip-not-associated fixes both print it.
    commands = [_osc("floating", "ip", "list", "--port", port["id"], "--network", ext["id"], "-f", "value", "-c", "ID")
                + " | grep -q . || " + _osc("floating", "ip", "create", "--port", port["id"], ext["id"])]
    calls = [ReversibleCall("create_floating_ip", {"network_id": ext["id"], "port_id": port["id"]},
                       t("allocate a floating IP on {network} for port {port}", network=ext.get('name'), port=port['id']))]
    return commands, calls


FIP_NOTE = ("Then reach the instance on the new address (openstack floating ip list --port {port}). If you already "
            "allocated an address, `openstack server add floating ip {server} <address>` attaches it instead.")


def router_sequence(ctx: ProbeContext, state: dict[str, Any], with_fip: bool) -> tuple[list[str], list[CloudCall], str]:
    """Commands and calls that make a router path from the subnet to the external network (only the
    missing pieces), plus a sentence saying what they do."""
    port, subnet, ext, path = state["port"], state["subnet"], state["ext"], state["path"]
    outcome = path["outcome"] if path else "no-router"
    commands: list[str] = []
    calls: list[CloudCall] = []
    what = ""
    if outcome == "no-router":
        name = new_router_name(ctx, state["network"].get("name"))
        # Guarded: the no-router and fip-not-associated fixes both print this path, and a runbook is
        # followed top to bottom; apply's create_router / add_router_interface do the same checks.
        commands += [_osc("router", "show", name) + " >/dev/null 2>&1 || " + _osc("router", "create", name),
                     _osc("router", "set", "--external-gateway", ext["id"], name),
                     _osc("port", "list", "--router", name, "--fixed-ip", f"subnet={subnet['id']}", "-f", "value",
                          "-c", "ID") + " | grep -q . || " + _osc("router", "add", "subnet", name, subnet["id"])]
        calls += [ReversibleCall("create_router", {"name": name}, t("create router {router}", router=name)),
                  ReversibleCall("set_router_gateway", {"router_name": name, "network_id": ext["id"]},
                            t("set {router}'s gateway on {network}", router=name, network=ext.get('name'))),
                  ReversibleCall("add_router_interface", {"router_name": name, "subnet_id": subnet["id"]},
                            t("attach subnet {subnet} to {router}", subnet=subnet.get('name'), router=name))]
        what = t("Create router {router}, put its gateway on {network} and its interface on "
                 "{subnet} (it takes the subnet's gateway IP {gateway}).", router=name, network=ext.get('name'),
                 subnet=subnet.get('name'), gateway=subnet.get('gateway_ip'))
    elif outcome == "router-no-gateway":
        router = path["router"]
        commands.append(_osc("router", "set", "--external-gateway", ext["id"], router["id"]))
        calls.append(ReversibleCall("set_router_gateway", {"router_id": router["id"], "network_id": ext["id"]},
                               t("set router {router}'s gateway on {network}", router=router.get('name'),
                                 network=ext.get('name'))))
        what = t("Give router {router} its external gateway on {network}.", router=router.get('name'),
                 network=ext.get('name'))
        current = nx.router_gateway_network(router)
        if current and current != ext["id"]:
            names = {n["id"]: n.get("name") or n["id"] for n in ctx.cloud.networks()}
            what = t("Router {router}'s gateway is on {current}, an external network "
                     "your machine does not reach; move it to {network} (this replaces the old gateway and "
                     "its SNAT address; floating IPs on {current} stop working).", router=router.get('name'),
                     current=names.get(current, current), network=ext.get('name'))
    elif outcome == "subnet-not-on-router":
        router = path["router"]
        commands.append(_osc("router", "add", "subnet", router["id"], subnet["id"]))
        calls.append(ReversibleCall("add_router_interface", {"router_id": router["id"], "subnet_id": subnet["id"]},
                               t("attach subnet {subnet} to router {router}", subnet=subnet.get('name'),
                                 router=router.get('name'))))
        what = t("Attach subnet {subnet} to router {router}.", subnet=subnet.get('name'), router=router.get('name'))
    if with_fip and port.get("id"):
        c, k = fip_steps(port, ext, state["server"])
        commands += c
        calls += k
        what += " " + t("Then allocate a floating IP on {network} for port {port}.", network=ext.get('name'),
                        port=port['id'])
    return commands, calls, what.strip()


# --- builders ----------------------------------------------------------------------------


def _router_remedy(ctx: ProbeContext, finding: Finding, remedy_id: str, title: str) -> list[Remedy]:
    state = _path_facts(ctx, finding)
    if not state["ext"].get("id") or not state["subnet"].get("id"):
        return []
    commands, calls, what = router_sequence(ctx, state, with_fip=True)
    server = state["server"]
    return [Remedy(
        id=remedy_id, kind="command", durable=True, title=title,
        explain=(t("Durable: this is the floating-IP design the report settled on. {what} "
                   "Neutron's L3 agent then builds namespace qrouter-<router-id> on the network node with a qg- "
                   "device on the outside LAN and a qr- device on the subnet, and NATs the floating IP 1:1 to the "
                   "instance.", what=what) + " " + t(FIP_NOTE, port=state["port"].get("id"), server=server.get("id"))),
        command="\n".join(commands), actions=calls, verify=finding.step)]


@remedy("router-create", summary="Create a router, set its external gateway, attach the subnet, allocate a floating IP")
def router_create(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return _router_remedy(ctx, finding, "router-create", t("Create a router to the external network and a floating IP"))


@remedy("router-set-gateway", summary="Set the router's external gateway on the floating network")
def router_set_gateway(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return _router_remedy(ctx, finding, "router-set-gateway", t("Set the router's external gateway"))


@remedy("router-add-subnet", summary="Attach the instance's subnet to the router")
def router_add_subnet(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return _router_remedy(ctx, finding, "router-add-subnet", t("Attach the subnet to the router"))


@remedy("fip-associate", summary="Give the instance a floating IP (and the router path it needs)")
def fip_associate(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    state = _path_facts(ctx, finding)
    if not state["port"].get("id"):
        return []
    if not state["ext"].get("id"):
        return [Remedy(id="fip-associate", kind="command", durable=True,
                       title=t("Create an external network first"),
                       explain=t("There is no external network to take a floating IP from; walk the fip-404 tree "
                                 "(kolla-wizard diagnose --symptom fip-404)."))]
    commands, calls, what = router_sequence(ctx, state, with_fip=True)
    path_ok = state["path"] and state["path"]["outcome"] == "path-ok"
    explain = (t("Durable: a floating IP is the intended way in from the LAN.") + " "
               + (t("The router path already exists, so only the floating IP is missing.") if path_ok else
                  t("No router joins the subnet to the external network yet, so these commands build it first "
                    "(otherwise floating ip create answers 404).")) + " "
               + what + " " + t(FIP_NOTE, port=state["port"]["id"], server=state["server"].get("id")))
    return [Remedy(id="fip-associate", kind="command", durable=True,
                   title=t("Allocate a floating IP on {network} for {server}", network=state['ext'].get('name'),
                           server=state['server'].get('name')),
                   explain=explain, command="\n".join(commands), actions=calls, verify=finding.step)]


@remedy("network-set-external", summary="Mark the outside (flat provider) network as external")
def network_set_external(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    cand = finding.facts.get("floating_network") or {}
    if cand.get("id"):
        return [Remedy(
            id="network-set-external", kind="command", durable=True,
            title=t("Mark {network} as the external network", network=cand.get('name')),
            explain=t("Durable: {network} ({type} on {physnet}) is the outside LAN; router:external lets routers use "
                      "it as gateway and floating IPs come from its allocation pool.", network=cand.get('name'),
                      type=cand.get('type'), physnet=cand.get('physnet')),
            command=_osc("network", "set", "--external", cand["id"]),
            actions=[ReversibleCall("set_network_external", {"network_id": cand["id"]},
                               t("set router:external on {network}", network=cand.get('name')))],
            verify=finding.step)]
    commands = [
        _osc("network", "create", "--external", "--provider-physical-network", "physnet1",
             "--provider-network-type", "flat", "public1"),
        _osc("subnet", "create", "--no-dhcp", "--allocation-pool", "start=<first-free-LAN-IP>,end=<last-free-LAN-IP>",
             "--network", "public1", "--subnet-range", "<LAN-CIDR>", "--gateway", "<LAN-router-IP>", "public1-subnet"),
    ]
    return [Remedy(
        id="network-set-external", kind="command", durable=True, title=t("Create the external network public1"),
        explain=t("Durable: an external flat network on Kolla's physnet1 (the physnet mapped to br-ex). Fill in "
                  "your LAN's range and a pool of addresses your home router's DHCP does not hand out."),
        command="\n".join(commands))]


def _free_cidr(ctx: ProbeContext) -> str:
    used = []
    for s in ctx.cloud.subnets():
        try:
            used.append(ipaddress.ip_network(s.get("cidr"), strict=False))
        except (TypeError, ValueError):
            continue
    for n in range(0, 250):
        cand = ipaddress.ip_network(f"10.0.{n}.0/24")
        if not any(cand.overlaps(u) for u in used):
            return str(cand)
    return "10.99.0.0/24"


@remedy("tenant-network-design", summary="Move the instance to a tenant network behind a router with a floating IP")
def tenant_network_design(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    facts = finding.facts
    server = facts.get("server") or {}
    ext = facts.get("network") or {}
    cidr = _free_cidr(ctx)
    gateway = str(next(ipaddress.ip_network(cidr).hosts()))
    net_name = "tenant-net"
    sub_name = "tenant-subnet"
    router = new_router_name(ctx, net_name)
    new_server = f"{server.get('name') or 'instance'}-tenant"
    image = server.get("image_id") or "<image-id>"
    commands = [
        _osc("network", "create", net_name),
        _osc("subnet", "create", "--subnet-range", cidr, "--network", net_name, "--gateway", gateway,
             "--dns-nameserver", "8.8.8.8", sub_name),
        _osc("router", "create", router),
        _osc("router", "set", "--external-gateway", ext.get("id") or "<external-network-id>", router),
        _osc("router", "add", "subnet", router, sub_name),
        _osc("server", "create", "--image", image, "--flavor", "<flavor>", "--network", net_name,
             *(option("--key-name", server["key_name"]) if server.get("key_name") else []), *positional(new_server)),
        _osc("floating", "ip", "create", ext.get("id") or "<external-network-id>"),
        _osc("server", "add", "floating", "ip", *(["--"] if new_server.startswith("-") else []), new_server,
             "<address-from-the-previous-command>"),
    ]
    return [Remedy(
        id="tenant-network-design", kind="command", durable=True,
        title=t("Use a tenant network behind a router, with a floating IP"),
        explain=t("Durable: the design the report switched to. {server} keeps working where it is only if "
                  "every compute maps the external physnet (bridge_mappings) and you hand out LAN addresses by hand; "
                  "a tenant network ({cidr}) behind a router needs no mapping on the computes (VXLAN) and gets a "
                  "floating IP through the router's NAT. Replace <flavor> with the one you use (openstack flavor list).",
                  server=server.get('name'), cidr=cidr),
        command="\n".join(commands),
        warning=t("This creates a new instance; move your data before deleting the old one."))]
