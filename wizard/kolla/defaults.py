"""Kolla's own defaults for the variables the wizard reasons about, and how to evaluate the few
Jinja expressions among them with small Python functions that mirror Kolla's templates (no Jinja
engine, no eval). Used when kolla-ansible is not installed on the deploy host, and to evaluate the
expressions when it is (the installed file is then cited, not this table)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .release import Release
from ..i18n import t

TRUE_WORDS = {"yes", "true", "1", "on", "y", "t"}

Lookup = Callable[[str], Any]  # resolve another variable for the same host


def ansible_bool(value: Any) -> bool:
    """Ansible's ``| bool``: "yes", "true", "1", "on" (any case) are True; everything else False."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in TRUE_WORDS


def _bridge_name(lookup: Lookup, release: Release) -> str:
    if release <= Release(2025, 1) and lookup("neutron_plugin_agent") == "vmware_dvs":
        return "br-dvs"
    return "br_dpdk" if ansible_bool(lookup("enable_ovs_dpdk")) else "br-ex"


def _physical_networks(lookup: Lookup, release: Release) -> str:
    bridges = str(lookup("neutron_bridge_name")).split(",")
    return ",".join(f"physnet{index}" for index in range(1, len(bridges) + 1))


def computes_need_external_bridge(lookup: Lookup, release: Release) -> bool:
    return bool(
        (ansible_bool(lookup("enable_neutron_dvr")) and lookup("neutron_compute_dvr_mode") == "dvr")
        or ansible_bool(lookup("enable_neutron_provider_networks"))
        or ansible_bool(lookup("neutron_ovn_distributed_fip"))
    )


@dataclass(frozen=True)
class KollaDefault:
    name: str
    # What Kolla writes (shown to the operator), and either a plain value or a function.
    expression: str
    value: Any = None
    evaluate: Callable[[Lookup, Release], Any] | None = None
    # Which file under ansible/group_vars/ holds it from 2025.2 on (all.yml before).
    split_file: str = "common.yml"
    since: Release | None = None
    # Variables the expression reads, so "why" can follow them.
    depends_on: tuple[str, ...] = ()
    # A role default (ansible/roles/<role>/defaults/main.yml), not group_vars/all: the lowest
    # precedence, so even an inventory [group:vars] entry beats it.
    role: str | None = None

    def place(self, release: Release) -> str:
        if self.role:
            return t("kolla-ansible {release} ansible/roles/{role}/defaults/main.yml (built-in table)", release=release, role=self.role)
        path = f"all/{self.split_file}" if release.splits_group_vars_all else "all.yml"
        return t("kolla-ansible {release} ansible/group_vars/{path} (built-in table)", release=release, path=path)


def _old_false(release: Release) -> Any:
    # Up to 2025.2 the booleans are the strings "no" (stable/2025.2 group_vars/all/neutron.yml);
    # YAML false from 2026.1 on. Same meaning under | bool.
    return "no" if release <= Release(2025, 2) else False


BUILTIN_DEFAULTS: dict[str, KollaDefault] = {d.name: d for d in [
    KollaDefault("enable_neutron_dvr", "false", evaluate=lambda _l, r: _old_false(r), split_file="neutron.yml"),
    KollaDefault("enable_neutron_provider_networks", "false", evaluate=lambda _l, r: _old_false(r),
                 split_file="neutron.yml"),
    KollaDefault("neutron_compute_dvr_mode", '"dvr"', "dvr", split_file="neutron.yml"),
    KollaDefault("neutron_ovn_distributed_fip", "false", evaluate=lambda _l, r: _old_false(r), split_file="neutron.yml"),
    KollaDefault("neutron_plugin_agent", '"openvswitch"', "openvswitch", split_file="neutron.yml"),
    KollaDefault("neutron_external_interface", '"eth1"', "eth1", split_file="neutron.yml"),
    KollaDefault("enable_ovs_dpdk", "false", evaluate=lambda _l, r: _old_false(r), split_file="openvswitch.yml"),
    KollaDefault("neutron_bridge_name",
                 "\"{{ 'br_dpdk' if enable_ovs_dpdk | bool else 'br-ex' }}\"",
                 evaluate=_bridge_name, split_file="neutron.yml",
                 depends_on=("enable_ovs_dpdk", "neutron_plugin_agent")),
    KollaDefault("neutron_physical_networks",
                 "\"{% for bridge in neutron_bridge_name.split(',') %}physnet{{ loop.index }}...{% endfor %}\"",
                 evaluate=_physical_networks, split_file="neutron.yml", since=Release(2024, 2),
                 depends_on=("neutron_bridge_name",)),
    KollaDefault("computes_need_external_bridge",
                 "{{ (enable_neutron_dvr | bool and neutron_compute_dvr_mode == 'dvr') or "
                 "enable_neutron_provider_networks | bool or neutron_ovn_distributed_fip | bool }}",
                 evaluate=computes_need_external_bridge, split_file="neutron.yml",
                 depends_on=("enable_neutron_dvr", "neutron_compute_dvr_mode",
                             "enable_neutron_provider_networks", "neutron_ovn_distributed_fip")),
    KollaDefault("kolla_container_engine", '"docker"', "docker"),
    KollaDefault("network_interface", '"eth0"', "eth0"),
    KollaDefault("api_interface", '"{{ network_interface }}"', evaluate=lambda l, _r: l("network_interface"),
                 depends_on=("network_interface",)),
    KollaDefault("tunnel_interface", '"{{ network_interface }}"', evaluate=lambda l, _r: l("network_interface"),
                 split_file="openvswitch.yml", depends_on=("network_interface",)),
    KollaDefault("enable_openvswitch", '"{{ enable_neutron | bool }}"', evaluate=lambda l, _r: ansible_bool(l("enable_neutron")),
                 split_file="openvswitch.yml", depends_on=("enable_neutron",)),
    KollaDefault("enable_neutron", '"{{ enable_openstack_core | bool }}"', True),
    KollaDefault("neutron_agents_wrappers", '"yes" (2025.2+), "no" (2025.1)',
                 evaluate=lambda _l, r: "yes" if r >= Release(2025, 2) else "no",
                 split_file="neutron.yml", since=Release(2025, 1), role="neutron"),
    KollaDefault("migration_interface", '"{{ api_interface }}"', evaluate=lambda l, _r: l("api_interface"),
                 split_file="nova.yml", depends_on=("api_interface",)),
    KollaDefault("dns_interface", '"{{ network_interface }}"', evaluate=lambda l, _r: l("network_interface"),
                 split_file="designate.yml", depends_on=("network_interface",)),
]}


def builtin_default(name: str, release: Release) -> KollaDefault | None:
    default = BUILTIN_DEFAULTS.get(name)
    if default is None or (default.since is not None and release < default.since):
        return None
    return default
