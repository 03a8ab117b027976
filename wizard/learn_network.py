"""Concept pages about the floating-IP path and the metadata service, drawn from this cloud:
the router's namespace qrouter-<id> on the network node, its qg-/qr- devices, the DNAT/SNAT
rules the L3 agent wrote (iptables-save in that namespace), the metadata path to
169.254.169.254 and what cloud-init logged on the instance's console.

``page(ctx, concept, facts) -> Markdown``. Every read is best effort: what cannot be read is
named (host and reason) and the page explains the rest from the API data."""
from __future__ import annotations

import re
import shlex
from typing import Any, Mapping

from .errors import WizardError
from .evidence import ProbeUnavailable
from .i18n import t
from .probe_context import ProbeContext

CONCEPTS = {
    "fip-nat": "Floating IPs: 1:1 NAT in the router namespace",
    "metadata": "cloud-init and the metadata service (169.254.169.254)",
}


def _safe(call, default=None):
    try:
        return call()
    except (WizardError, ProbeUnavailable, OSError):
        return default


def _code(text: str) -> str:
    # A fence the node's output cannot close (longer than any backtick run in it), control chars inert.
    from .runbook import _fence
    return _fence(text) + "\n"


def _esc(value: Any) -> str:
    """Cloud or node text as Markdown prose: escaped, so no link, HTML or emphasis comes out of it."""
    from .runbook import _md_escape
    return _md_escape(str(value))


def _span(value: Any) -> str:
    """Cloud or node text as an inline code span it cannot break out of."""
    from .runbook import _code as code_span
    return code_span(str(value))


def _l3_hosts(ctx: ProbeContext) -> list[str]:
    agents = _safe(ctx.cloud.agents, []) or []
    hosts = [a.get("host") for a in agents if a.get("agent_type") == "L3 agent" and a.get("host")]
    return sorted(set(hosts))


def _run(ctx: ProbeContext, host: str, argv: list[str]) -> tuple[str | None, str]:
    """(stdout or None, the command as shown / the reason it failed)."""
    from .readings.nodes import inventory_name
    shown = shlex.join(argv)
    failure = ""
    # Without sudo first (enough where the login user may enter namespaces), then with it.
    for sudo in (False, True):
        try:
            result = ctx.node(inventory_name(ctx, host)).run(argv, sudo=sudo, timeout=15)
        except (WizardError, ProbeUnavailable) as exc:
            text = exc.one_line() if hasattr(exc, "one_line") else str(exc)
            return None, f"{shown}: {text}"
        if result.rc == 0:
            return result.stdout, ("sudo " if sudo else "") + shown
        failure = f"{shown}: exit {result.rc} {result.stderr.strip()[:200]}"
    return None, failure


def _pick_router(ctx: ProbeContext, facts: Mapping[str, Any]) -> dict[str, Any] | None:
    routers = _safe(ctx.cloud.routers, []) or []
    wanted = (facts.get("router") or {}).get("id") or (facts.get("fip") or {}).get("router_id")
    for r in routers:
        if r.get("id") == wanted:
            return r
    with_gw = [r for r in routers if r.get("external_gateway_info")]
    return (with_gw or routers or [None])[0]


def fip_nat_page(ctx: ProbeContext, facts: Mapping[str, Any]) -> str:
    out = [f"# {t(CONCEPTS['fip-nat'])}\n"]
    server = facts.get("server") or {}
    port = facts.get("port") or {}
    fip = facts.get("fip") or {}
    ext = facts.get("floating_network") or {}
    out.append(t(
        "An instance on a tenant network only has a private address (here {address} on {network}). "
        "A floating IP is an address of the outside LAN that Neutron's **L3 agent** translates 1:1 to that private "
        "address inside a **router namespace** on the network node. The instance never sees its floating IP: "
        "`ip addr` inside the VM shows only the private address, because the translation happens before the "
        "packet reaches it.", address=_span(port.get("fixed_ip") or "10.x"),
        network=_span((facts.get("network") or {}).get("name") or t("the tenant network"))) + "\n")
    router = _pick_router(ctx, facts)
    if router is None:
        out.append(t("## In your cloud") + "\n\n" +
                   t("This project has **no router yet**, so there is no namespace and no NAT: "
                     "that is why a floating IP cannot be created (Neutron answers 404 "
                     "`ExternalGatewayForFloatingIPNotFound`). After `openstack router create`, `router set "
                     "--external-gateway` and `router add subnet`, the L3 agent builds `qrouter-<router-id>`; come back "
                     "to this page to see it.") + "\n")
        return "\n".join(out)
    rid = router["id"]
    ns = f"qrouter-{rid}"
    gw = router.get("external_gateway_info") or {}
    gw_ips = [ip.get("ip_address") for ip in gw.get("external_fixed_ips") or []]
    out.append(t("## In your cloud") + "\n")
    out.append(t("- Router **{router}** ({id}): namespace {namespace}.", router=_esc(router.get("name") or rid),
                 id=_span(rid), namespace=_span(ns)))
    if gw:
        snat = gw.get("enable_snat", True)
        out.append(t("- Gateway (the `qg-` device, on the outside LAN): network {network} with address {address}; "
                     "SNAT is on.", network=_span(gw.get("network_id")), address=_esc(", ".join(map(str, gw_ips)) or "?"))
                   if snat else
                   t("- Gateway (the `qg-` device, on the outside LAN): network {network} with address {address}; "
                     "SNAT is off.", network=_span(gw.get("network_id")), address=_esc(", ".join(map(str, gw_ips)) or "?")))
    else:
        out.append(t("- Gateway (the `qg-` device, on the outside LAN): **none**: without it the router has no leg "
                     "outside, and no floating IP can use it."))
    if fip.get("address"):
        out.append(t("- Floating IP **{address}** maps to {fixed} (instance {server}).", address=_esc(fip["address"]),
                     fixed=_span(fip.get("fixed_ip") or port.get("fixed_ip")), server=_esc(server.get("name") or "")))
    hosts = _l3_hosts(ctx)
    if not hosts:
        out.append("\n" + t("The L3 agent's host is not visible to these credentials (the agents API is admin-only). "
                            "Find it with {command}.",
                            command=_span(f"openstack network agent list --router {shlex.quote(rid)} --long")) + "\n")
        return "\n".join(out)
    host = hosts[0]
    out.append(t("- The L3 agent runs on **{host}**; Kolla mounts `/run/netns` shared, so the namespace is visible "
                 "on the host.", host=_esc(host)) + "\n")
    addrs, how = _run(ctx, host, ["ip", "netns", "exec", ns, "ip", "-br", "addr"])
    if addrs is not None:
        out.append(t("### Devices in {namespace} ({command} on {host})", namespace=_span(ns), command=_span(how),
                     host=_esc(host)) + "\n")
        out.append(_code(addrs))
        out.append(t("`qr-…` is the router's interface on your tenant subnet (the subnet's gateway IP); `qg-…` is its "
                     "gateway on the outside LAN, and every floating IP is added to it as a /32 so the router answers "
                     "ARP for it.") + "\n")
    else:
        out.append(t("(Could not list the devices: {reason}.)", reason=_esc(how)) + "\n")
    nat, how = _run(ctx, host, ["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"])
    if nat is None or "neutron-l3-agent" not in nat:
        from .readings.nodes import container_engine
        engine = container_engine(ctx, host)
        nat2, how2 = _run(ctx, host, [engine, "exec", "neutron_l3_agent", "ip", "netns", "exec", ns,
                                      "iptables-save", "-t", "nat"])
        if nat2 and "neutron-l3-agent" in nat2:
            nat, how = nat2, how2
    if nat and "neutron-l3-agent" in nat:
        keep = [l for l in nat.splitlines() if re.search(r"DNAT|SNAT|REDIRECT", l)]
        out.append(t("### NAT rules the L3 agent wrote ({command} on {host})", command=_span(how), host=_esc(host))
                   + "\n")
        out.append(_code("\n".join(keep) or t("(no NAT rules yet)")))
        out.append(t("- `neutron-l3-agent-PREROUTING -d <floating>/32 -j DNAT --to-destination <fixed>`: packets "
                     "arriving for the floating IP are rewritten to the instance's private address (inbound)."))
        out.append(t("- `neutron-l3-agent-float-snat -s <fixed>/32 -j SNAT --to-source <floating>`: the instance's "
                     "outgoing packets leave with its floating IP (outbound)."))
        out.append(t("- `neutron-l3-agent-snat -o qg-… -j SNAT --to-source <gateway IP>`: instances without a floating "
                     "IP share the router's gateway address to reach the outside (they cannot be reached from it)."))
        out.append(t("- `-d 169.254.169.254/32 -i qr-+ … REDIRECT --to-ports 9697`: metadata requests go to the "
                     "haproxy in this namespace (see the metadata page).") + "\n")
        if fip.get("address") and fip["address"] not in nat:
            out.append(t("**Note:** no rule mentions {address}: the L3 agent has not (yet) wired this floating "
                         "IP; check that `neutron_l3_agent` is running on {host}.", address=_esc(fip["address"]),
                         host=_esc(host)) + "\n")
    else:
        out.append(t("(Could not read the NAT rules: {reason}.)", reason=_esc(how)) + "\n")
    out.append(t("The path of an SSH packet from your LAN: your machine → home router LAN → `br-ex` on the network "
                 "node → `qg-` (DNAT to the private address) → `qr-` → `br-int` → VXLAN over `br-tun` to the compute → "
                 "the instance's tap device, where its **security group** decides whether port 22 is let in.") + "\n")
    return "\n".join(out)


def metadata_page(ctx: ProbeContext, facts: Mapping[str, Any]) -> str:
    from .probes.guest import parse_console
    out = [f"# {t(CONCEPTS['metadata'])}\n"]
    out.append(
        t("At first boot **cloud-init** inside the instance asks `http://169.254.169.254/openstack` for its identity: "
          "the SSH public key of the key pair, the user-data (e.g. `#cloud-config` with a password), the hostname. "
          "169.254.169.254 is link-local: nothing real owns it. Neutron catches the request on the instance's own "
          "network:") + "\n\n"
        + t("1. **DHCP namespace** (what Kolla uses: its `dhcp_agent.ini` sets `force_metadata = true`): dnsmasq hands "
            "the instance a route to 169.254.169.254/32 via the DHCP port, where a haproxy listens in "
            "`qdhcp-<network-id>`. This needs a subnet with DHCP enabled.") + "\n"
        + t("2. **Router namespace**: in `qrouter-<router-id>` an iptables REDIRECT sends port 80 to haproxy on 9697.")
        + "\n\n"
        + t("Both haproxies hand the request to **neutron-metadata-agent** on the network node, which adds the instance "
            "ID and a signature (`metadata_proxy_shared_secret`) and forwards it to **nova's metadata API** (port 8775). "
            "From 2025.2 Kolla runs those haproxy/dnsmasq processes as their own containers "
            "(`neutron_dhcp_agent_haproxy_qdhcp-…`, `neutron_l3_agent_haproxy_qrouter-…`).") + "\n")
    out.append(t("If any link is down, cloud-init's OpenStack datasource tries once (a 10 s timeout), gives up, and "
                 "boots with **no key**: "
                 "SSH then says `Permission denied (publickey)` although the network is fine. Its own messages "
                 "about the metadata service are DEBUG and never reach the console; there, look for "
                 "`Datasource DataSourceNone` and `Used fallback datasource` (no metadata), or the ci-info "
                 "authorized-keys table (the key arrived). A config drive "
                 "(`--use-config-drive`) delivers the same data on a disk instead.") + "\n")
    server = facts.get("server") or {}
    out.append(t("## In your cloud") + "\n")
    subnet = facts.get("subnet") or {}
    if subnet.get("id"):
        dhcp = subnet.get("enable_dhcp")
        name = _span(subnet.get("name"))
        out.append(t("- Subnet {subnet}: DHCP is **on** so metadata is served from the qdhcp namespace.", subnet=name)
                   if dhcp else
                   t("- Subnet {subnet}: DHCP is **off**; metadata then depends on a router interface on this subnet.",
                     subnet=name) if dhcp is False else
                   t("- Subnet {subnet}: DHCP is **unknown**.", subnet=name))
    agents = _safe(ctx.cloud.agents, None)
    if agents:
        for a in agents:
            if a.get("agent_type") in ("Metadata agent", "DHCP agent", "L3 agent"):
                alive = a.get("is_alive", a.get("alive"))
                out.append(t("- {agent} on {host}: alive.", agent=_esc(a.get("agent_type")), host=_esc(a.get("host")))
                           if alive else
                           t("- {agent} on {host}: **dead**.", agent=_esc(a.get("agent_type")), host=_esc(a.get("host"))))
    elif agents is None:
        out.append(t("- The agents API is admin-only here; check `openstack network agent list` as admin."))
    if server.get("id"):
        text = _safe(lambda: ctx.cloud.console_log(server["id"], 400), "") or ""
        lines = [l for l in text.splitlines()
                 if re.search(r"169\.254\.169\.254|metadata source|Giving up on|authorized SSH keys|Authorized keys|"
                              r"Datasource", l)]
        parsed = parse_console(text)
        console_cmd = f"openstack console log show {shlex.quote(server['id'])}"
        out.append("\n" + t("### What cloud-init logged on {server} ({command})", server=_esc(server.get("name")),
                            command=_span(console_cmd)) + "\n")
        out.append(_code("\n".join(lines[-12:]) or t("(no cloud-init metadata lines in the console log)")))
        if parsed["source"]:
            out.append(t("cloud-init reached the metadata service ({source}) and installed the key for user **{user}**.",
                         source=_esc(parsed["source"]), user=_esc(parsed["login_user"])) if parsed["keys_installed"]
                       else t("cloud-init reached the metadata service ({source}).", source=_esc(parsed["source"])))
        elif parsed["failures"] or parsed["gave_up"]:
            out.append(t("cloud-init failed {count} time(s) to reach the metadata service and gave up: "
                         "this instance has no SSH key from its key pair.", count=parsed["failures"]))
    return "\n".join(out) + "\n"


def page(ctx: ProbeContext, concept: str, facts: Mapping[str, Any]) -> str:
    if concept == "fip-nat":
        return fip_nat_page(ctx, facts)
    if concept == "metadata":
        return metadata_page(ctx, facts)
    raise KeyError(concept)
