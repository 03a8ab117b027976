"""max-retries tree against the embedded lab over real HTTP (openstacksdk) and SSH (paramiko):
every shipped scenario's expected finding, the seed case's root cause with file:line, remedies
whose commands parse with python-openstackclient and kolla-ansible's syntax, constant API cost."""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.remedies.osc_judge import openstack_commands, parse_openstack
from tests.trees.network_support import context, scenarios_expecting
from wizard.diagnose import run_diagnosis
from kolla_lab import Lab
from wizard.remedies.actions import FileEdit, NodeCommand


def diagnose_keep(lab: Lab, trees=("max-retries",), *extra: str):
    ctx = context(lab, *extra)
    report, engine = run_diagnosis(ctx, list(trees))
    return ctx, report, engine


def ids(report, tree="max-retries"):
    return [f.id for f in report.findings if f.tree == tree]


def steps(report, tree="max-retries"):
    return [(s.step, s.outcome) for s in report.steps if s.tree == tree]


def remedy(report, rid):
    for f in report.findings:
        for r in f.remedies:
            if r.id == rid:
                return r
    raise AssertionError(f"no remedy {rid}: {[r.id for f in report.findings for r in f.remedies]}")


@pytest.fixture(scope="module")
def seed():
    with Lab("seed-homelab") as lab:
        ctx, report, engine = diagnose_keep(lab)
        yield lab, ctx, report, engine
        ctx.close()


@pytest.mark.parametrize("scenario,expected", scenarios_expecting("max-retries"))
def test_every_scenario_reports_exactly_its_expected_findings(scenario, expected):
    with Lab(scenario) as lab:
        ctx, report, _engine = diagnose_keep(lab)
        ctx.close()
    assert ids(report) == expected, (scenario, steps(report), report.problems)
    tree = next(t for t in report.trees if t.tree == "max-retries")
    assert tree.result == ("fault" if expected else "ok")


def test_seed_case_walks_fault_to_three_views(seed):
    _lab, _ctx, report, _engine = seed
    assert ids(report) == ["bridge-mapping-missing"]
    assert steps(report) == [("server-fault", "build-failed"), ("build-events", "port-binding-failed"),
                             ("port-segment", "provider"), ("agent-state", "alive"),
                             ("agent-mapping", "no-mapping"), ("three-views", "excluded-despite-attempt")]
    finding = report.findings[0]
    assert finding.host == "compute01"
    facts = finding.facts
    assert facts["server"]["name"] == "rocky-vm1"
    assert facts["network"]["name"] == "public1" and facts["network"]["physnet"] == "physnet1"
    # The port is gone (Nova deleted it); its ID came from the traceback and the neutron-server log.
    assert re.fullmatch(r"[0-9a-f-]{36}", facts["port"]["id"])
    assert facts["views"]["live"] == "{} (empty)"
    assert facts["views"]["deployed"] == "no bridge_mappings line"
    assert facts["views"]["expected"] == "no bridge_mappings"
    # Why it never reached the compute: the [compute:vars] line with its file:line, losing to Kolla's default.
    assert facts["attempt"]["where"] == "/etc/kolla/multinode:17"
    assert "[compute:vars]" in finding.root_cause and "/etc/kolla/multinode:17" in finding.root_cause
    assert "group_vars/all" in finding.root_cause
    assert "<unknown>" not in finding.root_cause and "<unknown>" not in finding.title
    assert "Failed to bind port " + facts["port"]["id"] in " ".join(finding.evidence)


def test_seed_remedies_durable_first_with_parsing_diffs(seed):
    _lab, ctx, report, _engine = seed
    finding = report.findings[0]
    kinds = [(r.id, r.durable) for r in finding.remedies]
    assert kinds[0] == ("enable-provider-networks", True)
    assert ("hand-edit-bridge-mapping", False) in kinds and ("use-tenant-network", True) in kinds
    durable = remedy(report, "enable-provider-networks")
    assert durable.command == "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron"
    edits = [a for a in durable.actions if isinstance(a, FileEdit)]
    assert [e.path for e in edits] == ["/etc/kolla/globals.yml", "/etc/kolla/multinode"]
    new_globals = yaml.safe_load(edits[0].new_content)
    old_globals = yaml.safe_load(ctx.deploy.read_file("/etc/kolla/globals.yml"))
    assert new_globals == {**old_globals, "enable_neutron_provider_networks": "yes"}
    assert "+enable_neutron_provider_networks: \"yes\"" in durable.diff
    assert "-enable_neutron_provider_networks=yes" in durable.diff
    assert "# enable_neutron_provider_networks=yes" in edits[1].new_content
    assert "neutron_external_interface" in durable.explain and "globals.yml" in durable.explain
    assert isinstance(durable.actions[-1], NodeCommand) and durable.actions[-1].host is None
    quick = remedy(report, "hand-edit-bridge-mapping")
    assert quick.host == "compute01"
    assert "+bridge_mappings = physnet1:br-ex" in quick.diff
    assert "next kolla-ansible deploy/reconfigure" in quick.warning
    assert quick.command.splitlines() == ["docker exec openvswitch_vswitchd ovs-vsctl add-br br-ex",
                                          "docker exec openvswitch_vswitchd ovs-vsctl add-port br-ex veth1",
                                          "docker restart neutron_openvswitch_agent"]


def test_every_printed_openstack_command_parses_with_osc(seed):
    _lab, _ctx, report, engine = seed
    count = 0
    for f in report.findings:
        for r in f.remedies:
            for cmd in openstack_commands((r.command or "") + "\n" + r.explain):
                parse_openstack(cmd)
                count += 1
    # The ask commands of every step, rendered with this diagnosis's facts.
    from wizard.remedies.quoting import render_command
    tree = engine.trees["max-retries"]
    for step in tree.steps.values():
        if step.ask and step.ask.command.startswith("openstack "):
            parse_openstack(render_command(step.ask.command, report.findings[0].facts))
            count += 1
    assert count >= 8


def test_every_kolla_ansible_and_docker_command_is_one_clean_argv(seed):
    _lab, _ctx, report, _engine = seed
    for f in report.findings:
        for r in f.remedies:
            for line in (r.command or "").splitlines():
                argv = shlex.split(line)
                if argv[0] == "kolla-ansible":
                    assert argv[1] == "reconfigure"  # 2024.2+: action first (cliff CLI)
                    assert argv[argv.index("-i") + 1] == "/etc/kolla/multinode"
                    assert "openvswitch" in argv[argv.index("-t") + 1].split(",")


def test_api_requests_stay_constant(seed):
    _lab, _ctx, report, _engine = seed
    assert 0 < report.api_requests <= 8  # tests/trees/test_api_requests.py pins the exact URLs


def test_remedy_commands_quote_hostile_names():
    from wizard.remedies.quoting import join
    assert join(["openstack", "server", "create", "--", "-rf; rm -rf /"]) == \
        "openstack server create -- '-rf; rm -rf /'"
