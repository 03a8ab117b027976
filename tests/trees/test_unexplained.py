"""The symptom rule on a lab: port 22 and ping fail while every security-group rule admits
them (the L3 agent is down: the packet stops beyond the security groups). ssh-refused has no
branch for that, so it must end "unexplained", never "ok"; diagnose exits 1 and every runbook
format says what was ruled out, what could not be checked and what to run next."""
from __future__ import annotations

import json

import pytest

from kolla_wizard.main import main

OPERATOR = ("--operator-ip", "192.168.35.5")
SCENARIO = """\
name: l3-down-unmodelled
base: healthy
description: the L3 agent is stopped on the controller; the router NATs nothing.
expect: {}
nodes:
  controller:
    containers:
      neutron_l3_agent: {status: exited, exit_code: 137}
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "l3-down-unmodelled.yaml"
    path.write_text(SCENARIO)
    return str(path)


def diagnose(capsys, scenario, fmt):
    code = main(["diagnose", "--lab-scenario", scenario, "--symptom", "ssh-refused", "--no-input",
                 "--format", fmt, *OPERATOR])
    return code, capsys.readouterr().out


def test_port_22_dead_with_every_rule_allowing_is_unexplained_exit_1(capsys, scenario):
    code, out = diagnose(capsys, scenario, "json")
    assert code == 1
    data = json.loads(out)
    [tree] = [t for t in data["trees"] if t["id"] == "ssh-refused"]
    assert tree["result"] == "unexplained"
    assert data["findings"] == []
    steps = [(s["step"], s["outcome"]) for s in data["steps"] if s["tree"] == "ssh-refused"]
    assert ("reach", "closed") in steps and ("sg-ssh", "allowed") in steps and ("sg-icmp", "allowed") in steps
    info = tree["unexplained"]
    assert any("port 22" in line or "22" in line for line in info["confirmed"])
    assert any(line.startswith("Evaluate the security groups for SSH") for line in info["ruled_out"])
    address = next(s for s in data["steps"] if s["step"] == "address")["observations"][0].split()[2]
    assert info["commands"][0] == f"nc -vz -w 3 {address} 22"


def test_unexplained_has_its_own_section_in_markdown_and_text(capsys, scenario):
    code, md = diagnose(capsys, scenario, "markdown")
    assert code == 1
    assert "## Unexplained: SSH to the instance is refused" in md
    for heading in ("### Symptom confirmed by", "### Checked and ruled out", "### Could not be checked",
                    "### Run next by hand"):
        assert heading in md
    assert "| unexplained |" in md
    code, text = diagnose(capsys, scenario, "text")
    assert code == 1
    assert "[UNEXPLAINED]" in text and "UNEXPLAINED ssh-refused: the symptom stands" in text
    assert "1 symptom(s) unexplained" in text
