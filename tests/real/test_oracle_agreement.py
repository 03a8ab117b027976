"""The built-in Kolla model and kolla-ansible's own templates agree on every host's bridge_mappings.

Configurations are generated (seeded, so a failure reproduces) over the dimensions that decide the
``[ovs] bridge_mappings`` line: the globals flags (enable_neutron_provider_networks, enable_neutron_dvr
with neutron_compute_dvr_mode, computes_need_external_bridge), neutron_bridge_name with one or two
bridges, neutron_physical_networks, group membership, inventory host vars, inventory
group_vars/compute and host_vars, INI ``[compute:vars]`` (which loses to Kolla's group_vars/all),
and the global and per-host /etc/kolla/config/neutron overrides. Each configuration is rendered by
kolla-ansible 22.x (2024.2+ naming: neutron_physical_networks) and by kolla-ansible 18.x (2024.1:
physnetN hard-coded), one ansible run per configuration rendering all its hosts, two runs at a time.
The built-in model reads the same files through a DictReader with Kolla's built-in defaults table
(not kolla-ansible's group_vars): two independent readings."""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from wizard.kolla import DictReader, KollaModel
from wizard.kolla.oracle import find_kolla_ansible, oracle_expected_bridge_mappings

from .conftest import venv_or_skip

# One ansible run per configuration (3 to 4 s on an idle 2-core machine), two at a time.
pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

COMPUTES = ["compute01", "compute02", "compute03"]


@dataclass
class Config:
    name: str
    globals: dict
    groups: dict[str, list[str]]
    host_line_vars: dict[str, dict[str, str]] = field(default_factory=dict)
    compute_ini_vars: dict[str, str] = field(default_factory=dict)
    group_vars_compute: dict = field(default_factory=dict)
    host_vars: dict[str, dict] = field(default_factory=dict)
    global_override: str | None = None
    host_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> list[str]:
        return sorted({h for members in self.groups.values() for h in members})

    def inventory_text(self) -> str:
        lines: list[str] = []
        for group, members in self.groups.items():
            lines.append(f"[{group}]")
            for host in members:
                extra = " ".join(f"{k}={v}" for k, v in self.host_line_vars.get(host, {}).items()) \
                    if group == "compute" else ""
                lines.append(f"{host} {extra}".rstrip())
            lines.append("")
        if self.compute_ini_vars:
            lines.append("[compute:vars]")
            lines += [f"{k}={v}" for k, v in self.compute_ini_vars.items()]
            lines.append("")
        lines += ["[deployment]", "localhost ansible_connection=local", "",
                  "[baremetal:children]", "control", "network", "compute", ""]
        return "\n".join(lines)

    def files(self, root: Path) -> dict[Path, str]:
        files = {root / "globals.yml": yaml.safe_dump(self.globals or {"kolla_base_distro": "rocky"}),
                 root / "multinode": self.inventory_text()}
        if self.group_vars_compute:
            files[root / "group_vars" / "compute.yml"] = yaml.safe_dump(self.group_vars_compute)
        for host, values in self.host_vars.items():
            files[root / "host_vars" / f"{host}.yml"] = yaml.safe_dump(values)
        if self.global_override is not None:
            files[root / "config/neutron/openvswitch_agent.ini"] = self.global_override
        for host, text in self.host_overrides.items():
            files[root / f"config/neutron/{host}/openvswitch_agent.ini"] = text
        return files


FLAG_VALUES = [None, True, False, "yes", "no"]


def _maybe(rng: random.Random, values: list):
    return rng.choice(values)


def generate(seed: int, count: int) -> list[Config]:
    rng = random.Random(seed)
    configs: list[Config] = []
    for index in range(count):
        g: dict = {"kolla_base_distro": "rocky", "network_interface": "eth0"}
        for flag in ("enable_neutron_provider_networks", "enable_neutron_dvr"):
            value = _maybe(rng, FLAG_VALUES)
            if value is not None:
                g[flag] = value
        if rng.random() < 0.3:
            g["neutron_compute_dvr_mode"] = rng.choice(["dvr", "dvr_no_external"])
        if rng.random() < 0.2:
            g["computes_need_external_bridge"] = rng.choice([True, False, "yes"])
        two = rng.random() < 0.4
        if two:
            g["neutron_bridge_name"] = "br-ex,br-vlan"
            g["neutron_external_interface"] = "eth1,eth2"
        elif rng.random() < 0.2:
            g["neutron_bridge_name"] = "br-provider"
        if rng.random() < 0.4:
            g["neutron_physical_networks"] = "datacentre,vlannet" if two else "provider"

        controller_in_network = rng.random() < 0.6
        groups = {"control": ["control01"],
                  "network": ["control01"] if controller_in_network else ["network01"],
                  "compute": list(COMPUTES)}
        if rng.random() < 0.3:
            groups["network"].append("compute03")          # a converged node: network + compute
        config = Config(f"gen{seed}-{index}", g, groups)

        # Per-host and per-group settings that lose or win against Kolla's group_vars/all.
        if rng.random() < 0.5:
            config.compute_ini_vars["enable_neutron_provider_networks"] = "yes"     # always loses
        if rng.random() < 0.4:
            config.group_vars_compute["enable_neutron_provider_networks"] = rng.choice([True, "yes", False])
        if rng.random() < 0.4:
            config.host_line_vars["compute02"] = {"enable_neutron_provider_networks": rng.choice(["yes", "true", "no"])}
        if rng.random() < 0.3:
            config.host_line_vars.setdefault("compute01", {})["computes_need_external_bridge"] = "true"
        if rng.random() < 0.3:
            config.host_vars["compute03"] = {"neutron_bridge_name": "br-ex,br-vlan",
                                             "neutron_external_interface": "eth1,eth2"}
        if rng.random() < 0.3:
            config.global_override = rng.choice([
                "[ovs]\nbridge_mappings = physnet1:br-ex\n",
                "[agent]\nl2_population = false\n",
                "[ovs]\nbridge_mappings = physnet1:br-ex,physnet2:br-vlan\n",
            ])
        if rng.random() < 0.5:
            host = rng.choice(COMPUTES)
            config.host_overrides[host] = rng.choice([
                "[ovs]\nbridge_mappings = physnet1:br-ex\n",
                "[ovs]\nbridge_mappings = provider:br-provider\n",
                "[ovs]\nbridge_mappings =\n",
                "[ovs]\ndatapath_type = netdev\n",
            ])
        configs.append(config)
    return configs


HAND_WRITTEN = [
    # The seed outage: default globals, computes without bridge_mappings.
    Config("seed-defaults", {"kolla_base_distro": "rocky"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES}),
    # The fix.
    Config("provider-networks", {"enable_neutron_provider_networks": "yes"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES}),
    # [compute:vars] loses to group_vars/all; inventory group_vars/compute wins.
    Config("compute-vars-lose", {"kolla_base_distro": "rocky"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES},
           compute_ini_vars={"enable_neutron_provider_networks": "yes"}),
    Config("group-vars-compute-win", {"kolla_base_distro": "rocky"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES},
           group_vars_compute={"enable_neutron_provider_networks": True}),
    # DVR in dvr_no_external mode does not need the external bridge; dvr does.
    Config("dvr-no-external", {"enable_neutron_dvr": "yes", "neutron_compute_dvr_mode": "dvr_no_external"},
           {"control": ["control01"], "network": ["network01"], "compute": COMPUTES}),
    Config("dvr", {"enable_neutron_dvr": True},
           {"control": ["control01"], "network": ["network01"], "compute": COMPUTES}),
    # Two bridges, custom physnet names, a per-host override on one compute.
    Config("two-bridges", {"enable_neutron_provider_networks": True, "neutron_bridge_name": "br-ex,br-vlan",
                           "neutron_external_interface": "eth1,eth2",
                           "neutron_physical_networks": "physnet1,vlanphys"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES},
           host_overrides={"compute02": "[ovs]\nbridge_mappings = physnet1:br-ex\n"}),
    # A host var that globals.yml overrides (extra vars always win).
    Config("globals-beat-host-var", {"enable_neutron_provider_networks": "no"},
           {"control": ["control01"], "network": ["control01"], "compute": COMPUTES},
           host_line_vars={"compute01": {"enable_neutron_provider_networks": "yes"}}),
]


def _model_mappings(config: Config, root: Path, release: str) -> dict[str, dict[str, str]]:
    reader = DictReader({str(path): text for path, text in config.files(root).items()})
    model = KollaModel.load(reader, str(root), str(root / "multinode"), release=release)
    assert not model.problems, [p.one_line() for p in model.problems]
    return {host: dict(model.expected_ovs(host).bridge_mappings or {}) for host in config.hosts}


def _write(config: Config, root: Path) -> None:
    for path, text in config.files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _check_agreement(configs: list[Config], tmp_path: Path, prefix: Path, release: str) -> None:
    def oracle(config: Config):
        root = tmp_path / config.name
        _write(config, root)
        return oracle_expected_bridge_mappings(root, root / "multinode", config.hosts, kolla_ansible_prefix=prefix)

    with ThreadPoolExecutor(max_workers=2) as pool:
        rendered = list(pool.map(oracle, configs))
    disagreements = []
    for config, kolla in zip(configs, rendered):
        assert kolla is not None
        model = _model_mappings(config, tmp_path / config.name, release)
        for host in config.hosts:
            if model[host] != kolla[host]:
                disagreements.append(f"{config.name} {host}: built-in {model[host]} vs Kolla {kolla[host]}\n"
                                     f"  {config}")
    assert not disagreements, "\n".join(disagreements)


def test_oracle_is_found_and_renders_the_seed_outage(tmp_path):
    prefix = venv_or_skip("kolla")
    kolla = find_kolla_ansible(prefix)
    assert kolla is not None and kolla.release is not None and str(kolla.release) >= "2024.2"
    config = HAND_WRITTEN[0]
    _write(config, tmp_path)
    result = oracle_expected_bridge_mappings(tmp_path, tmp_path / "multinode", config.hosts,
                                             kolla_ansible_prefix=prefix)
    assert result == {"control01": {"physnet1": "br-ex"}, "compute01": {}, "compute02": {}, "compute03": {}}


def test_oracle_absent_gives_none(tmp_path):
    assert oracle_expected_bridge_mappings(tmp_path, tmp_path / "multinode", ["x"],
                                           kolla_ansible_prefix=tmp_path) is None


def test_oracle_reports_a_broken_inventory_in_one_line(tmp_path):
    from wizard.kolla.oracle import OracleFailed
    prefix = venv_or_skip("kolla")
    (tmp_path / "globals.yml").write_text("enable_neutron_provider_networks: yes\n")
    (tmp_path / "multinode").write_text("[compute]\ncompute01\n")
    with pytest.raises(OracleFailed) as failure:
        oracle_expected_bridge_mappings(tmp_path, tmp_path / "multinode", ["compute01", "ghost"],
                                        kolla_ansible_prefix=prefix)
    message = failure.value.one_line()
    assert "\n" not in message and message.startswith("kolla-ansible oracle:")


def test_builtin_model_agrees_with_kolla_2024_2_plus(tmp_path):
    prefix = venv_or_skip("kolla")
    release = str(find_kolla_ansible(prefix).release)
    _check_agreement(HAND_WRITTEN + generate(seed=2024_2, count=6), tmp_path, prefix, release)


def test_builtin_model_agrees_with_kolla_2024_1(tmp_path):
    prefix = venv_or_skip("kolla-2024.1")
    assert str(find_kolla_ansible(prefix).release) == "2024.1"
    _check_agreement(HAND_WRITTEN[:2] + HAND_WRITTEN[6:7] + generate(seed=2024_1, count=3), tmp_path, prefix,
                     "2024.1")
