"""Variable precedence, with the reasons the wizard gives (kolla-facts §2.3)."""
from __future__ import annotations

from pathlib import Path

import yaml

from wizard.kolla import DictReader, KollaModel
from wizard.kolla.variables import EXTRA_VARS, INVENTORY_FILE_GROUP, INVENTORY_GROUP_VARS, KOLLA_DEFAULT

MULTINODE = """\
[control]
controller

[network]
controller

[compute]
compute01
compute02 neutron_external_interface=eth7

[compute:vars]
enable_neutron_provider_networks=yes
neutron_external_interface=eth5

[baremetal:children]
control
network
compute
"""


def model_with(files: dict[str, str], **kwargs) -> KollaModel:
    base = {"/etc/kolla/globals.yml": "---\nopenstack_release: \"2024.2\"\n", "/etc/kolla/multinode": MULTINODE}
    base.update(files)
    return KollaModel.load(DictReader(base), **kwargs)


def test_compute_vars_lose_to_kolla_group_vars_all():
    model = model_with({})
    resolution = model.resolve("enable_neutron_provider_networks", "compute01")
    assert resolution.as_bool() is False
    assert [s.level for s in resolution.sources] == [INVENTORY_FILE_GROUP, KOLLA_DEFAULT]
    assert resolution.winner.level == KOLLA_DEFAULT
    loser = resolution.sources[0]
    assert (loser.label, loser.place, loser.won) == ("[compute:vars]", "/etc/kolla/multinode:12", False)
    why = resolution.explain()
    assert "Kolla's default at kolla-ansible 2024.2 ansible/group_vars/all.yml" in why and "[compute:vars] at /etc/kolla/multinode:12 ('yes') loses to it" in why
    assert model.resolve("neutron_external_interface", "compute01").value == "eth1"


def test_globals_beat_inventory_host_var():
    model = model_with({"/etc/kolla/globals.yml": "openstack_release: '2024.2'\nneutron_external_interface: veth1\n"})
    resolution = model.resolve("neutron_external_interface", "compute02")
    assert resolution.value == "veth1"
    assert resolution.winner.level == EXTRA_VARS and resolution.winner.place == "/etc/kolla/globals.yml:2"
    assert [s.value for s in resolution.sources] == ["eth5", "eth1", "eth7", "veth1"]
    # Without it in globals, the host line wins over Kolla's default and [compute:vars].
    assert model_with({}).resolve("neutron_external_interface", "compute02").value == "eth7"


def test_inventory_group_vars_file_beats_kolla_default():
    model = model_with({"/etc/kolla/group_vars/compute.yml": "---\nenable_neutron_provider_networks: true\n"})
    resolution = model.resolve("enable_neutron_provider_networks", "compute01")
    assert resolution.as_bool() is True
    assert resolution.winner.level == INVENTORY_GROUP_VARS
    assert resolution.winner.place == "/etc/kolla/group_vars/compute.yml:2"
    # and that flips Kolla's expression for computes
    assert model.resolve("computes_need_external_bridge", "compute01").value is True
    assert model.resolve("computes_need_external_bridge", "controller").value is False


def test_inventory_group_vars_all_loses_to_kolla_default():
    model = model_with({"/etc/kolla/group_vars/all/net.yml": "neutron_external_interface: eth3\n"})
    resolution = model.resolve("neutron_external_interface", "controller")
    assert resolution.value == "eth1" and resolution.winner.level == KOLLA_DEFAULT


def test_host_vars_dir_beats_group_vars():
    model = model_with({
        "/etc/kolla/group_vars/compute": "neutron_external_interface: eth3\n",
        "/etc/kolla/host_vars/compute01.yml": "neutron_external_interface: eth4\n",
    })
    assert model.resolve("neutron_external_interface", "compute01").value == "eth4"
    # compute02's host-line var (inventory file host var) outranks inventory group_vars/compute.
    assert model.resolve("neutron_external_interface", "compute02").value == "eth7"
    assert model.resolve("neutron_external_interface", "controller").value == "eth1"


def test_globals_d_order_old_and_new_cli():
    files = {
        "/etc/kolla/globals.yml": "openstack_release: '{release}'\nkolla_container_engine: docker\n",
        "/etc/kolla/globals.d/20-engine.yml": "kolla_container_engine: podman\n",
        "/etc/kolla/passwords.yml": "kolla_container_engine: from-passwords\ndatabase_password: s3cret\n",
    }
    new = model_with({k: v.format(release="2024.2") for k, v in files.items()})
    old = model_with({k: v.format(release="2024.1") for k, v in files.items()})
    # New CLI: globals.yml < passwords.yml < globals.d
    assert new.resolve("kolla_container_engine", "compute01").winner.label == "globals.d/20-engine.yml"
    assert new.container_engine("compute01") == "podman"
    # Old CLI: globals.yml < globals.d < passwords.yml
    assert old.resolve("kolla_container_engine", "compute01").winner.label == "passwords.yml"


def test_passwords_never_exposed():
    model = model_with({"/etc/kolla/passwords.yml": "database_password: s3cret-value\n"})
    resolution = model.resolve("database_password", "controller")
    assert resolution.secret
    assert "s3cret-value" not in repr(resolution) and "s3cret-value" not in resolution.explain()
    assert resolution.winner.place == "/etc/kolla/passwords.yml:1"


def test_broken_globals_yaml_is_one_line_and_model_continues():
    model = model_with({"/etc/kolla/globals.yml": "a: 1\nb: [unclosed\nc: 3\n"})
    assert len(model.problems) == 1
    line = model.problems[0].one_line()
    assert line.startswith("/etc/kolla/globals.yml:")
    assert "YAML syntax error" in line
    assert model.hosts == ["controller", "compute01", "compute02"]
    assert model.resolve("neutron_external_interface", "compute01").value == "eth1"


def test_broken_inventory_line_reported_rest_parsed():
    model = model_with({"/etc/kolla/multinode": "[compute]\ncompute01\n[compute:bogus]\nx\n[network]\nnet01\n"})
    assert [p.where for p in model.problems] == ["/etc/kolla/multinode:3"]
    assert "unknown section kind" in model.problems[0].one_line()
    assert "net01" in model.hosts


def test_missing_inventory_and_globals_reported():
    model = KollaModel.load(DictReader({}))
    wheres = [p.where for p in model.problems]
    assert "/etc/kolla/globals.yml" in wheres and "/etc/kolla/multinode" in wheres
    assert model.hosts == []


def test_installed_kolla_defaults_are_read_and_cited():
    share = "/opt/venv/share/kolla-ansible/ansible"
    model = model_with({
        f"{share}/group_vars/all/neutron.yml": (
            "enable_neutron_provider_networks: false\n"
            "neutron_external_interface: \"eth9\"\n"
            "computes_need_external_bridge: >-\n  {{ enable_neutron_provider_networks | bool }}\n"),
    }, kolla_ansible_prefix="/opt/venv")
    resolution = model.resolve("neutron_external_interface", "compute01")
    assert resolution.value == "eth9"
    assert resolution.winner.place == f"{share}/group_vars/all/neutron.yml:2"
    assert "/opt/venv/share/kolla-ansible" in model.defaults_source
    builtin = model_with({})
    assert "built-in table" in builtin.defaults_source
    assert "built-in table" in builtin.resolve("neutron_external_interface", "compute01").winner.place


def test_simple_jinja_reference_in_globals_is_followed():
    model = model_with({"/etc/kolla/globals.yml": (
        "openstack_release: '2024.2'\nnetwork_interface: enp1s0\n"
        "neutron_external_interface: \"{{ network_interface }}\"\n"
        "kolla_internal_vip_address: \"{{ 'a' ~ 'b' }}\"\n")})
    assert model.resolve("neutron_external_interface", "compute01").value == "enp1s0"
    assert model.resolve("api_interface", "compute01").value == "enp1s0"  # Kolla's own default follows too
    tricky = model.resolve("kolla_internal_vip_address", "compute01")
    assert not tricky.evaluated and "does not evaluate" in tricky.explain()


def test_group_var_depth_child_beats_parent():
    inventory = "[compute]\nc1\n[baremetal:children]\ncompute\n[baremetal:vars]\nfoo=parent\n[compute:vars]\nfoo=child\n[all:vars]\nfoo=all\n"
    model = model_with({"/etc/kolla/multinode": inventory})
    resolution = model.resolve("foo", "c1")
    assert resolution.value == "child"
    assert [s.label for s in resolution.sources] == ["[all:vars]", "[baremetal:vars]", "[compute:vars]"]


def test_seed_homelab_scenario_files():
    """The shipped lab scenario's deploy-host files, read as plain data (the wizard never imports the lab)."""
    scenario = Path(__file__).resolve().parents[2] / "kolla_lab/scenarios/seed-homelab.yaml"
    files = yaml.safe_load(scenario.read_text())["nodes"]["deploy"]["files"]
    model = KollaModel.load(DictReader(files))
    assert model.problems == []
    assert str(model.release) == "2024.2"
    controller, compute = model.expected_ovs("controller"), model.expected_ovs("compute01")
    assert controller.bridge_mappings == {"physnet1": "br-ex"}
    assert compute.bridge_mappings is None
    assert "enable_neutron_provider_networks is false (Kolla default in group_vars/all)" in compute.reason
    assert "[compute:vars] entry at /etc/kolla/multinode:" in compute.reason


def test_yaml_inventory_through_the_model_and_connection_vars():
    model = KollaModel.load(DictReader({
        "/etc/kolla/globals.yml": "openstack_release: '2025.2'\n",
        "/srv/inv/hosts.yml": ("all:\n  children:\n    network:\n      hosts:\n        net01:\n"
                               "          ansible_host: 127.0.0.1\n          ansible_become: yes\n"
                               "    compute:\n      hosts:\n        cmp01:\n      vars:\n"
                               "        enable_neutron_provider_networks: yes\n"),
        "/srv/inv/host_vars/cmp01/net.yml": "ansible_user: kolla\n",
    }), inventory_path="/srv/inv/hosts.yml")
    assert model.problems == []
    assert model.connection_vars("net01") == {"ansible_host": "127.0.0.1", "ansible_become": True}
    assert model.connection_vars("cmp01") == {"ansible_user": "kolla"}
    # A YAML inventory's group vars are inventory-file group vars too: Kolla's default still wins.
    assert model.resolve("enable_neutron_provider_networks", "cmp01").as_bool() is False
    assert "ansible/group_vars/all/neutron.yml" in model.resolve("enable_neutron_provider_networks", "cmp01").winner.place


def test_stable_2025_2_still_has_no_strings_false_only_from_2026_1():
    # stable/2025.2 ansible/group_vars/all/neutron.yml: enable_neutron_provider_networks: "no";
    # stable/2026.1: false.
    for release, expected in (("2025.1", "no"), ("2025.2", "no"), ("2026.1", False)):
        model = model_with({"/etc/kolla/globals.yml": f"openstack_release: '{release}'\n"})
        resolution = model.resolve("enable_neutron_provider_networks", "compute01")
        assert resolution.value == expected, release
        assert resolution.as_bool() is False
        assert model.resolve("enable_ovs_dpdk", "compute01").value == expected, release


def test_neutron_agents_wrappers_is_a_role_default_an_inventory_group_var_beats():
    inventory = MULTINODE + "\n[network:vars]\nneutron_agents_wrappers=no\n"
    model = model_with({"/etc/kolla/globals.yml": "openstack_release: '2025.2'\n", "/etc/kolla/multinode": inventory})
    resolution = model.resolve("neutron_agents_wrappers", "controller")
    assert resolution.value == "no" and resolution.winner.label == "[network:vars]"
    assert resolution.sources[0].level == "role default"
    assert "ansible/roles/neutron/defaults/main.yml" in resolution.sources[0].place
    # Elsewhere the role default stands: "yes" from 2025.2.
    assert model.resolve("neutron_agents_wrappers", "compute01").value == "yes"
