"""Concept pages that teach from this cloud's own data (Markdown).

``learn_page(ctx, concept, facts)``: ``bridges`` (the host's real OVS bridges and ports from
``ovs-vsctl show``), ``precedence`` (the chain of the Kolla variable at fault), ``scheduling``
(Nova scheduler and Placement); ``fip-nat`` and ``metadata`` live in ``learn_network``. Every read
is best effort: a page names what it could not read and explains the rest."""
from __future__ import annotations

from typing import Any, Mapping

from .errors import WizardError
from .evidence import ProbeUnavailable
from .i18n import t
from .probe_context import ProbeContext

CONCEPTS = {
    "bridges": "Open vSwitch bridges: br-int, br-ex, br-tun and the patch ports between them",
    "precedence": "Kolla-Ansible variable precedence: which setting wins, and why",
    "scheduling": "Scheduling: nova-scheduler, Placement and 'No valid host was found'",
    "fip-nat": "Floating IPs: 1:1 NAT in the router namespace",
    "metadata": "cloud-init and the metadata service (169.254.169.254)",
}


def concept_title(concept: str) -> str:
    """A page's title in the current language (the English in CONCEPTS is its catalog key)."""
    return t(CONCEPTS[concept]) if concept in CONCEPTS else concept


BRIDGE_ROLES = {
    "br-int": ("the integration bridge. Every VM port (tap/qvo), router port (qr-/qg-) and DHCP port (tap) "
               "plugs in here; the agent tags each port with a local VLAN per network and its flows decide "
               "where a packet goes next."),
    "br-tun": ("the tunnel bridge. Tenant (VXLAN) traffic leaves br-int through patch-tun/patch-int and is "
               "wrapped in VXLAN to the other nodes' tunnel IP (vxlan-... ports)."),
    "br-ex": ("the external (provider) bridge. Flat and VLAN networks on physnet1 leave br-int through the "
              "int-br-ex/phy-br-ex patch pair, and br-ex sends them out of neutron_external_interface. It exists "
              "only where Kolla gives the host bridge_mappings: [network] hosts always, computes only with "
              "provider networks or DVR."),
}


def _safe(call, default=None):
    try:
        return call()
    except (WizardError, ProbeUnavailable, OSError):
        return default


def _code(text: str) -> str:
    # A fence the node's output cannot close (longer than any backtick run in it), control chars inert.
    return _fence(text) + "\n"


def _esc(value: Any, *, table: bool = False) -> str:
    from .runbook import _md_escape
    return _md_escape(str(value), table=table)


def _span(value: Any, *, table: bool = False) -> str:
    from .runbook import _code as code_span
    return code_span(str(value), table=table)


def _fence(text: str) -> str:
    from .runbook import _fence as fence
    return fence(text)


# -- bridges -----------------------------------------------------------------------------------------
def _bridges_host(ctx: ProbeContext, facts: Mapping[str, Any]) -> str | None:
    from .readings import nodes as _nodeio

    host = (facts.get("views") or {}).get("host") or (facts.get("ovs") or {}).get("inventory_host") or facts.get("host")
    if host:
        return _nodeio.inventory_name(ctx, str(host))
    computes = _nodeio.hosts_in_group(ctx, "compute")
    return computes[0] if computes else None


def _port_words(name: str, info: Mapping[str, Any]) -> str:
    kind = info.get("type") or "system"
    options = info.get("options") or ""
    if kind == "patch":
        peer = options.split("peer=", 1)[1].strip("}") if "peer=" in options else "?"
        return t("patch port to {peer}", peer=_span(peer))
    if kind == "internal":
        if name.startswith("qr-"):
            return t("router interface on a tenant subnet (internal port of a qrouter namespace)")
        if name.startswith("qg-"):
            return t("router gateway on the external network (floating IPs live here)")
        if name.startswith("tap"):
            return t("DHCP port (inside a qdhcp namespace)")
        return t("the bridge's own internal port")
    if kind == "vxlan":
        return t("VXLAN tunnel ({options})", options=options)
    if name.startswith(("qvo", "tap")):
        return t("a VM's port")
    if info.get("error"):
        return t("a physical (or veth) interface: the uplink (error: {error})", error=info["error"])
    return t("a physical (or veth) interface: the uplink")


def bridges_page(ctx: ProbeContext, facts: Mapping[str, Any]) -> str:
    from .readings import nodes as _nodeio
    from .probes.node_ovs import ovs_show

    host = _bridges_host(ctx, facts)
    lines = [f"# {concept_title('bridges')}", ""]
    raw = None
    bridges: dict[str, Any] = {}
    reason = ""
    if host:
        try:
            node = ctx.node(host)
            bridges, raw, command = ovs_show(ctx, node, host)
        except ProbeUnavailable as exc:
            reason = exc.reason
        except WizardError as exc:
            reason = exc.one_line()
    if raw is not None:
        lines += [t("What Open vSwitch has on **{host}** right now ({command}):", host=_esc(host), command=_span(command)),
                  "", _code(raw)]
        for name in sorted(bridges, key=lambda b: ("br-int", "br-tun", "br-ex").index(b)
                           if b in ("br-int", "br-tun", "br-ex") else 9):
            role = t(BRIDGE_ROLES.get(name, "a bridge Kolla or an operator created (not one of neutron's defaults)."))
            lines.append(f"- **{_esc(name)}**: {role}")
            for port, info in sorted(bridges[name]["ports"].items()):
                if port == name:
                    continue
                lines.append(f"  - {_span(port)}: {_port_words(port, info)}")
        missing = [b for b in ("br-int", "br-tun", "br-ex") if b not in bridges]
        if "br-ex" in missing:
            lines += ["", t("**{host} has no br-ex.** Ports on flat/VLAN networks (a provider network such as "
                            "public1 on physnet1) cannot leave this host, and its OVS agent must not map physnet1 "
                            "(it would exit with \"Bridge br-ex for physical network physnet1 does not exist. Agent "
                            "terminated!\"). Only VXLAN ports bind here.", host=host)]
        if "br-ex" in bridges and not any(p.startswith("phy-") for p in bridges["br-ex"]["ports"]):
            lines += ["", t("br-ex exists but has no `phy-br-ex` patch port: the agent has not mapped it yet "
                            "(no bridge_mappings, or the agent was not restarted since).")]
    else:
        lines += [t("The bridges of {host} could not be read ({reason}). In a Kolla ML2/OVS node:",
                    host=host or t("the compute"), reason=reason) if reason else
                  t("The bridges of {host} could not be read. In a Kolla ML2/OVS node:", host=host or t("the compute")),
                  ""]
        for name in ("br-int", "br-tun", "br-ex"):
            lines.append(f"- **{name}**: {t(BRIDGE_ROLES[name])}")
    views = facts.get("views") or {}
    if views.get("table"):
        lines += ["", t("## bridge_mappings: the three views"), "", views["table"], ""]
        if views.get("expected_from"):
            lines += [views["expected_from"], ""]
        lines += [t("Why Kolla renders that: {reason}.", reason=views.get("expected_reason"))]
    lines += ["", t("## The path of a packet"), "",
              t("A VM on a **VXLAN** network: tap → br-int (local VLAN tag) → patch-tun → br-tun (VXLAN to the "
                "other node) → ... → br-int on the network node → qr- port in the router namespace → NAT → qg- "
                "port → br-int → int-br-ex → phy-br-ex → br-ex → external NIC."),
              "",
              t("A VM straight on a **flat** network (public1 on physnet1): tap → br-int → int-br-ex → phy-br-ex → "
                "br-ex → external NIC, **on its own compute**. That is why such a VM needs br-ex and "
                "`bridge_mappings = physnet1:br-ex` on the compute, and a VXLAN VM does not."),
              "", t("Read it yourself on a node: {command}.",
                    command=f"`{_nodeio.container_engine(ctx, host or '')} exec "
                            f"{_nodeio.OVS_VSWITCHD_CONTAINER} ovs-vsctl show`")]
    return "\n".join(lines) + "\n"


# -- precedence -------------------------------------------------------------------------------------
def precedence_page(ctx: ProbeContext, facts: Mapping[str, Any]) -> str:
    from .readings import nodes as _nodeio
    from .probes.kolla_views import precedence_facts

    lines = [f"# {concept_title('precedence')}", ""]
    var = facts.get("kolla_var") or {}
    host = (facts.get("views") or {}).get("host") or facts.get("host")
    if not var:
        model = _nodeio.kolla_or_none(ctx)
        if model is not None and host:
            try:
                var = precedence_facts(model.resolve("enable_neutron_provider_networks",
                                                     _nodeio.inventory_name(ctx, str(host))))
            except Exception:
                var = {}
    if var:
        lines += [t("**{name}** on **{host}** is {value}.", name=_esc(var.get("name")), host=_esc(var.get("host")),
                    value=_span(repr(var.get("value")))), "",
                  var.get("explain", ""), "",
                  t("Every place that sets it, lowest precedence first (the last that sets it wins):"), "",
                  t("| # | level | where | value | wins |"), "|---|---|---|---|---|"]
        for i, src in enumerate(var.get("chain") or [], 1):
            where = (t("{label} at {place}", label=src.get("label"), place=src.get("place")) if src.get("label")
                     else src.get("place"))
            lines.append(f"| {i} | {_esc(src.get('level'), table=True)} | {_esc(where, table=True)} | "
                         f"{_span(repr(src.get('value')), table=True)} | {t('**yes**') if src.get('won') else ''} |")
    else:
        lines += [t("The Kolla configuration could not be read here, so this page shows the general order only.")]
    attempt = facts.get("attempt") or {}
    if attempt:
        setting = f"{attempt.get('var')}={attempt.get('value')}"
        lines += ["", t("Your setting {setting} at {where} ({label}) lost to {lost_to}.", setting=_span(setting),
                        where=_esc(attempt.get("where")), label=_esc(attempt.get("label")),
                        lost_to=_esc(attempt.get("lost_to")))]
    # The default as the chain above shows it (one form on the page: the value this release writes).
    default = next((src for src in var.get("chain") or [] if "group_vars/all" in str(src.get("level"))), None)
    kolla_default = (t(", e.g. {name} {value}", name=_esc(var.get("name")), value=_span(repr(default.get("value"))))
                     if default else "")
    lines += ["", t("## Ansible's order as Kolla uses it (lowest first)"), "",
              t("1. role defaults (`ansible/roles/*/defaults/main.yml`)"),
              t("2. inventory file group vars (`[compute:vars]` in the INI inventory)"),
              t("3. inventory `group_vars/all`"),
              t("4. **Kolla's playbook `group_vars/all`** (Kolla's own defaults{example})", example=kolla_default),
              t("5. inventory `group_vars/<group>` (e.g. `group_vars/compute` beside the inventory)"),
              t("6. playbook `group_vars/<group>`"),
              t("7. inventory file host vars (`compute01 neutron_external_interface=veth1` on the host line)"),
              t("8. inventory `host_vars/<host>`"),
              t("9. play/task/role vars"),
              t("10. **extra vars**: `globals.yml`, `globals.d/*.yml`, `passwords.yml`, `-e`: these always win."),
              "",
              t("So: a setting for every host goes in `globals.yml`. A per-host or per-group value goes on the host "
                "line or in inventory `group_vars/<group>` / `host_vars/<host>`, and must not also be in "
                "`globals.yml` (extra vars beat it). A `[group:vars]` entry in the INI inventory loses to any "
                "variable Kolla defines in its own `group_vars/all`, silently."),
              "",
              t("Config files are different: `/etc/kolla/config/<service>/<file>` and "
                "`/etc/kolla/config/<service>/<inventory_hostname>/<file>` are merged over Kolla's template "
                "(later wins, key by key) on the deploy host when Kolla renders the service's config.")]
    return "\n".join(lines) + "\n"


# -- scheduling -------------------------------------------------------------------------------------
def scheduling_page(ctx: ProbeContext, facts: Mapping[str, Any]) -> str:
    lines = [f"# {concept_title('scheduling')}", ""]
    services = _safe(ctx.cloud.compute_services, None)
    if services is not None:
        computes = [s for s in services if s.get("binary") == "nova-compute"]
        lines += [t("The nova-compute services of this cloud:"), "", t("| host | state | status |"), "|---|---|---|"]
        for s in computes:
            lines.append(f"| {_esc(s.get('host'), table=True)} | {_esc(s.get('state'), table=True)} | "
                         f"{_esc(s.get('status'), table=True)} |")
        if not computes:
            lines.append(t("| (none) | | |"))
        lines.append("")
    else:
        lines += [t("The compute services could not be listed here (admin only)."), ""]
    server = facts.get("server") or {}
    if server.get("fault_message"):
        lines += [t("{server} failed with: {fault}", server=_esc(server.get("name")),
                    fault=_span(server.get("fault_message"))), ""]
    lines += [t("How a build is placed:"), "",
              t("1. nova-scheduler asks **Placement** for allocation candidates: resource providers (one per "
                "compute) with enough VCPU, MEMORY_MB and DISK_GB free for the flavor. None → `No valid host was "
                "found.` and the build never reaches a compute."),
              t("2. The scheduler's filters drop hosts (disabled service, availability zone, image properties...)."),
              t("3. The chosen compute builds the VM: it asks Neutron to bind the port on itself. If that fails "
                "(PortBindingFailed), the build is **rescheduled** to an alternate host; when none is left, the "
                "server goes ERROR with `Exceeded maximum number of retries. Exhausted all hosts available for "
                "retrying build failures`. That is a compute-side failure (often networking), not a scheduling one."),
              "",
              t("Look yourself: `openstack compute service list --service nova-compute`, "
                "`openstack allocation candidate list --resource VCPU=1 --resource MEMORY_MB=512 --resource DISK_GB=1` "
                "(osc-placement plugin), `openstack server event list --long <server>`.")]
    return "\n".join(lines) + "\n"


def learn_page(ctx: ProbeContext, concept: str, facts: Mapping[str, Any] | None = None) -> str:
    facts = dict(facts or {})
    if concept == "bridges":
        return bridges_page(ctx, facts)
    if concept == "precedence":
        return precedence_page(ctx, facts)
    if concept == "scheduling":
        return scheduling_page(ctx, facts)
    if concept in ("fip-nat", "metadata"):
        try:
            from . import learn_network
        except ImportError:
            return f"# {concept_title(concept)}\n\n" + t("This page is not part of this build.") + "\n"
        return learn_network.page(ctx, concept, facts)
    known = ", ".join(CONCEPTS)
    return f"# {concept}\n\n" + t("There is no page about {concept}; the pages are: {known}.",
                                   concept=repr(concept), known=known) + "\n"
