"""Probes for "the instance is ACTIVE but cannot be reached": the packet from the operator to the
guest and back, one hop per probe, each read live.

Facts from neutron (read in its source, facts only): the L3 agent builds ``qrouter-<router_id>`` on
the node whose agent hosts the router (``openstack network agent list --router``: GET
/v2.0/routers/{id}/l3-agents), adds each floating IP to the ``qg-`` device as a /32 and writes
``-A neutron-l3-agent-PREROUTING -d <fip>/32 -j DNAT --to-destination <fixed>`` (router_info.py);
the DHCP agent serves a network from ``qdhcp-<network_id>`` (GET /v2.0/networks/{id}/dhcp-agents);
Kolla's dnsmasq.conf logs to /var/log/kolla/neutron/dnsmasq.log, where each lease served is a
``DHCPACK(<dev>) <ip> <mac>`` line. VXLAN costs 50 bytes of the underlay's MTU."""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..probe_context import ProbeContext
from ..cloud import CloudError
from ..errors import WizardError
from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from .registry import probe
from ..i18n import t

DNSMASQ_LOG = "/var/log/kolla/neutron/dnsmasq.log"
VXLAN_OVERHEAD = 50
NEUTRON_MAC = "fa:16:3e"
LLADDR_RE = re.compile(r"lladdr\s+([0-9a-f:]{17})", re.I)


def _run(ctx: ProbeContext, host: str, argv: list[str], timeout: float = 20.0):
    node = _nodeio.transport(ctx, host)
    try:
        return node.run(argv, sudo=bool(getattr(node, "become", False)), timeout=timeout), node
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None


def _router_host(ctx: ProbeContext) -> tuple[str, str]:
    l3 = ctx.facts.get("l3") or {}
    router = (ctx.facts.get("router") or {}).get("id")
    if not l3.get("host") or not router:
        raise ProbeUnavailable(t("the router's L3 host is not known yet; run the earlier steps"))
    return _nodeio.inventory_name(ctx, l3["host"]), router


# -- 1. what the operator sees ---------------------------------------------------------------

@probe("connection_kind", outcomes=("answers", "refused", "timeout", "hangs-after-banner"),
       summary="From the deploy host: TCP 22 refused (RST), timed out, or connected then hung after the banner",
       requires="deploy", needs=("address",), provides=("connect",))
def connection_kind(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    address = ctx.facts.get("address")
    if not address:
        raise ProbeUnavailable(t("no address to test"))
    deploy = ctx.deploy
    host = getattr(deploy, "name", "deploy host")
    nc_argv = ["nc", "-vz", "-w", "3", str(address), "22"]
    ping_argv = ["ping", "-c", "2", "-W", "2", str(address)]
    scan_argv = ["ssh-keyscan", "-T", "5", "-t", "ed25519", str(address)]
    try:
        nc = deploy.run(nc_argv, timeout=15)
        ping = deploy.run(ping_argv, timeout=15)
        scan = deploy.run(scan_argv, timeout=15) if nc.rc == 0 else None
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None
    if nc.rc == 127:
        raise ProbeUnavailable(t("{host}: nc is not installed (dnf install nmap-ncat), or answer the question", host=host))
    sources = [f"{host}: {' '.join(nc_argv)}", f"{host}: {' '.join(ping_argv)}"]
    said = (nc.stderr or nc.stdout).strip().splitlines()
    detail = said[-1] if said else f"exit {nc.rc}"
    obs = [t("{command} from {host}: {result}", command=f"ping {address}", host=host,
             result=t("replies") if ping.rc == 0 else t("no reply"))]
    facts: dict[str, Any] = {"connect": {"ping": ping.rc == 0, "detail": detail}}
    if nc.rc != 0:
        kind = "refused" if "refused" in detail.lower() else "timeout"
        obs.insert(0, t("TCP {address}:22 from {host}: ", address=address, host=host) + (
            t("refused: something at that address answered with a reset (RST)") if kind == "refused"
            else t("timed out: nothing answered, the packet is dropped on the way")) + f" ({detail})")
        facts["connect"]["kind"] = kind
        return Evidence(kind, facts, obs, sources)
    sources.append(f"{host}: {' '.join(scan_argv)}")
    banner = next((l[2:].strip() for l in (scan.stderr or "").splitlines() if l.startswith("# ")), "") if scan else ""
    keys = [l for l in (scan.stdout if scan else "").splitlines() if l and not l.startswith("#")]
    if keys:
        facts["connect"]["kind"] = "answers"
        obs.insert(0, t("TCP {address}:22 from {host}: connected; the SSH key exchange completed ({banner}).", address=address, host=host, banner=banner or t("key received")))
        return Evidence("answers", facts, obs, sources)
    facts["connect"]["kind"] = "hangs-after-banner"
    obs.insert(0, t("TCP {address}:22 from {host}: connected and the banner came ({banner}), but the key "
                    "exchange never finished: small packets pass, full-size ones are lost (the classic MTU "
                    "symptom).", address=address, host=host, banner=banner or t("no banner")))
    return Evidence("hangs-after-banner", facts, obs, sources)


# -- 2. the router ------------------------------------------------------------------------------

@probe("router_l3_agent", outcomes=("alive", "dead", "not-hosted", "no-router"),
       summary="The floating IP's router: the L3 agent hosting it, alive or not (network agent list --router)",
       requires="cloud", provides=("router", "l3", "host"))
def router_l3_agent(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    fip = ctx.facts.get("fip") or {}
    if not fip.get("id"):
        return Evidence("no-router", {}, [t("The instance is reached on the external network itself: no router is on the path.")],
                        ["GET /v2.0/floatingips"])
    full = next((f for f in ctx.cloud.floating_ips() if f.get("id") == fip["id"]), None) or {}
    router_id = full.get("router_id")
    routers = {r.get("id"): r for r in ctx.cloud.routers()}
    router = routers.get(router_id) or {}
    facts: dict[str, Any] = {"router": {"id": router_id, "name": router.get("name") or router_id}}
    try:
        agents = ctx.cloud.router_l3_agents(router_id)
    except CloudError as exc:
        raise ProbeUnavailable(exc.one_line() + t("; run `openstack network agent list --router ROUTER --long` as admin")) from None
    sources = ["GET /v2.0/floatingips", "GET /v2.0/routers", f"GET /v2.0/routers/{router_id}/l3-agents"]
    name = facts["router"]["name"]
    if not agents:
        return Evidence("not-hosted", facts, [t("No L3 agent hosts router {name}: no node has its qrouter- namespace.", name=name)], sources)
    agent = next((a for a in agents if a.get("is_alive", a.get("alive"))), agents[0])
    alive = bool(agent.get("is_alive", agent.get("alive")))
    facts["l3"] = {"host": agent.get("host"), "alive": alive, "agent_id": agent.get("id"),
                   "heartbeat": agent.get("last_heartbeat_at") or agent.get("heartbeat_timestamp")}
    facts["host"] = _nodeio.inventory_name(ctx, agent.get("host") or "")
    obs = [t("Router {name} is hosted by the L3 agent on {host}: ", name=name, host=agent.get('host'))
           + (t("alive :-)") if alive else t("XXX (dead; last heartbeat {heartbeat})", heartbeat=facts['l3']['heartbeat'])) + "."]
    if not alive:
        facts["agent"] = {"container": "neutron_l3_agent", "kind": "L3 agent"}
        obs.append(t("A dead L3 agent programs nothing: a floating IP associated since it died has no DNAT rule "
                     "and no address on the qg- device, and after a reboot the qrouter- namespace is not "
                     "rebuilt."))
        return Evidence("dead", facts, obs, sources, host=facts["host"])
    return Evidence("alive", facts, obs, sources, host=facts["host"])


@probe("router_namespace", outcomes=("nat-ok", "gateway-unreachable", "no-namespace", "no-nat"),
       summary="On the L3 host: the qrouter- namespace, the qg- port holding the FIP, its DNAT/SNAT rules, the gateway",
       requires="node", needs=("l3", "router"), provides=("netns",))
def router_namespace(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    host, router = _router_host(ctx)
    ns = f"qrouter-{router}"
    fip = (ctx.facts.get("fip") or {}).get("address") or ctx.facts.get("address")
    fixed = (ctx.facts.get("port") or {}).get("fixed_ip")
    listing, _node = _run(ctx, host, ["ip", "netns", "list"])
    sources = [f"{host}: ip netns list"]
    if ns not in listing.stdout.split():
        return Evidence("no-namespace", {"netns": ns}, [t("{host} has no namespace {ns}: the router exists only in the API.", host=host, ns=ns)],
                        sources, host=host)
    addrs, _ = _run(ctx, host, ["ip", "netns", "exec", ns, "ip", "-br", "addr"])
    engine = _nodeio.container_engine(ctx, host)
    nat_argv = [engine, "exec", "neutron_l3_agent", "ip", "netns", "exec", ns, "iptables", "-t", "nat", "-S"]
    nat, _ = _run(ctx, host, nat_argv)
    sources += [f"{host}: ip netns exec {ns} ip -br addr", f"{host}: {' '.join(nat_argv)}"]
    qg = next((l.split()[0] for l in addrs.stdout.splitlines() if l.startswith("qg-")), None)
    on_qg = bool(qg) and any(l.startswith("qg-") and f"{fip}/32" in l for l in addrs.stdout.splitlines())
    dnat = sorted((l for l in nat.stdout.splitlines() if f"-d {fip}/32" in l and "DNAT" in l),
                  key=lambda l: "PREROUTING" not in l)
    snat = [l for l in nat.stdout.splitlines() if f"-s {fixed}/32" in l and "SNAT" in l]
    facts = {"netns": ns, "qg": qg, "nat": {"dnat": dnat[:2], "snat": snat[:1]}}
    obs = [t("{host}: namespace {ns} exists; {qg}", host=host, ns=ns, qg=qg or t("no qg- device"))
           + (t(" holds {fip}/32.", fip=fip) if on_qg else t(" does not hold {fip}/32.", fip=fip)),
           t("DNAT for {fip}: {dnat}; SNAT from {fixed}: {snat}.", fip=fip, dnat="; ".join(dnat[:1]) if dnat else t("none"),
             fixed=fixed, snat="; ".join(snat) if snat else t("none"))]
    if not on_qg or not dnat:
        return Evidence("no-nat", facts, obs, sources, host=host)
    gateway = ctx.facts.get("ext_gateway")
    if not gateway:
        try:
            fip_net = next((f.get("floating_network_id") for f in ctx.cloud.floating_ips()
                            if f.get("floating_ip_address") == fip), None)
            gateway = next((s.get("gateway_ip") for s in ctx.cloud.subnets() if s.get("network_id") == fip_net
                            and s.get("gateway_ip")), None)
        except CloudError:
            gateway = None
    if gateway:
        ping, _ = _run(ctx, host, ["ip", "netns", "exec", ns, "ping", "-c", "2", "-W", "2", gateway])
        sources.append(f"{host}: ip netns exec {ns} ping -c 2 -W 2 {gateway}")
        facts["ext_gateway"] = gateway
        obs.append(t("The external gateway {gateway} from inside {ns}: ", gateway=gateway, ns=ns) + (t("replies.") if ping.rc == 0 else
                   t("no reply: the router cannot reach the LAN through br-ex.")))
        if ping.rc != 0:
            return Evidence("gateway-unreachable", facts, obs, sources, host=host)
    return Evidence("nat-ok", facts, obs, sources, host=host)


# -- 3. br-ex's uplink -----------------------------------------------------------------------

@probe("br_ex_uplink", outcomes=("ok", "no-uplink", "nic-has-address"),
       summary="neutron_external_interface on the L3 host: present, a port of br-ex, up, without an address",
       requires="node", needs=("l3", "router"), provides=("uplink",))
def br_ex_uplink(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    from .node_ovs import ovs_show
    host, _router = _router_host(ctx)
    model = _nodeio.kolla_or_none(ctx)
    if model is None:
        raise ProbeUnavailable(t("the Kolla configuration could not be read, so neutron_external_interface is unknown"))
    try:
        resolved = model.resolve("neutron_external_interface", host)
        nic = str(resolved.value)
        winner = resolved.winner
        where = winner.describe() if winner else ""
    except Exception as exc:
        raise ProbeUnavailable(t("neutron_external_interface for {host}: {exc}", host=host, exc=exc)) from None
    facts: dict[str, Any] = {"uplink": {"nic": nic, "where": str(where), "host": host}, "host": host}
    link, node = _run(ctx, host, ["ip", "-br", "link", "show", "dev", nic])
    sources = [f"{host}: ip -br link show dev {nic}"]
    obs = [t("Kolla's neutron_external_interface on {host} is {nic}", host=host, nic=nic) + (f" ({where})." if where else ".")]
    if link.rc != 0:
        facts["uplink"]["problem"] = t("{nic} does not exist on {host}", nic=nic, host=host)
        obs.append(t("{host}: {stderr}: br-ex has no way to the LAN.", host=host, stderr=link.stderr.strip() or nic + ' does not exist'))
        return Evidence("no-uplink", facts, obs, sources, host=host)
    bridges, _raw, command = ovs_show(ctx, node, host)
    sources.append(f"{host}: {command}")
    ports = sorted((bridges.get("br-ex") or {}).get("ports", {}))
    if nic not in ports:
        facts["uplink"]["problem"] = t("{nic} is not a port of br-ex (its ports: {ports})", nic=nic, ports=', '.join(ports) or 'none')
        obs.append(t("br-ex on {host} has ports {ports}: {nic} is not plugged in, so the router's qg- port has "
                     "no L2 path to the LAN.", host=host, ports=', '.join(ports) or t("none"), nic=nic))
        return Evidence("no-uplink", facts, obs, sources, host=host)
    if " UP " not in f" {link.stdout} " and "LOWER_UP" not in link.stdout:
        facts["uplink"]["problem"] = f"{nic} is down"
        obs.append(t("{nic} is a port of br-ex but its link is down ({stdout}).", nic=nic, stdout=link.stdout.strip()))
        return Evidence("no-uplink", facts, obs, sources, host=host)
    addr, _ = _run(ctx, host, ["ip", "-o", "-4", "addr", "show", "dev", nic])
    sources.append(f"{host}: ip -o -4 addr show dev {nic}")
    inet = [w for l in addr.stdout.splitlines() for i, w in enumerate(l.split()) if l.split()[i - 1:i] == ["inet"]]
    if inet:
        facts["uplink"]["address"] = inet[0]
        obs.append(t("{nic} is a port of br-ex and carries the address {inet}: Kolla's external NIC must have "
                     "no IP of its own (the single-NIC trap).", nic=nic, inet=inet[0]))
        return Evidence("nic-has-address", facts, obs, sources, host=host)
    obs.append(t("{nic} is up, a port of br-ex, and has no address of its own.", nic=nic))
    return Evidence("ok", facts, obs, sources, host=host)


# -- 4. who answers for the address on the LAN --------------------------------------------------

@probe("fip_arp_owner", outcomes=("router", "other-machine", "no-answer"),
       summary="Which MAC answers ARP for the floating IP on the deploy host's LAN (ip neigh)", requires="deploy", needs=("address",), provides=("lan",))
def fip_arp_owner(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    address = ctx.facts.get("address")
    if not address:
        raise ProbeUnavailable(t("no address to test"))
    deploy = ctx.deploy
    host = getattr(deploy, "name", "deploy host")
    try:
        deploy.run(["ping", "-c", "1", "-W", "1", str(address)], timeout=10)   # fills the ARP cache
        neigh = deploy.run(["ip", "neigh", "show", str(address)], timeout=10)
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None
    sources = [f"{host}: ip neigh show {address}"]
    match = LLADDR_RE.search(neigh.stdout)
    router_id = (ctx.facts.get("router") or {}).get("id")
    gw_macs = {p.get("mac_address", "").lower() for p in ctx.cloud.ports()
               if p.get("device_owner") == "network:router_gateway" and p.get("device_id") == router_id}
    pool: list[str] = []
    fip_net = None
    try:
        fip_net = next((f.get("floating_network_id") for f in ctx.cloud.floating_ips()
                        if f.get("floating_ip_address") == address), None)
        ext = [s for s in ctx.cloud.subnets() if s.get("network_id") == fip_net]
        pool = [f"{p.get('start')}-{p.get('end')}" for s in ext for p in s.get("allocation_pools") or []]
        subnet = ext[0].get("name") or ext[0].get("id") if ext else None
    except CloudError:
        subnet = None
    facts: dict[str, Any] = {"lan": {"pool": pool, "router_macs": sorted(gw_macs), "subnet": subnet,
                                     "network": fip_net if pool else None}}
    if not match:
        return Evidence("no-answer", facts, [t("Nothing on the LAN answered ARP for {address} ({stdout}).", address=address, stdout=neigh.stdout.strip() or t("no entry"))],
                        sources)
    mac = match.group(1).lower()
    facts["lan"]["mac"] = mac
    if mac in gw_macs or (not gw_macs and mac.startswith(NEUTRON_MAC)):
        return Evidence("router", facts, [t("{address} is answered by {mac}, the router's qg- port: the LAN reaches the router.", address=address, mac=mac)],
                        sources)
    return Evidence("other-machine", facts, host=host, sources=sources, observations=[
        t("{address} is answered by {mac}, which is not the router's gateway port ({gw_macs}): "
          "another machine on the LAN holds this address. The floating IP pool ({pool}) overlaps "
          "addresses the LAN hands out (the home router's DHCP pool).", address=address, mac=mac, gw_macs=', '.join(sorted(gw_macs)) or 'a fa:16:3e MAC', pool=', '.join(pool) or t("unknown"))])


# -- 5. the instance's side --------------------------------------------------------------------

@probe("instance_port_state", outcomes=("active", "down"),
       summary="The instance's port: ACTIVE and bound to a host by the OVS agent", requires="cloud", needs=("port",), provides=("port_state",))
def instance_port_state(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    port_id = (ctx.facts.get("port") or {}).get("id")
    port = next((p for p in ctx.cloud.ports() if p.get("id") == port_id), None)
    if port is None:
        raise ProbeUnavailable(t("the instance's port is not known; run the earlier steps"))
    status = port.get("status")
    vif = port.get("binding_vif_type") or port.get("binding:vif_type")
    host = port.get("binding_host_id") or port.get("binding:host_id")
    facts = {"port_state": {"status": status, "vif_type": vif, "host": host, "mac": port.get("mac_address")}}
    obs = [t("Port {port_id}: status {status}, bound to {host} (vif_type {vif}).", port_id=port_id, status=status, host=host or t("no host"), vif=vif)]
    if status == "ACTIVE" and vif not in (None, "unbound", "binding_failed"):
        return Evidence("active", facts, obs, ["GET /v2.0/ports"])
    return Evidence("down", facts, obs, ["GET /v2.0/ports"], host=host)


@probe("dhcp_serving", outcomes=("serving", "agent-down", "not-serving", "dhcp-off"),
       summary="The network's DHCP agent: alive, its qdhcp- namespace, a DHCPACK for the port's MAC in dnsmasq.log",
       requires="cloud", needs=("port",), provides=("dhcp",))
def dhcp_serving(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    port_id = (ctx.facts.get("port") or {}).get("id")
    port = next((p for p in ctx.cloud.ports() if p.get("id") == port_id), None)
    if port is None:
        raise ProbeUnavailable(t("the instance's port is not known; run the earlier steps"))
    net_id = port.get("network_id")
    subnets = {s.get("id"): s for s in ctx.cloud.subnets()}
    dhcp = [subnets[i["subnet_id"]] for i in port.get("fixed_ips") or []
            if subnets.get(i.get("subnet_id"), {}).get("is_dhcp_enabled", subnets.get(i.get("subnet_id"), {}).get("enable_dhcp"))]
    if not dhcp:
        return Evidence("dhcp-off", {}, [t("The port's subnet has DHCP off: the guest must configure its address itself (config "
                                           "drive).")], ["GET /v2.0/subnets"])
    try:
        agents = ctx.cloud.network_dhcp_agents(net_id)
    except CloudError as exc:
        raise ProbeUnavailable(exc.one_line() + t("; run `openstack network agent list --network NET --long` as admin")) from None
    sources = ["GET /v2.0/ports", f"GET /v2.0/networks/{net_id}/dhcp-agents"]
    mac = (port.get("mac_address") or "").lower()
    alive = [a for a in agents if a.get("is_alive", a.get("alive"))]
    facts: dict[str, Any] = {"dhcp": {"network": net_id, "mac": mac, "hosts": [a.get("host") for a in agents]}}
    if not alive:
        dead = agents[0] if agents else {}
        host = _nodeio.inventory_name(ctx, dead.get("host") or "") if dead else None
        facts["host"] = host
        facts["agent"] = {"container": "neutron_dhcp_agent", "kind": "DHCP agent"}
        return Evidence("agent-down", facts, [
            (t("The DHCP agent on {host} serving this network is dead (XXX).", host=dead.get('host')) if dead else
             t("No DHCP agent hosts this network.")) + t(" A guest that booted meanwhile got no lease, so it has no address and nothing reaches it.")], sources, host=host)
    host = _nodeio.inventory_name(ctx, alive[0].get("host") or "")
    facts["host"] = host
    listing, node = _run(ctx, host, ["ip", "netns", "list"])
    ns = f"qdhcp-{net_id}"
    sources += [f"{host}: ip netns list", f"{host}: grep -F -e {mac} {DNSMASQ_LOG}"]
    lines = _nodeio.grep_file(node, mac, DNSMASQ_LOG) or []
    acks = [l for l in lines if "DHCPACK" in l]
    obs = [t("DHCP agent on {host}: alive; namespace {ns} ", host=alive[0].get('host'), ns=ns) + (t("present") if ns in listing.stdout.split()
                                                                              else t("missing")) + ".",
           t("dnsmasq.log: {count} DHCPACK for {mac}", count=len(acks), mac=mac) + (t(" (last: {line})", line=acks[-1].strip()) if acks else "") + "."]
    if ns in listing.stdout.split() and acks:
        return Evidence("serving", facts, obs, sources, host=host)
    return Evidence("not-serving", facts, obs, sources, host=host)


# -- 6. MTU ------------------------------------------------------------------------------------

@probe("path_mtu", outcomes=("fits", "too-big", "no-reply"),
       summary="A don't-fragment ping of the network's MTU from the router namespace to the instance", requires="node", needs=("l3", "router"), provides=("mtu",))
def path_mtu(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    host, router = _router_host(ctx)
    ns = f"qrouter-{router}"
    fixed = (ctx.facts.get("port") or {}).get("fixed_ip")
    net_id = (ctx.facts.get("network") or {}).get("id")
    net = next((n for n in ctx.cloud.networks() if n.get("id") == net_id), {}) or {}
    mtu = int(net.get("mtu") or 1500)
    ntype = net.get("provider_network_type") or net.get("provider:network_type")
    facts: dict[str, Any] = {"mtu": {"network": mtu, "type": ntype, "network_name": net.get("name") or net_id}}
    sources = ["GET /v2.0/networks"]

    def df_ping(size: int) -> bool:
        result, _ = _run(ctx, host, ["ip", "netns", "exec", ns, "ping", "-M", "do", "-s", str(size), "-c", "2", "-W", "2", fixed])
        sources.append(f"{host}: ip netns exec {ns} ping -M do -s {size} -c 2 -W 2 {fixed}")
        return result.rc == 0

    full = mtu - 28
    if df_ping(full):
        return Evidence("fits", facts, [t("A {mtu}-byte don't-fragment ping from {ns} reaches {fixed}: the network's MTU {mtu} fits "
                                          "the path.", mtu=mtu, ns=ns, fixed=fixed)], sources, host=host)
    if not df_ping(56):
        return Evidence("no-reply", facts, [t("{fixed} does not answer even a small ping from {ns}.", fixed=fixed, ns=ns)], sources, host=host)
    best = 56
    for size in range(full - 50, 56, -50):
        if df_ping(size):
            best = size
            break
    facts["mtu"]["path"] = best + 28
    facts["mtu"]["underlay"] = best + 28 + (VXLAN_OVERHEAD if ntype == "vxlan" else 0)
    obs = [t("A {mtu}-byte don't-fragment ping from {ns} to {fixed} is lost; a {value}-byte one passes.", mtu=mtu, ns=ns, fixed=fixed, value=best + 28),
           t("Network {network_name} ({ntype}) says MTU {mtu}, but the path carries at most {value} ", network_name=facts['mtu']['network_name'], ntype=ntype, mtu=mtu, value=best + 28)
           + (t("(underlay about {value} less VXLAN's 50 bytes)", value=best + 28 + VXLAN_OVERHEAD) if ntype == "vxlan" else "")
           + t(": SYN, ping and the SSH banner pass, full-size packets are dropped.")]
    return Evidence("too-big", facts, obs, sources, host=host)
