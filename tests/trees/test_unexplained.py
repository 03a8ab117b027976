"""The symptom rule on a lab. Port 22 and ping fail while every security-group rule admits them:
ssh-refused has no branch for that, so it never ends "ok". When the unreachable tree it hands on
to finds the cause (the L3 agent down), ssh-refused ends "fault: explained in unreachable"; when
nothing the wizard can see explains it (here: something past the wizard's sight drops every packet
to the instance), both trees end "unexplained", diagnose exits 1 and every runbook format says
what was ruled out, what could not be checked and what to run next."""
from __future__ import annotations

import json

import pytest

from kolla_lab import Lab
from kolla_wizard.main import main
from tests.trees.network_support import context
from wizard import runbook
from wizard.diagnose import run_diagnosis

OPERATOR = ("--operator-ip", "192.168.35.5")


def test_dead_port_22_with_every_rule_allowing_is_handed_on_and_explained_exit_1(capsys):
    code = main(["diagnose", "--lab-scenario", "l3-agent-down", "--symptom", "ssh-refused", "--no-input",
                 "--format", "json", *OPERATOR])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    trees = {t["id"]: t for t in data["trees"]}
    assert trees["ssh-refused"]["result"] == "fault"
    assert trees["ssh-refused"]["message"] == "explained in unreachable: l3-agent-down"
    assert [f["id"] for f in data["findings"]] == ["l3-agent-down"]
    steps = [(s["step"], s["outcome"]) for s in data["steps"] if s["tree"] == "ssh-refused"]
    assert ("reach", "closed") in steps and ("sg-ssh", "allowed") in steps and ("sg-icmp", "allowed") in steps


@pytest.fixture(scope="module")
def unmodelled():
    """A healthy lab whose instance nothing reaches, for a reason past the wizard's sight."""
    with Lab("healthy") as lab:
        lab.start()
        lab.state.cloud.reach = lambda address, protocol, port, source: (False, "no-route")
        ctx = context(lab, *OPERATOR)
        try:
            report, _engine = run_diagnosis(ctx, ["ssh-refused"])
        finally:
            ctx.close()
        yield report


def test_nothing_explains_it_so_both_trees_end_unexplained_exit_1(unmodelled):
    report = unmodelled
    assert [(t.tree, t.result) for t in report.trees] == [("ssh-refused", "unexplained"), ("unreachable", "unexplained")]
    assert report.findings == [] and report.exit_code() == 1
    info = report.trees[0].unexplained
    assert info["continues_in"] == ["unreachable"]
    assert any(line.startswith("Evaluate the security groups for SSH") for line in info["ruled_out"])
    hop = report.trees[1].unexplained
    assert any("timed out" in line for line in hop["confirmed"])
    assert [line.split(":")[0] for line in hop["ruled_out"]][:3] == [
        "Check the instance is running", "Find the address you reach it on", "Hop 2"]
    address = next(s for s in report.steps if s.step == "address").observations[0].split()[2]
    assert hop["commands"][0] == f"ssh -v {address}"


def test_unexplained_has_its_own_section_in_every_format(unmodelled):
    md = runbook.to_markdown(unmodelled)
    assert "## Unexplained: SSH to the instance is refused" in md
    for heading in ("### Symptom confirmed by", "### Checked and ruled out", "### Could not be checked",
                    "### Run next by hand"):
        assert heading in md
    assert "| unexplained |" in md and "No hop checked stops the packet" in md
    text = runbook.to_text(unmodelled)
    assert "[UNEXPLAINED]" in text and "UNEXPLAINED ssh-refused: the symptom stands" in text
    assert "2 symptom(s) unexplained" in text
    data = json.loads(runbook.to_json(unmodelled))
    assert data["trees"][1]["unexplained"]["commands"]
