"""What Kolla would render now for a host's ``[ovs] bridge_mappings`` (openvswitch_agent.ini.j2,
merged with the /etc/kolla/config overrides), and whether its openvswitch role would create the
bridge(s) and plug ``neutron_external_interface`` into them. Mirrors kolla-facts §1 and §2.4."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .ini import format_bridge_mappings, parse_bridge_mappings, parse_ini
from .variables import KOLLA_DEFAULT, INVENTORY_FILE_GROUP, Resolution
from ..i18n import t

if TYPE_CHECKING:
    from .model import KollaModel

OVS_AGENT_INI = "openvswitch_agent.ini"


@dataclass
class OverrideSource:
    path: str
    where: str                      # file:line of bridge_mappings in it (or the file)
    bridge_mappings: dict[str, str] | None


@dataclass
class ExpectedOvs:
    host: str
    in_network: bool
    in_compute: bool
    template_renders_mappings: bool
    computes_need_external_bridge: Resolution
    template_mappings: dict[str, str] | None      # from the .j2 alone
    bridge_mappings: dict[str, str] | None        # after overrides (what lands on the node)
    mappings_from: str                            # "template", an override's file:line, or "none"
    overrides: list[OverrideSource] = field(default_factory=list)
    bridges_created: list[str] = field(default_factory=list)
    interfaces_plugged: list[tuple[str, str]] = field(default_factory=list)   # (bridge, interface)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def bridge_mappings_text(self) -> str | None:
        return format_bridge_mappings(self.bridge_mappings) if self.bridge_mappings is not None else None


def _split(value: object) -> list[str]:
    return [part.strip() for part in str(value).split(",")] if value not in (None, "") else []


def expected_ovs(model: "KollaModel", host: str) -> ExpectedOvs:
    groups = model.groups_of(host)
    in_network, in_compute = "network" in groups, "compute" in groups
    cneb = model.resolve("computes_need_external_bridge", host)
    renders = in_network or (in_compute and cneb.as_bool())

    bridges = _split(model.resolve("neutron_bridge_name", host).value)
    if model.release.has_physical_networks_variable:
        physnets = _split(model.resolve("neutron_physical_networks", host).value)
    else:
        physnets = [f"physnet{i}" for i in range(1, len(bridges) + 1)]
    template = dict(zip(physnets, bridges)) if renders else None  # Jinja's zip stops at the shorter

    result = ExpectedOvs(host, in_network, in_compute, renders, cneb, template, template,
                         "template" if renders else "none")
    _apply_overrides(model, host, result)

    if renders:
        interfaces = _split(model.resolve("neutron_external_interface", host).value)
        result.bridges_created = list(bridges)
        result.interfaces_plugged = list(zip(bridges, interfaces))
        if len(interfaces) != len(bridges):
            result.warnings.append(
                f"{host}: neutron_external_interface has {len(interfaces)} entries but neutron_bridge_name has "
                f"{len(bridges)}; Kolla pairs them in order and drops the extras")
        _single_nic_warning(model, host, interfaces, result)
    if result.bridge_mappings:
        missing = [b for b in result.bridge_mappings.values() if b not in result.bridges_created]
        if missing and result.mappings_from != "template":
            result.warnings.append(
                f"{host}: the override at {result.mappings_from} maps to {', '.join(missing)}, but Kolla's "
                "openvswitch role will not create that bridge on this host; the OVS agent exits with "
                "'Bridge ... does not exist. Agent terminated!' unless it already exists")
    result.reason = _reason(model, host, result)
    return result


def _apply_overrides(model: "KollaModel", host: str, result: ExpectedOvs) -> None:
    # merge_configs: template, then config/neutron/openvswitch_agent.ini, then the per-host file;
    # later sources win key by key.
    for relative in (f"neutron/{OVS_AGENT_INI}", f"neutron/{host}/{OVS_AGENT_INI}"):
        found = model.read_override(relative)
        if found is None:
            continue
        path, text = found
        try:
            parsed = parse_ini(text, path)
        except ConfigError as problem:
            model.problems.append(problem)
            continue
        value = parsed.get("ovs", "bridge_mappings")
        if value is None:
            result.overrides.append(OverrideSource(path, path, None))
            continue
        try:
            mappings = parse_bridge_mappings(value.value, value.where)
        except ConfigError as problem:
            model.problems.append(problem)
            continue
        result.overrides.append(OverrideSource(path, value.where, mappings))
        result.bridge_mappings = mappings
        result.mappings_from = value.where


def _single_nic_warning(model: "KollaModel", host: str, interfaces: list[str], result: ExpectedOvs) -> None:
    management = {
        name: model.resolve(name, host).value for name in ("network_interface", "api_interface")
    }
    for interface in interfaces:
        clashes = [name for name, value in management.items() if value == interface]
        if clashes:
            result.warnings.append(
                f"{host}: neutron_external_interface {interface} is also {' and '.join(clashes)}; Kolla would "
                f"plug it into the OVS bridge and the host loses its IP path (the single-NIC trap). Use a "
                "spare NIC or a veth pair from a Linux bridge instead")


def _reason(model: "KollaModel", host: str, result: ExpectedOvs) -> str:
    if result.in_network:
        base = t("{host} is in [network], so Kolla always renders bridge_mappings there", host=host)
    elif result.in_compute and result.template_renders_mappings:
        base = t("{host} is in [compute] and computes_need_external_bridge is True ({because})", host=host,
                 because=_because(result.computes_need_external_bridge))
    elif result.in_compute:
        base = t("{host} is in [compute] but not [network], and computes_need_external_bridge is False "
                 "because {because}", host=host, because=_because(result.computes_need_external_bridge))
    else:
        base = t("{host} is in neither [network] nor [compute], so Kolla renders no bridge_mappings there", host=host)
    if result.template_mappings is not None:
        base += t("; the template gives {mappings}",
                  mappings=format_bridge_mappings(result.template_mappings) or t("(empty)"))
    if result.mappings_from not in ("template", "none"):
        base += t("; the override at {where} sets {mappings}", where=result.mappings_from,
                  mappings=result.bridge_mappings_text)
    if result.bridge_mappings is None and (result.in_compute or result.in_network):
        base += t("; so its OVS agent reports no bridge mappings and flat/VLAN ports cannot bind there")
    return base


def _because(cneb: Resolution) -> str:
    """Why computes_need_external_bridge has its value, following Kolla's expression."""
    winner = cneb.winner
    if winner is None:
        return t("it is not set")
    if winner.level != KOLLA_DEFAULT:
        return t("it is set at {place}", place=winner.place)
    if not cneb.as_bool():
        # All three flags are off; the one an operator means to flip is provider networks.
        provider = cneb.depends.get("enable_neutron_provider_networks")
        return _dependency_words("enable_neutron_provider_networks", provider) if provider else \
            t("of Kolla's expression")
    parts = [_dependency_words(name, dep) for name, dep in cneb.depends.items()
             if name != "neutron_compute_dvr_mode" and dep.as_bool()]
    return "; ".join(parts) if parts else t("of Kolla's expression")


def _dependency_words(label: str, dependency: Resolution) -> str:
    state = "true" if dependency.as_bool() else "false"
    winner = dependency.winner
    if winner is None:
        return t("{name} is not set", name=label)
    where = (t("Kolla default in group_vars/all") if winner.level == KOLLA_DEFAULT
             else t("{label} at {place}", label=winner.label, place=winner.place) if winner.label else winner.place)
    text = t("{name} is {state} ({where})", name=label, state=state, where=where)
    losers = [s for s in dependency.sources if not s.won and s.level == INVENTORY_FILE_GROUP]
    for loser in losers:
        text += t("; the {label} entry at {place} loses to it", label=loser.label, place=loser.place)
    return text
