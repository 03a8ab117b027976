"""cloud-down tree: every path, walked on the embedded lab's three-controller scenarios (and states
the test changes); the Galera bootstrap applies only when the operator types the host it names."""
from __future__ import annotations

import pytest

from tests.trees.network_support import context, diagnose, finding_ids, remedy, scenarios_expecting, steps
from wizard.diagnose import run_diagnosis
from wizard.remedies.apply import apply_remedy
from wizard.remedies.control_plane import kolla_ansible_argv
from wizard.kolla.release import Release
from kolla_lab import Lab

TREE = "cloud-down"


def walk(lab, *extra):
    report = diagnose(lab, [TREE], *extra)
    return report, steps(report, TREE)


@pytest.mark.parametrize("scenario,expected", [s for s in scenarios_expecting(TREE) if s[0] != "healthy"])
def test_each_scenario_ends_in_its_own_finding(scenario, expected):
    with Lab(scenario) as lab:
        report, _ = walk(lab)
    assert finding_ids(report, TREE) == expected
    assert report.trees[0].result == ("fault" if expected else "ok")


def test_healthy_walks_every_check_and_ends_ok():
    with Lab("ha-healthy") as lab:
        _, path = walk(lab)
    assert path == [("galera", "healthy"), ("rabbitmq", "healthy"), ("vip", "held"), ("haproxy", "all-up"),
                    ("keystone", "answers")]


def test_stopped_clean_names_the_highest_seqno_and_explains_the_rest():
    with Lab("galera-stopped-clean") as lab:
        report, path = walk(lab)
    assert path == [("galera", "bootstrap-from-saved"), ("rabbitmq", "healthy"), ("vip", "held"),
                    ("haproxy", "explained"), ("keystone", "down")]
    [finding] = report.findings
    assert finding.facts["galera"]["bootstrap_host"] == "controller2"   # 48213 ties with controller3: first
    assert "controller1 48210" in finding.root_cause
    recovery = remedy(report, "mariadb-recovery")
    assert recovery.confirm == "controller2"
    assert recovery.command.splitlines()[-1] == ("kolla-ansible mariadb-recovery -i /etc/kolla/multinode "
                                                 "-e mariadb_recover_inventory_name=controller2")
    assert "lost" in recovery.explain and "cp -a /var/lib/docker/volumes/mariadb/_data" in recovery.command
    assert report.trees[0].result == "fault"


def test_last_write_is_the_crashed_node_with_the_recovered_position():
    with Lab("galera-last-write") as lab:
        report, path = walk(lab)
    assert path[0] == ("galera", "bootstrap-from-recovered")
    [finding] = report.findings
    # controller2's saved 48214 is the highest grastate.dat seqno; controller1's recovered 48219 is higher.
    assert finding.facts["galera"]["bootstrap_host"] == "controller1"
    assert finding.facts["galera"]["seqno"] == 48219


def test_crashed_everywhere_chooses_nobody_and_says_how_to_recover():
    with Lab("galera-crashed") as lab:
        report, path = walk(lab)
    assert path[0] == ("galera", "position-unknown")
    [finding] = report.findings
    assert finding.facts["galera"]["bootstrap_host"] == ""
    advice = remedy(report, "mariadb-wsrep-recover")
    assert advice.actions == [] and "BOOTSTRAP_ARGS=--wsrep-recover" in advice.command
    assert not any(r.id == "mariadb-recovery" for r in finding.remedies)
    assert any("gvwstate.dat is on controller1, controller2, controller3" in o for s in report.steps for o in s.observations)


def test_a_stale_recovered_position_is_not_trusted():
    """galera-crashed's logs hold a "Recovered position" from the start before the last run; the
    node synced after it, so it says nothing about what was committed before the crash."""
    with Lab("galera-crashed") as lab:
        log = lab.state.nodes["controller1"].read("/var/log/kolla/mariadb/mariadb.log")
        report, path = walk(lab)
    assert "Recovered position" in log and "Synchronized with group" in log.split("Recovered position")[-1]
    assert path[0] == ("galera", "position-unknown")
    assert any("(stale: the node ran in a primary component after it)" in o
               for s in report.steps for o in s.observations)


def test_partial_cluster_starts_the_missing_node_and_it_is_verified():
    with Lab("ha-healthy") as lab:
        lab.state.nodes["controller3"].stop_container("mariadb")
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        assert steps(report, TREE)[0] == ("galera", "partial")
        finding = report.findings[0]
        assert finding.id == "galera-node-down" and finding.facts["galera"]["down"] == ["controller3"]
        fix = next(r for r in finding.remedies if r.id == "mariadb-start-node")
        result = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None)
        ctx.close()
    assert result.status == "verified", result.message


def test_two_histories_are_never_compared():
    with Lab("galera-stopped-clean") as lab:
        node = lab.state.nodes["controller3"]
        path = "/var/lib/docker/volumes/mariadb/_data/grastate.dat"
        node.write(path, node.read(path).replace("6f1f4a5e", "0badc0de"))
        report, steps_ = walk(lab)
    assert steps_[0] == ("galera", "diverged")
    assert report.findings[0].id == "galera-diverged" and report.findings[0].remedies == []


def test_rabbitmq_node_down_and_its_start():
    with Lab("ha-healthy") as lab:
        lab.state.nodes["controller2"].stop_container("rabbitmq")
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        assert steps(report, TREE)[1] == ("rabbitmq", "nodes-down")
        finding = report.findings[0]
        assert finding.id == "rabbitmq-nodes-down" and finding.facts["rabbitmq"]["down"] == ["controller2"]
        result = apply_remedy(ctx, engine, finding, finding.remedies[0], emit=lambda _l: None)
        ctx.close()
    assert result.status == "verified", result.message


def test_rabbitmq_partition_reset_state_is_the_release_command_and_clears_it():
    with Lab("rabbitmq-partition") as lab:
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        finding = report.findings[0]
        fix = remedy(report, "rabbitmq-reset-state")
        assert fix.command == "kolla-ansible rabbitmq-reset-state -i /etc/kolla/multinode"
        assert "every queue and message is gone" in fix.explain
        result = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None)
        ctx.close()
    assert result.status == "verified", result.message


def test_vip_held_by_several_and_no_vip():
    with Lab("ha-healthy") as lab:
        lab.state.nodes["controller2"].control["keepalived"]["state"] = "MASTER"
        report, path = walk(lab)
    assert path[2] == ("vip", "held-by-several")
    assert finding_ids(report) == ["vip-held-by-several"]
    with Lab("ha-healthy") as lab:
        deploy = lab.state.deploy
        deploy.write("/etc/kolla/globals.yml",
                     deploy.read("/etc/kolla/globals.yml").replace('enable_haproxy: "yes"', 'enable_haproxy: "no"'))
        report, path = walk(lab)
    assert path[2:] == [("vip", "no-vip"), ("keystone", "answers")]
    assert report.findings == []


def test_vip_held_by_none_restart_keepalived_is_verified():
    with Lab("vip-held-by-none") as lab:
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        finding = report.findings[0]
        for n in ("controller1",):   # the restarted keepalived of the first loadbalancer wins the election
            lab.state.nodes[n].control["keepalived"]["state"] = "MASTER"
        result = apply_remedy(ctx, engine, finding, finding.remedies[0], emit=lambda _l: None)
        ctx.close()
    assert result.status == "verified", result.message


def test_vrid_clash_advises_another_id_and_the_loadbalancer_reconfigure():
    with Lab("vrid-clash") as lab:
        report, path = walk(lab)
    assert path[2] == ("vip", "vrid-clash")
    fix = remedy(report, "vrid-change")
    assert fix.command == "kolla-ansible reconfigure -i /etc/kolla/multinode -t loadbalancer"
    assert 'keepalived_virtual_router_id: "52"' in fix.explain
    assert "not present in MASTER advert" in report.findings[0].root_cause


def test_haproxy_backend_down_on_its_own():
    with Lab("ha-healthy") as lab:
        lab.state.nodes["controller2"].stop_container("keystone")
        report, path = walk(lab)
    assert path[3] == ("haproxy", "backends-down")
    assert report.findings[0].facts["haproxy"]["down"] == ["keystone_internal/controller2"]


def test_galera_bootstrap_needs_the_typed_host_name():
    with Lab("galera-last-write") as lab:
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        finding = report.findings[0]
        fix = remedy(report, "mariadb-recovery")
        said_yes = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None)
        wrong = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None, typed="controller2")
        g2 = lab.state.nodes["controller2"].read("/var/lib/docker/volumes/mariadb/_data/grastate.dat")
        assert lab.state.nodes["controller1"].containers["mariadb"].status == "restarting"   # nothing ran
        right = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None, typed="controller1")
        backup = lab.state.nodes["controller2"].listdir("/var/lib/docker/volumes/mariadb")
        ctx.close()
    assert said_yes.status == "refused" and "type 'controller1'" in said_yes.message
    assert wrong.status == "refused" and "'controller2'" in wrong.message
    assert "seqno:   48214" in g2
    assert right.status == "verified", right.message
    assert any(name.startswith("_data.kolla-wizard-") for name in backup)


def test_old_release_cli_form():
    assert kolla_ansible_argv("mariadb-recovery", "/etc/kolla/multinode", Release(2024, 1),
                              "-e", "mariadb_recover_inventory_name=controller1") == [
        "kolla-ansible", "-i", "/etc/kolla/multinode", "mariadb_recovery", "-e",
        "mariadb_recover_inventory_name=controller1"]
    assert kolla_ansible_argv("rabbitmq-reset-state", "inv", Release(2024, 1)) == [
        "kolla-ansible", "-i", "inv", "rabbitmq-reset-state"]


def test_triage_routes_to_cloud_down_when_keystone_does_not_answer():
    with Lab("galera-crashed") as lab:
        report = diagnose(lab, ["triage"])
    assert steps(report, "triage") == [("keystone", "down")]
    assert [t.tree for t in report.trees] == ["triage", TREE]
    assert finding_ids(report) == ["galera-position-unknown"]


def test_keystone_down_with_everything_else_in_order_is_unexplained():
    with Lab("ha-healthy") as lab:
        lab.faults.set("identity", status=503)
        report, path = walk(lab)
    assert path == [("galera", "healthy"), ("rabbitmq", "healthy"), ("vip", "held"), ("haproxy", "all-up"),
                    ("keystone", "down")]
    assert report.findings == []
    assert report.trees[0].result == "unexplained"
    assert report.exit_code() != 0


def test_a_partial_cluster_does_not_explain_a_dead_keystone():
    with Lab("ha-healthy") as lab:
        lab.state.nodes["controller3"].stop_container("mariadb")
        lab.faults.set("identity", status=503)
        report, _ = walk(lab)
    assert finding_ids(report) == ["galera-node-down"]
    assert report.trees[0].result == "unexplained"


def test_a_proof_that_cannot_go_on_says_which_step_and_why():
    """After a real bootstrap the proof walks on to RabbitMQ; when a controller drops that read, the
    fix is "not proven", and the message names the step that could not run and the reason (CI once
    showed only "could not go on", which cannot tell a load timeout from a wrong fix)."""
    with Lab("galera-last-write") as lab:
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, [TREE])
        finding = report.findings[0]
        fix = remedy(report, "mariadb-recovery")
        lab.faults.set_node("controller3", drop="*rabbitmqctl cluster_status*")
        result = apply_remedy(ctx, engine, finding, fix, emit=lambda _l: None, typed="controller1")
        ctx.close()
    assert result.status == "unverified", result.message
    assert "walked to cloud-down/galera and could not go on" in result.message
    assert "(rabbitmq could not run: controller3: cannot read RabbitMQ's state:" in result.message, result.message
