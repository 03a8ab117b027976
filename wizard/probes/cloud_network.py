"""Probes for "floating IP create returns 404": which server and port, which external network,
and whether a router joins the port's subnet to it (Neutron's get_router_for_floatingip needs a
router with BOTH an interface on the subnet and a gateway on the external network)."""
from __future__ import annotations

from typing import Any, Mapping

from ..evidence import Evidence, ProbeUnavailable
from ..readings import neutron as nx
from .registry import probe
from ..probe_context import ProbeContext
from ..i18n import t

NEUTRON_404 = ("External network {ext} is not reachable from subnet {subnet}.  Therefore, cannot associate "
               "Port {port} with a Floating IP.")


def _target_server(ctx: ProbeContext) -> dict[str, Any] | None:
    wanted = (getattr(ctx, "target", None) or {}).get("server")
    if not wanted:
        return None
    server = ctx.cloud.find_server(str(wanted))
    if server is None:
        raise ProbeUnavailable(t("--server {server}: no such server in this project "
                                 "(check the name with 'openstack server list')", server=wanted),
                               sources=["GET /servers/detail"])
    return server


def server_port_view(ctx: ProbeContext, server: dict[str, Any]) -> dict[str, Any]:
    """The server's port that holds (or should hold) its floating IP, with its network, subnet and
    floating IP (if any). With several ports: the one with a floating IP; else a tenant port whose
    subnet a router already joins to an external network; else a tenant port; then by ID."""
    networks = nx.by_id(ctx.cloud.networks())
    subnets = nx.by_id(ctx.cloud.subnets())
    all_ports = ctx.cloud.ports()
    ports = nx.server_ports(server["id"], all_ports)
    fips = ctx.cloud.floating_ips()
    if not ports:
        return {"port": None}
    routed: set[str] = set()
    if len(ports) > 1:
        from ..cloud import CloudError
        try:
            for router in ctx.cloud.routers():
                if nx.router_gateway_network(router):
                    routed |= set(nx.router_interface_subnets(router["id"], all_ports))
        except CloudError:   # routers unreadable: the other keys still choose
            routed = set()
    ports.sort(key=lambda p: (nx.fip_for_port(p["id"], fips) is None,
                              nx.is_external(networks.get(p.get("network_id"))),
                              nx.first_ipv4(p)[0] not in routed, p.get("id") or ""))
    port = ports[0]
    net = networks.get(port.get("network_id")) or {"id": port.get("network_id")}
    subnet_id, _ip = nx.first_ipv4(port)
    subnet = subnets.get(subnet_id) or {"id": subnet_id}
    return {"port": port, "network": net, "subnet": subnet, "fip": nx.fip_for_port(port["id"], fips)}


def subnet_fact(subnet: dict[str, Any]) -> dict[str, Any]:
    return {"id": subnet.get("id"), "name": subnet.get("name") or subnet.get("id"), "cidr": subnet.get("cidr"),
            "gateway_ip": subnet.get("gateway_ip"), "enable_dhcp": subnet.get("is_dhcp_enabled")}


def _view_facts(server: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"server": nx.server_fact(server)}
    if view.get("port"):
        facts["port"] = nx.port_fact(view["port"])
        facts["network"] = nx.network_fact(view["network"])
        facts["subnet"] = subnet_fact(view["subnet"])
    if view.get("fip"):
        facts["fip"] = nx.fip_fact(view["fip"])
    return facts


@probe("fip_target", outcomes=("tenant-port", "has-fip", "on-external", "no-server"),
       summary="Pick the instance that needs a floating IP and read its port, network and subnet",
       requires="cloud", provides=("server", "port", "network", "subnet"))
def fip_target(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    sources = ["GET /servers/detail", "GET /v2.0/ports", "GET /v2.0/networks", "GET /v2.0/subnets",
               "GET /v2.0/floatingips"]
    chosen = _target_server(ctx)
    if chosen is not None:
        candidates = [chosen]
        how = t("named with --server")
    else:
        candidates = sorted((s for s in ctx.cloud.servers() if s.get("status") == "ACTIVE"),
                            key=lambda s: (s.get("name") or "", s.get("id") or ""))
        how = t("chosen automatically (pass --server to pick another)")
    views = [(s, server_port_view(ctx, s)) for s in candidates]
    views = [(s, v) for s, v in views if v["port"] is not None]

    def pick(pred):
        return next(((s, v) for s, v in views if pred(v)), None)

    tenant_no_fip = pick(lambda v: not nx.is_external(v["network"]) and not v["fip"])
    tenant_with_fip = pick(lambda v: not nx.is_external(v["network"]) and v["fip"])
    on_external = pick(lambda v: nx.is_external(v["network"]))
    if tenant_no_fip:
        server, view = tenant_no_fip
        outcome = "tenant-port"
    elif tenant_with_fip:
        server, view = tenant_with_fip
        outcome = "has-fip"
    elif on_external:
        server, view = on_external
        outcome = "on-external"
    else:
        if chosen is not None:
            return Evidence("no-server", {"server": nx.server_fact(chosen)},
                            [t("Server {name} has no port; there is nothing to give a floating IP to.",
                               name=chosen.get('name'))],
                            sources)
        return Evidence("no-server", {}, [t("No ACTIVE instance with a port was found in this project.")], sources)
    facts = _view_facts(server, view)
    obs = [t("Instance {name} ({id}), {how}; status {status}.", name=facts['server']['name'], id=server['id'], how=how,
             status=server.get('status'))]
    port = facts["port"]
    obs.append(t("Its port {port} has {ip} on network {network} (subnet {subnet} {cidr}).", port=port['id'],
                 ip=port['fixed_ip'], network=facts['network']['name'], subnet=facts['subnet']['name'],
                 cidr=facts['subnet'].get('cidr') or ''))
    if outcome == "has-fip":
        obs.append(t("It already has floating IP {address}: Neutron found a router path for it.",
                     address=facts['fip']['address']))
    elif outcome == "on-external":
        obs.append(t("Network {network} is itself the external network (router:external, {type} on {physnet}): "
                     "the instance sits directly on the outside LAN.", network=facts['network']['name'],
                     type=facts['network'].get('type'), physnet=facts['network'].get('physnet')))
    else:
        obs.append(t("The port has no floating IP yet."))
    if server.get("status") != "ACTIVE":
        obs.append(t("Note: the instance is {status}, not ACTIVE.", status=server.get('status')))
    return Evidence(outcome, facts, obs, sources)


def choose_external_network(ctx: ProbeContext, subnet_id: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The external network a floating IP for this subnet would come from, and all external ones.
    Prefer one a router on the subnet already uses as gateway, then one any router uses, then the
    first by name."""
    networks = ctx.cloud.networks()
    external = sorted((n for n in networks if nx.is_external(n)), key=lambda n: (n.get("name") or "", n["id"]))
    if not external:
        return None, []
    routers = ctx.cloud.routers()
    ports = ctx.cloud.ports()
    ext_ids = {n["id"] for n in external}
    for router in routers:
        gw = nx.router_gateway_network(router)
        if gw in ext_ids and subnet_id in nx.router_interface_subnets(router["id"], ports):
            return next(n for n in external if n["id"] == gw), external
    for router in routers:
        gw = nx.router_gateway_network(router)
        if gw in ext_ids:
            return next(n for n in external if n["id"] == gw), external
    return external[0], external


def choose_reachable_external_network(ctx: ProbeContext, subnet_id: str | None
                                      ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], str]:
    """choose_external_network, then the operator's reach: with several external networks, the one
    whose subnet holds the operator's address wins over the router's gateway network (a floating IP
    from a network the operator has no route to is useless); the note says so when they differ."""
    chosen, external = choose_external_network(ctx, subnet_id)
    if chosen is None or len(external) < 2:
        return chosen, external, ""
    lan, where = _operator_lan_network(ctx, external)
    if lan is None or lan["id"] == chosen["id"]:
        return chosen, external, ""
    note = t("The router's gateway network {gateway} is not your LAN: your address {address} is on {lan}, so a "
             "floating IP from {gateway} would not be reachable from your machine; floating IPs should come from {lan}.",
             gateway=chosen.get('name') or chosen['id'], address=where, lan=lan.get('name') or lan['id'])
    return lan, external, note


def _operator_lan_network(ctx: ProbeContext, external: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The external network one of whose subnets holds the operator's address, and that address."""
    import ipaddress

    from .guest import operator_address
    ip, _how = operator_address(ctx)
    if not ip:
        return None, ""
    address = ipaddress.ip_address(ip)
    subnets = ctx.cloud.subnets()
    for net in external:
        for subnet in subnets:
            if subnet.get("network_id") != net["id"] or not subnet.get("cidr"):
                continue
            try:
                if address in ipaddress.ip_network(subnet["cidr"], strict=False):
                    return net, ip
            except ValueError:
                continue
    return None, ip


@probe("fip_external_network", outcomes=("found", "none"),
       summary="Find the external (floating) network: a network with router:external",
       requires="cloud", provides=("floating_network",))
def fip_external_network(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    subnet_id = (ctx.facts.get("subnet") or {}).get("id")
    chosen, external, note = choose_reachable_external_network(ctx, subnet_id)
    sources = ["GET /v2.0/networks", "GET /v2.0/routers"]
    if chosen is not None:
        facts = {"floating_network": nx.network_fact(chosen), "external_network_note": note}
        obs = [t("External network(s): {networks}; floating IPs would come from {network} ({id}).",
                 networks=', '.join(n.get('name') or n['id'] for n in external),
                 network=facts['floating_network']['name'], id=chosen['id'])]
        if note:
            obs.append(note)
        return Evidence("found", facts, obs, sources)
    # No external network: is there a provider network that was meant to be one?
    own_net = (ctx.facts.get("network") or {}).get("id")
    provider = sorted((n for n in ctx.cloud.networks()
                       if n.get("provider_network_type") in ("flat", "vlan") and n["id"] != own_net),
                      key=lambda n: (n.get("name") or "", n["id"]))
    facts: dict[str, Any] = {}
    obs = [t("No network has router:external set, so Neutron has nowhere to allocate a floating IP from "
             "(floating ip create answers 'Network ... is not a valid external network', 400).")]
    if provider:
        facts["floating_network"] = nx.network_fact(provider[0])
        obs.append(t("Provider network {network} ({type} on {physnet}) looks like the outside LAN but is not external.",
                     network=facts['floating_network']['name'], type=provider[0].get('provider_network_type'),
                     physnet=provider[0].get('provider_physical_network')))
    else:
        facts["floating_network"] = {"id": None, "name": None}
    return Evidence("none", facts, obs, sources)


def router_path(ctx: ProbeContext, subnet_id: str, ext_net_id: str) -> dict[str, Any]:
    """Which routers touch the subnet and the external network, and the verdict."""
    routers = sorted(ctx.cloud.routers(), key=lambda r: (r.get("name") or "", r["id"]))
    ports = ctx.cloud.ports()
    on_subnet = [r for r in routers if subnet_id in nx.router_interface_subnets(r["id"], ports)]
    with_gw = [r for r in routers if nx.router_gateway_network(r) == ext_net_id]
    both = [r for r in on_subnet if r in with_gw]
    if both:
        return {"outcome": "path-ok", "router": both[0], "on_subnet": on_subnet, "with_gw": with_gw, "all": routers}
    if on_subnet:
        return {"outcome": "router-no-gateway", "router": on_subnet[0], "on_subnet": on_subnet, "with_gw": with_gw,
                "all": routers}
    if with_gw:
        return {"outcome": "subnet-not-on-router", "router": with_gw[0], "on_subnet": on_subnet, "with_gw": with_gw,
                "all": routers}
    return {"outcome": "no-router", "router": None, "on_subnet": [], "with_gw": [], "all": routers}


@probe("fip_router_path", outcomes=("path-ok", "no-router", "router-no-gateway", "subnet-not-on-router"),
       summary="Is there a router with an interface on the port's subnet and a gateway on the external network?",
       requires="cloud", needs=("subnet", "floating_network"))
def fip_router_path(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    subnet = ctx.facts.get("subnet") or {}
    ext = ctx.facts.get("floating_network") or {}
    port = ctx.facts.get("port") or {}
    if not subnet.get("id") or not ext.get("id"):
        raise ProbeUnavailable(t("the port's subnet or the external network is not known yet; "
                                 "run the earlier steps first"))
    found = router_path(ctx, subnet["id"], ext["id"])
    sources = ["GET /v2.0/routers", "GET /v2.0/ports"]
    facts: dict[str, Any] = {
        "neutron_error": NEUTRON_404.format(ext=ext["id"], subnet=subnet["id"], port=port.get("id")),
        "routers": [r.get("name") or r["id"] for r in found["all"]],
    }
    if found["router"] is not None:
        facts["router"] = nx.router_fact(found["router"])
    obs: list[str] = []
    if not found["all"]:
        obs.append(t("This project has no router at all."))
    else:
        for r in found["all"]:
            gw = nx.router_gateway_network(r)
            ifs = nx.router_interface_subnets(r["id"], ctx.cloud.ports())
            gateway = t("on {network}", network=gw) if gw else t("none (external_gateway_info is null)")
            if subnet['id'] in ifs:
                obs.append(t("Router {router}: gateway {gateway}; interfaces on {count} subnet(s) including {subnet}.",
                             router=r.get('name') or r['id'], gateway=gateway, count=len(ifs), subnet=subnet['name']))
            else:
                obs.append(t("Router {router}: gateway {gateway}; interfaces on {count} subnet(s).",
                             router=r.get('name') or r['id'], gateway=gateway, count=len(ifs)))
    outcome = found["outcome"]
    if outcome == "path-ok":
        obs.append(t("Router {router} joins subnet {subnet} to {network}: a floating IP for this port can be created.",
                     router=facts['router']['name'], subnet=subnet['name'], network=ext['name']))
    else:
        obs.append(t("Neutron therefore answers floating ip create with 404 ExternalGatewayForFloatingIPNotFound: "
                     "\"{error}\"", error=facts['neutron_error']))
        other_gw = nx.router_gateway_network(found["router"]) if found["router"] else None
        if outcome == "router-no-gateway" and other_gw and other_gw != ext["id"]:
            obs.append(t("Router {router} has its gateway on another network ({other}), not on {network}.",
                         router=facts['router']['name'], other=other_gw, network=ext['name']))
        if outcome == "subnet-not-on-router" and not subnet.get("gateway_ip"):
            obs.append(t("Subnet {subnet} has no gateway IP; a router interface needs one "
                         "('Subnet for router interface must have a gateway IP').", subnet=subnet['name']))
    return Evidence(outcome, facts, obs, sources)
