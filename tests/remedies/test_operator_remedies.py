"""Remedies a senior Kolla operator would sign (issue 16), on the embedded lab over real SSH and
HTTP: the host-name fix pins neutron's host and never renames nova-compute; the durable
provider-network fix reconfigures every compute and checks the external NIC on each; a globals.d
value is edited where it lives; a kolla-ansible run is never rolled back automatically."""
from __future__ import annotations

import pytest

from tests.remedies.osc_judge import openstack_commands, parse_openstack
from tests.trees.network_support import context
from wizard.diagnose import run_diagnosis
from wizard.remedies.actions import FileEdit, NodeCommand, sha256
from wizard.remedies.apply import apply_remedy, find_remedy
from kolla_lab import Lab

GLOBALS = "/etc/kolla/globals.yml"


def diagnose(lab, *extra, trees=("max-retries",)):
    ctx = context(lab, *extra)
    report, engine = run_diagnosis(ctx, list(trees))
    return ctx, report, engine


def assert_openstack_parses(remedy):
    for cmd in openstack_commands((remedy.command or "") + "\n" + remedy.explain):
        parse_openstack(cmd)


def test_host_name_mismatch_pins_neutron_host_and_never_renames_nova():
    with Lab("host-name-mismatch") as lab:
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    finding, remedy = find_remedy(report, "align-host-names")
    assert finding.id == "host-name-mismatch"
    # The per-host override Kolla merges into neutron.conf on compute01 only.
    assert remedy.path == "/etc/kolla/config/neutron/compute01/neutron.conf"
    assert "+[DEFAULT]\n+host = compute01.homelab.lan\n" in remedy.diff
    assert "Possible rename detected, refusing to start!" in remedy.explain
    # Nothing tells the operator to change nova's host or the node's hostname.
    text = remedy.explain + (remedy.command or "")
    assert "nova/compute01/nova.conf" not in text and "hostnamectl" not in text
    assert remedy.command.splitlines()[0] == "kolla-ansible reconfigure -i /etc/kolla/multinode -t neutron"
    assert any(line.startswith("openstack network agent delete ") for line in remedy.command.splitlines())
    assert_openstack_parses(remedy)


def test_durable_provider_fix_reconfigures_every_compute_and_checks_each_nic():
    with Lab("two-computes") as lab:
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    _finding, remedy = find_remedy(report, "enable-provider-networks")
    assert "--limit" not in remedy.command
    assert remedy.command == "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron"
    run = [a for a in remedy.actions if isinstance(a, NodeCommand)]
    assert [a.argv for a in run] == [remedy.command.split()]
    assert "compute01, compute02" in remedy.explain
    # compute02 has one NIC; globals.yml's veth1 (extra vars) beats its host line.
    assert "compute02 has no interface 'veth1'" in remedy.warning
    assert "globals.yml sets it for every host" in remedy.warning
    assert "compute01 has no interface" not in remedy.warning


def test_external_interface_on_the_tunnel_nic_is_refused_by_the_warning():
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        text = ctx.deploy.read_file(GLOBALS)
        # the tunnel network on its own NIC, which an operator then also names as the external one
        ctx.deploy.write_file_atomic(GLOBALS, text.replace('neutron_external_interface: "veth1"',
                                                           'neutron_external_interface: "enp2s0"\n'
                                                           'tunnel_interface: "enp2s0"'))
        ctx.close()
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    _finding, remedy = find_remedy(report, "enable-provider-networks")
    assert "the NIC tunnel_interface gives an address to" in remedy.warning


def test_globals_d_value_is_edited_where_it_wins():
    with Lab("seed-homelab") as lab:
        lab.state.deploy.mkdir("/etc/kolla/globals.d")
        lab.state.deploy.write("/etc/kolla/globals.d/50-neutron.yml", "---\nenable_neutron_provider_networks: \"no\"\n")
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    _finding, remedy = find_remedy(report, "enable-provider-networks")
    assert remedy.path == "/etc/kolla/globals.d/50-neutron.yml"
    assert '-enable_neutron_provider_networks: "no"\n+enable_neutron_provider_networks: "yes"' in remedy.diff
    assert "globals.yml" not in remedy.diff.split("\n", 1)[0]
    assert "an edit of globals.yml would change nothing" in remedy.explain
    assert "beat every other place" not in remedy.explain


def test_kolla_run_that_does_not_fix_is_not_rolled_back():
    with Lab("seed-homelab") as lab:
        ctx, report, engine = diagnose(lab)
        finding, durable = find_remedy(report, "enable-provider-networks")
        before = ctx.deploy.read_file(GLOBALS)
        # An edit that parses and changes nothing Kolla reads: the reconfigure runs, the fault stays.
        wrong = before + "# an unrelated note\n"
        durable.actions = [FileEdit(None, GLOBALS, sha256(before), wrong, "yaml"),
                           *[a for a in durable.actions if isinstance(a, NodeCommand)]]
        lines: list[str] = []
        result = apply_remedy(ctx, engine, finding, durable, emit=lines.append)
        after = ctx.deploy.read_file(GLOBALS)
        ctx.close()
    assert result.status == "not-fixed", result.message
    assert result.status != "rolled-back" and not any(l.startswith("restored") for l in lines)
    assert after == wrong                         # left as applied, for the operator to judge
    assert "nothing was rolled back automatically" in result.message
    [backup] = result.backup
    assert f"cp -p {backup.split(':', 1)[1]} {GLOBALS}" in result.message
    assert "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron" in result.message
    # What Kolla never removes, with the commands to remove it by hand.
    assert "on compute01: docker exec openvswitch_vswitchd ovs-vsctl --if-exists del-port br-ex veth1" in result.message
    assert "on compute01: docker exec openvswitch_vswitchd ovs-vsctl --if-exists del-br br-ex" in result.message


def test_lab_refuses_a_second_flat_network_on_a_physnet_as_neutron_does(tmp_path):
    from kolla_lab import ScenarioError, load_scenario
    bad = tmp_path / "two-flat.yaml"
    bad.write_text("name: two-flat\nbase: seed-homelab\nexpect: {}\ncloud:\n  networks:\n"
                   "    - name: public2\n      network_type: flat\n      physical_network: physnet1\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(bad))
    assert str(err.value).startswith(f"{bad}:8:") and "FlatNetworkInUse" in str(err.value)
    # Over the API: neutron_lib's FlatNetworkInUse, an InUse (409).
    from openstack import exceptions
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        try:
            with pytest.raises(exceptions.ConflictException) as err:
                ctx.cloud.conn.network.create_network(name="public2", provider_network_type="flat",
                                                      provider_physical_network="physnet1")
        finally:
            ctx.close()
    assert "Unable to create the flat network. Physical network physnet1 is in use." in str(err.value)


@pytest.mark.parametrize("release", ["2024.2", "2024.1"])
def test_network_on_unmapped_physnet_never_advises_a_create_neutron_refuses(release):
    with Lab("network-on-unmapped-physnet") as lab:
        if release != "2024.2":
            text = lab.state.deploy.read("/etc/kolla/globals.yml")
            lab.state.deploy.write("/etc/kolla/globals.yml", text.replace('openstack_release: "2024.2"',
                                                                        f'openstack_release: "{release}"'))
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    finding, remedy = find_remedy(report, "recreate-network-on-physnet")
    assert finding.id == "physnet-mismatch"
    # physnet1 already has public1: a second flat network there is FlatNetworkInUse (409).
    assert not any(line.startswith("openstack network create") for line in remedy.command.splitlines())
    assert "FlatNetworkInUse" in remedy.explain and "public1" in remedy.title
    if release == "2024.1":
        assert "neutron_physical_networks" not in remedy.explain
    else:
        assert 'neutron_physical_networks: "physnet1,physnet2"' in remedy.explain
    assert_openstack_parses(remedy)


def test_start_ovs_agent_clears_the_failed_systemd_unit_then_restarts_it():
    with Lab("ovs-agent-down") as lab:
        ctx, report, engine = diagnose(lab)
        finding, remedy = find_remedy(report, "start-ovs-agent")
        assert remedy.command.splitlines()[:2] == [
            "sudo systemctl reset-failed kolla-neutron_openvswitch_agent-container.service",
            "sudo systemctl restart kolla-neutron_openvswitch_agent-container.service"]
        result = apply_remedy(ctx, engine, finding, remedy, emit=lambda _l: None)
        ctx.close()
    assert result.status == "verified", result.message


def test_metadata_repair_uses_the_container_engine_of_the_cloud():
    with Lab("metadata-unreachable") as lab:
        text = lab.state.deploy.read("/etc/kolla/globals.yml")
        lab.state.deploy.write("/etc/kolla/globals.yml",
                               text.replace('kolla_container_engine: "docker"', 'kolla_container_engine: "podman"'))
        ctx, report, _engine = diagnose(lab, trees=("ssh-refused",))
        ctx.close()
    commands = "\n".join(r.command or "" for f in report.findings for r in f.remedies)
    assert "docker" not in commands and "podman" in commands


@pytest.mark.parametrize("iface,why", [
    ("enp1s0", "the NIC network_interface gives an address to"),
    ("eth9", "compute01 has no interface 'eth9'"),
])
def test_quick_bridge_fix_without_a_usable_uplink_is_held_back(iface, why):
    with Lab("seed-homelab") as lab:
        text = lab.state.deploy.read(GLOBALS)
        lab.state.deploy.write(GLOBALS, text.replace('neutron_external_interface: "veth1"',
                                                     f'neutron_external_interface: "{iface}"'))
        ctx, report, engine = diagnose(lab)
        finding, quick = find_remedy(report, "hand-edit-bridge-mapping")
        result = apply_remedy(ctx, engine, finding, quick, emit=lambda _l: None)
        ctx.close()
        assert "br-ex" not in lab.state.nodes["compute01"].ovs      # nothing was created
    assert quick.actions == [] and "held back" in quick.title
    assert why in quick.warning and "no L2 path" in quick.explain
    assert result.status != "verified" and "not something the wizard applies" in result.message


def test_per_host_override_is_named_as_the_source_and_fixed_there():
    override = "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini"
    with Lab("override-maps-wrong-physnet") as lab:
        ctx, report, engine = diagnose(lab)
        finding, fix = find_remedy(report, "fix-override-mapping")
        ids = [r.id for r in finding.remedies]
        result = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None)
        ctx.close()
        deployed = lab.state.nodes["compute01"].read("/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini")
    # Provider networks are already on: never advise enabling them again.
    assert "enable-provider-networks" not in ids
    assert ids[0] == "fix-override-mapping" and fix.path == override
    assert f"per-host override at {override}:3" in fix.explain
    assert "-bridge_mappings = physnet2:br-ex\n+bridge_mappings = physnet1:br-ex" in fix.diff
    quick = next(r for r in finding.remedies if r.id == "hand-edit-bridge-mapping")
    assert override in quick.warning
    assert result.status == "verified", result.message
    assert "bridge_mappings = physnet1:br-ex" in deployed


def test_with_two_ports_the_one_holding_the_floating_ip_is_judged():
    with Lab("two-ports") as lab:
        ctx, report, _engine = diagnose(lab, trees=("fip-404", "ssh-refused"))
        demo = ctx.cloud.conn.network.find_network("demo-net").id
        ctx.close()
    assert report.findings == [], [(f.id, f.root_cause) for f in report.findings]
    port_steps = [s for s in report.steps if s.step in ("target", "address")]
    assert [(s.step, s.outcome) for s in port_steps] == [("target", "has-fip"), ("address", "floating-ip")]
    assert any("demo-net" in line for line in port_steps[0].observations)
    assert demo


def test_security_group_root_cause_names_the_rule_in_another_group_and_joins_the_port():
    with Lab("sg-rule-in-other-group") as lab:
        ctx, report, engine = diagnose(lab, trees=("ssh-refused",))
        finding, join_group = find_remedy(report, "sg-allow-ssh-join")
        result = apply_remedy(ctx, engine, finding, join_group, emit=lambda _l: None)
        ctx.close()
    assert finding.id == "sg-blocks-ssh"
    assert "Group ops admits TCP 22 from 192.168.35.5" in finding.root_cause
    assert "is not in that group (its groups: default)" in finding.root_cause
    assert finding.remedies[0].id == "sg-allow-ssh-join"
    assert_openstack_parses(join_group)
    assert result.status == "verified", result.message


def test_security_group_root_cause_names_a_cidr_that_leaves_the_operator_out():
    with Lab("ssh-wrong-cidr") as lab:
        ctx, report, _engine = diagnose(lab, trees=("ssh-refused",))
        ctx.close()
    finding = next(f for f in report.findings if f.id == "sg-blocks-ssh")
    assert "admits TCP 22 only from 10.10.0.0/24, which does not include 192.168.35.5" in finding.root_cause


def test_security_group_root_cause_names_an_egress_only_rule():
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        conn = ctx.cloud.conn
        default = conn.network.find_security_group("default")
        conn.network.create_security_group_rule(security_group_id=default.id, direction="egress", ethertype="IPv4",
                                                protocol="tcp", port_range_min=22, port_range_max=22,
                                                remote_ip_prefix="0.0.0.0/0")
        ctx.close()
        ctx, report, _engine = diagnose(lab, "--operator-ip", "192.168.35.5", trees=("ssh-refused",))
        ctx.close()
    finding = next(f for f in report.findings if f.id == "sg-blocks-ssh")
    assert "has an egress rule for TCP 22" in finding.root_cause and "not 192.168.35.5 in" in finding.root_cause


def test_fip_not_associated_names_the_server_that_holds_the_floating_ip():
    with Lab("healthy") as lab:
        ctx = context(lab)
        conn = ctx.cloud.conn
        twin = conn.compute.get_server(conn.compute.find_server("rocky-vm2").id)
        conn.compute.create_server(name="rocky-vm3", image_id=twin.image.id,
                                   flavor_id=conn.compute.find_flavor("m1.small").id,
                                   networks=[{"uuid": conn.network.find_network("demo-net").id}])
        fip = next(iter(conn.network.ips())).floating_ip_address
        ctx.close()
        ctx, report, _engine = diagnose(lab, "--server", "rocky-vm3", trees=("ssh-refused",))
        ctx.close()
    finding = next(f for f in report.findings if f.id == "fip-not-associated")
    assert f"{fip} is on rocky-vm2" in finding.root_cause and "not rocky-vm3" in finding.root_cause


def test_floating_ip_comes_from_the_external_network_on_the_operators_lan():
    with Lab("gateway-on-other-external") as lab:
        ctx, report, engine = diagnose(lab, "--operator-ip", "192.168.35.5", trees=("fip-404", "ssh-refused"))
        public1 = ctx.cloud.conn.network.find_network("public1").id
        finding, gateway = find_remedy(report, "router-set-gateway")
        step = next(s for s in report.steps if s.step == "external-network")
        result = apply_remedy(ctx, engine, finding, gateway, emit=lambda _l: None)
        ctx.close()
    # The router's gateway network (transit-net) is not the operator's LAN: say so, and use public1.
    assert any("is not your LAN: your address 192.168.35.5 is on public1" in o for o in step.observations)
    assert f"--external-gateway {public1} " in gateway.command
    assert "gateway is on transit-net, an external network your machine does not reach" in gateway.explain
    fip = next(r for f in report.findings for r in f.remedies if r.id == "fip-associate")
    assert "on public1" in fip.title and public1 in fip.command
    assert_openstack_parses(gateway)
    assert result.status == "verified", result.message


def test_inventory_names_that_differ_from_host_names_keep_remedies_on_the_inventory_host():
    with Lab("inventory-names") as lab:
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    finding, quick = find_remedy(report, "hand-edit-bridge-mapping")
    assert finding.host == "compute01"                 # what Nova and Neutron report
    assert quick.host == "kvm1" and "on kvm1" in quick.title
    assert "compute01" not in (quick.command or "")
    assert not report.problems, report.problems


def test_lab_vlan_provider_networks_need_vlan_ranges_as_on_kolla_defaults(tmp_path):
    from kolla_lab import ScenarioError, load_scenario
    bad = tmp_path / "vlan.yaml"
    bad.write_text("name: vlan\nbase: seed-homelab\nexpect: {}\ncloud:\n  networks:\n"
                   "    - name: vlan100\n      network_type: vlan\n      physical_network: physnet1\n"
                   "      segmentation_id: 100\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(bad))
    assert str(err.value).startswith(f"{bad}:7:") and "network_vlan_ranges" in str(err.value)
    from openstack import exceptions
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        try:
            with pytest.raises(exceptions.BadRequestException) as refused:
                ctx.cloud.conn.network.create_network(name="vlan100", provider_network_type="vlan",
                                                      provider_physical_network="physnet1", provider_segmentation_id=100)
        finally:
            ctx.close()
    assert "physical_network 'physnet1' unknown for VLAN provider network" in str(refused.value)


def test_vlan_network_on_an_unmapped_physnet_needs_vlan_ranges_before_the_create(tmp_path):
    scenario = tmp_path / "vlan-unmapped.yaml"
    scenario.write_text(
        "name: vlan-unmapped\nbase: healthy\nexpect:\n  max-retries: [physnet-mismatch]\ncloud:\n"
        "  vlan_ranges: [\"physnet2:100:199\"]\n  networks:\n    - name: vlan100\n      network_type: vlan\n"
        "      physical_network: physnet2\n      segmentation_id: 100\n      subnets:\n"
        "        - {name: vlan100-subnet, cidr: 192.168.100.0/24}\n  servers:\n"
        "    - {name: rocky-vm3, image: rocky-9, flavor: m1.small, network: vlan100, key_name: homelab-key}\n")
    with Lab(str(scenario)) as lab:
        ctx, report, _engine = diagnose(lab)
        ctx.close()
    _finding, remedy = find_remedy(report, "recreate-network-on-physnet")
    assert "network_vlan_ranges = physnet1:<first>:<last>" in remedy.explain
    assert "renaming the only one would strand the networks on physnet1" in remedy.explain
    assert remedy.command.splitlines()[-1].startswith(
        "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
        "--provider-segment 100")
    assert_openstack_parses(remedy)


ROOT_ONLY = ("systemctl ", "docker ", "podman ", "tail -n 50 /var/log/kolla/")


@pytest.mark.parametrize("scenario,trees,remedy_ids", [
    ("ovs-agent-down", ("max-retries",), {"start-ovs-agent"}),
    ("compute-down", ("no-valid-host",), {"start-nova-compute"}),
    ("scheduler-not-consuming", ("no-valid-host",), {"start-nova-scheduler"}),
    ("compute-not-consuming", ("no-valid-host",), {"restart-nova-compute"}),
    ("dhcp-agent-down", ("unreachable",), {"restart-neutron-agent-now"}),
])
def test_node_commands_the_operator_types_start_with_sudo(scenario, trees, remedy_ids):
    """systemctl, the container engine and /var/log/kolla need root on a Kolla node, whose deploy
    user is usually not root: every such printed line is written with sudo, as the operator types
    it (the wizard's own action uses become where the inventory says so)."""
    with Lab(scenario) as lab:
        ctx, report, _engine = diagnose(lab, trees=trees)
        ctx.close()
    remedies = {r.id: r for f in report.findings for r in f.remedies}
    assert remedy_ids <= set(remedies), (scenario, sorted(remedies))
    lines = [line.strip() for r in remedies.values() for line in (r.command or "").splitlines()]
    bare = [line for line in lines if line.startswith(ROOT_ONLY)]
    assert not bare, bare
    assert any(line.startswith("sudo systemctl restart ") for rid in remedy_ids
               for line in remedies[rid].command.splitlines()), [remedies[rid].command for rid in remedy_ids]
