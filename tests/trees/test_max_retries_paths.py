"""max-retries paths the shipped scenarios do not reach, driven on a real lab whose state the test
changes (a node's inventory edit, a renamed nova-compute host, a stopped nova-compute, admin-only
API calls answering 403): each ends in its finding, or in an ask step and no finding at all."""
from __future__ import annotations

import pytest

from tests.remedies.osc_judge import openstack_commands, parse_openstack
from tests.trees.network_support import context
from wizard.diagnose import run_diagnosis
from wizard.events import Asked
from kolla_lab import Lab
from kolla_lab.cloud import CloudError as LabCloudError
from wizard.learn import learn_page


def run(lab, *extra, trees=("max-retries",)):
    ctx = context(lab, *extra)
    events = []
    try:
        report, engine = run_diagnosis(ctx, list(trees), on_event=events.append)
    finally:
        ctx.close()
    return report, events


def steps(report):
    return [(s.step, s.outcome) for s in report.steps if s.tree == "max-retries"]


def boot(lab, name):
    ctx = context(lab)
    conn = ctx.cloud.conn
    server = conn.compute.create_server(
        # the image's ID from the lab's own model: these tests are about Nova, not Glance discovery
        name=name, image_id=next(i for i, img in lab.state.cloud.images.items() if img["name"] == "rocky-9"),
        flavor_id=conn.compute.find_flavor("m1.small").id,
        networks=[{"uuid": conn.network.find_network("public1").id}])
    server = conn.compute.get_server(server.id)
    ctx.close()
    return server


def assert_parses(report):
    for f in report.findings:
        for r in f.remedies:
            for cmd in openstack_commands((r.command or "") + "\n" + r.explain):
                parse_openstack(cmd)


def test_plain_defaults_give_kolla_excludes_compute():
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        inventory = ctx.deploy.read_file("/etc/kolla/multinode")
        ctx.deploy.write_file_atomic("/etc/kolla/multinode", inventory.replace("enable_neutron_provider_networks=yes\n", ""))
        ctx.close()
        report, _ = run(lab)
    assert [f.id for f in report.findings] == ["kolla-excludes-compute"]
    finding = report.findings[0]
    assert "computes_need_external_bridge" in finding.root_cause
    assert "Nothing in your configuration turns it on" in finding.root_cause
    assert finding.remedies[0].id == "enable-provider-networks"
    # No attempt, so only globals.yml is edited.
    assert "/etc/kolla/multinode" not in finding.remedies[0].diff
    assert_parses(report)


def test_fqdn_against_short_name_is_host_name_mismatch():
    with Lab("healthy") as lab:
        lab.state.cloud.service_overrides["compute01"] = {"host": "compute01.homelab.lan"}
        server = boot(lab, "vm-renamed-host")
        assert server.status == "ERROR"
        report, _ = run(lab, "--server", server.id)
    assert steps(report)[-2:] == [("agent-state", "missing"), ("host-names", "mismatch")]
    [finding] = report.findings
    assert finding.id == "host-name-mismatch"
    assert finding.facts["host_names"] == {"nova": "compute01.homelab.lan", "neutron": "compute01"}
    assert "compute01.homelab.lan" in finding.root_cause
    assert_parses(report)


def test_no_compute_up_hands_on_to_no_valid_host():
    with Lab("healthy") as lab:
        lab.state.nodes["compute01"].stop_container("nova_compute")
        server = boot(lab, "vm-nowhere")
        assert server.status == "ERROR"
        report, _ = run(lab, "--server", "vm-nowhere")
    assert steps(report) == [("server-fault", "no-valid-host")]
    no_valid = [(s.step, s.outcome) for s in report.steps if s.tree == "no-valid-host"]
    assert no_valid == [("fault", "no-valid-host"), ("scheduler-log", "filtered"), ("compute-services", "down")]
    [finding] = report.findings
    assert (finding.tree, finding.id, finding.host) == ("no-valid-host", "compute-service-down", "compute01")
    assert finding.remedies[0].command.splitlines()[1] == "sudo systemctl restart kolla-nova_compute-container.service"
    result = {t.tree: t for t in report.trees}
    assert result["max-retries"].message.startswith("explained in no-valid-host")
    assert_parses(report)


def test_agents_403_asks_with_the_exact_command_and_reports_nothing(monkeypatch):
    with Lab("seed-homelab") as lab:
        def forbidden():
            raise LabCloudError(403, "PolicyNotAuthorized", "rule:get_agent is disallowed by policy")
        monkeypatch.setattr(lab.state.cloud, "agents", forbidden)
        report, events = run(lab)
    assert report.findings == []
    asked = [e for e in events if isinstance(e, Asked)]
    assert [a.step for a in asked] == ["agent-state"]
    assert asked[0].command == "openstack network agent list --agent-type open-vswitch --long"
    parse_openstack(asked[0].command)
    assert "403" in asked[0].reason
    assert steps(report)[-1] == ("agent-state", "unknown")
    assert any("agent-state" in a for a in report.assumptions)


def test_event_hosts_hidden_asks_for_the_compute_log():
    with Lab("seed-homelab") as lab:
        for actions in lab.state.cloud.actions.values():   # what a non-admin user is shown
            for action in actions:
                for event in action["events"]:
                    event["traceback"], event["host"] = None, ""
        report, events = run(lab, "--server", "rocky-vm1")
    asked = [e for e in events if isinstance(e, Asked)]
    assert asked and asked[0].step == "build-events"
    assert "event hosts are admin-only" in asked[0].reason and "openstack server event show" in asked[0].reason
    assert asked[0].command == "grep -F 'Failed to build and run instance' /var/log/kolla/nova/nova-compute.log"
    assert report.findings == []


def test_compute_log_unreadable_falls_back_to_the_conductor_log():
    with Lab("seed-homelab") as lab:
        lab.state.nodes["compute01"].files.pop("/var/log/kolla/nova/nova-compute.log")
        report, _ = run(lab, "--server", "rocky-vm1")
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    build = next(s for s in report.steps if s.step == "build-events")
    assert any("nova-conductor.log: Error from last host: compute01" in o for o in build.observations)
    assert any("nova-compute.log does not exist" in o for o in build.observations)


def test_server_given_that_is_active_ends_ok():
    with Lab("healthy") as lab:
        report, _ = run(lab, "--server", "rocky-vm2")
    assert steps(report) == [("server-fault", "not-in-error")]
    assert report.findings == [] and report.trees[0].result == "ok"


def test_learn_pages_teach_from_the_seed_cloud():
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        report, _engine = run_diagnosis(ctx, ["max-retries"])
        facts = report.findings[0].facts
        bridges = learn_page(ctx, "bridges", facts)
        precedence = learn_page(ctx, "precedence", facts)
        scheduling = learn_page(ctx, "scheduling", facts)
        unknown = learn_page(ctx, "nope", facts)
        ctx.close()
    assert "**compute01**" in bridges and "br-int" in bridges and "br-tun" in bridges
    assert "compute01 has no br-ex." in bridges
    assert "| expected (Kolla now) | no bridge_mappings |" in bridges
    assert "/etc/kolla/multinode:17" in precedence and "| **yes** |" in precedence
    assert "enable_neutron_provider_networks" in precedence
    # Issue 20, defect 19c: one form for Kolla's default (2024.2 writes "no"), never 'false' beside "no".
    assert "'false'" not in precedence and '"no"' not in precedence, precedence
    assert "| `'no'` | **yes** |" in precedence and "enable\\_neutron\\_provider\\_networks `'no'`" in precedence
    assert "| compute01 | up | enabled |" in scheduling
    assert "the pages are: bridges, precedence" in unknown


def test_learn_pages_degrade_without_ssh_or_facts():
    from wizard.context import Context, Settings
    ctx = Context(Settings(ssh_config="/nonexistent", deploy_host="nowhere", os_cloud="no-such-cloud"))
    page = learn_page(ctx, "bridges", {"host": "compute01"})
    assert "could not be read" in page and "br-ex" in page
    assert "general order only" in learn_page(ctx, "precedence", {})
    assert "could not be listed" in learn_page(ctx, "scheduling", {})


def test_kvm_on_a_nested_compute_is_virt_type_unsupported_and_qemu_fixes_it():
    from tests.trees.fix_support import apply_in_order

    with Lab("kvm-nested") as lab:
        run = apply_in_order(lab, ["max-retries"], ["virt-type-qemu"])
        server = boot(lab, "vm-after-qemu")
    before = run.before
    assert steps(before) == [("server-fault", "build-failed"), ("build-events", "virt-failed"),
                             ("virt-support", "kvm-unavailable")]
    [finding] = before.findings
    assert finding.id == "virt-type-unsupported" and finding.host == "compute01"
    # The evidence quotes libvirt's refusal from nova-compute.log, not an event traceback.
    assert any("nova-compute.log: ERROR nova.compute.manager" in e and "does not support virt type 'kvm'" in e
               for e in finding.evidence)
    assert finding.facts["virt"]["cpu"] == "no vmx/svm flag" and finding.facts["virt"]["dev_kvm"] is False
    durable = finding.remedies[0]
    assert (durable.id, durable.durable) == ("virt-type-qemu", True)
    assert durable.command == "kolla-ansible reconfigure -i /etc/kolla/multinode -t nova"   # no --limit (Kolla's docs)
    assert '+nova_compute_virt_type: "qemu"' in durable.diff
    assert [r.id for r in finding.remedies] == ["virt-type-qemu", "enable-nested-virt"]
    [applied] = run.applied
    assert applied.status == "verified", applied
    # The walk after the fix ends ok at virt-support (virt_type qemu now), and a new server builds.
    assert steps(run.after)[-1] == ("virt-support", "not-kvm") and run.after.findings == []
    assert server.status == "ACTIVE"


@pytest.mark.parametrize("remedy_id", ["reconfigure-openvswitch"])
def test_a_healed_agent_proves_the_mapped_bridge_fix(remedy_id):
    # The fix restarts the agent, and node-agent reads a running container as "agent down": the
    # proof must start where Neutron says whether the agent lives (agent-state), or a healed agent
    # looks like a new fault and a working fix ends not-fixed.
    from tests.trees.fix_support import apply_in_order

    with Lab("mapped-bridge-missing") as lab:
        run = apply_in_order(lab, ["max-retries"], [remedy_id])
    [applied] = run.applied
    assert str(applied.status) == "verified", applied.message
    assert "agent-state now says alive" in applied.message
    assert "mapped-bridge-missing" not in [f.id for f in run.after.findings]
