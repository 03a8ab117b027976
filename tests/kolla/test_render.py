"""What Kolla would render for [ovs] bridge_mappings, and whether it creates br-ex (kolla-facts §1)."""
from __future__ import annotations

import shlex

from wizard.kolla import DictReader, KollaModel, reconfigure_argv
from wizard.kolla.release import Release

MULTINODE = """\
[control]
controller
[network]
controller
[compute]
compute01
compute02
[compute:vars]
enable_neutron_provider_networks=yes
"""


def load(globals_text: str = "", extra: dict[str, str] | None = None, release: str = "2024.2") -> KollaModel:
    files = {"/etc/kolla/globals.yml": f"openstack_release: '{release}'\n{globals_text}",
             "/etc/kolla/multinode": MULTINODE}
    files.update(extra or {})
    return KollaModel.load(DictReader(files))


def test_network_always_compute_only_with_provider_networks():
    model = load()
    assert model.expected_ovs("controller").bridge_mappings == {"physnet1": "br-ex"}
    compute = model.expected_ovs("compute01")
    assert compute.bridge_mappings is None and compute.bridges_created == []
    assert "computes_need_external_bridge is False because enable_neutron_provider_networks is false" in compute.reason
    assert "[compute:vars] entry at /etc/kolla/multinode:9 loses to it" in compute.reason

    fixed = load("enable_neutron_provider_networks: true\nneutron_external_interface: veth1\n")
    compute = fixed.expected_ovs("compute01")
    assert compute.bridge_mappings == {"physnet1": "br-ex"}
    assert compute.bridges_created == ["br-ex"] and compute.interfaces_plugged == [("br-ex", "veth1")]
    assert "enable_neutron_provider_networks is true (globals.yml at /etc/kolla/globals.yml:2)" in compute.reason


def test_dvr_also_gives_computes_the_bridge_unless_dvr_no_external():
    assert load("enable_neutron_dvr: yes\n").expected_ovs("compute01").bridge_mappings == {"physnet1": "br-ex"}
    no_ext = load("enable_neutron_dvr: yes\nneutron_compute_dvr_mode: dvr_no_external\n")
    assert no_ext.expected_ovs("compute01").bridge_mappings is None


def test_physnet_naming_2024_1_vs_2024_2():
    two_bridges = "neutron_bridge_name: br-ex,br-vlan\nneutron_external_interface: eth1,eth2\n"
    custom = two_bridges + "neutron_physical_networks: public,tenant\n"
    old = load(custom, release="2024.1")
    # 2024.1 hard-codes physnetN and has no neutron_physical_networks
    assert old.expected_ovs("controller").bridge_mappings == {"physnet1": "br-ex", "physnet2": "br-vlan"}
    new = load(custom, release="2024.2")
    assert new.expected_ovs("controller").bridge_mappings == {"public": "br-ex", "tenant": "br-vlan"}
    default_names = load(two_bridges, release="2025.2")
    assert default_names.expected_ovs("controller").bridge_mappings == {"physnet1": "br-ex", "physnet2": "br-vlan"}
    assert load("enable_ovs_dpdk: yes\n").expected_ovs("controller").bridge_mappings == {"physnet1": "br_dpdk"}


def test_per_host_override_wins_over_global_override_and_template():
    model = load(extra={
        "/etc/kolla/config/neutron/openvswitch_agent.ini": "[ovs]\nbridge_mappings = physnet1:br-global\n",
        "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini":
            "# hand-made mapping\n[ovs]\nbridge_mappings = physnet1:br-ex\n",
    })
    compute01 = model.expected_ovs("compute01")
    assert compute01.bridge_mappings == {"physnet1": "br-ex"}
    assert compute01.mappings_from == "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini:3"
    assert [o.path for o in compute01.overrides] == [
        "/etc/kolla/config/neutron/openvswitch_agent.ini",
        "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini"]
    # ... but Kolla will still not create br-ex there: the agent would terminate.
    assert compute01.bridges_created == []
    assert any("will not create that bridge" in w for w in compute01.warnings)
    assert model.expected_ovs("compute02").bridge_mappings == {"physnet1": "br-global"}
    assert model.expected_ovs("controller").bridge_mappings == {"physnet1": "br-global"}


def test_broken_override_ini_is_a_problem_and_template_stands():
    model = load(extra={"/etc/kolla/config/neutron/openvswitch_agent.ini": "[ovs\nbridge_mappings = x\n"})
    controller = model.expected_ovs("controller")
    assert controller.bridge_mappings == {"physnet1": "br-ex"}
    assert [p.one_line() for p in model.problems] == [
        "/etc/kolla/config/neutron/openvswitch_agent.ini:1: bad section header '[ovs' (write it as [section])"]


def test_single_nic_trap_warned():
    model = load("network_interface: enp1s0\nneutron_external_interface: enp1s0\n")
    warnings = model.expected_ovs("controller").warnings
    assert len(warnings) == 1 and "network_interface and api_interface" in warnings[0]
    assert "single-NIC trap" in warnings[0]
    assert load("network_interface: enp1s0\nneutron_external_interface: veth1\n").expected_ovs("controller").warnings == []


def test_container_engine_and_release():
    assert load("kolla_container_engine: podman\n").container_engine("compute01") == "podman"
    assert load().container_engine("compute01") == "docker"
    assert load(release="caracal").release == Release(2024, 1)


def test_reconfigure_argv_by_release():
    new = reconfigure_argv("/etc/kolla/multinode", ["openvswitch", "neutron"], "compute01", "2024.2")
    assert shlex.join(new) == "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron --limit compute01"
    old = reconfigure_argv("/etc/kolla/multinode", "openvswitch,neutron", ["compute01", "compute02"], "2024.1")
    assert shlex.join(old) == ("kolla-ansible -i /etc/kolla/multinode -t openvswitch,neutron "
                               "--limit compute01,compute02 reconfigure")
    assert reconfigure_argv("/etc/kolla/my inv", None, None, Release(2025, 1))[:4] == [
        "kolla-ansible", "reconfigure", "-i", "/etc/kolla/my inv"]
