"""`kolla-wizard diagnose` on a terminal asks a step's question when its probe cannot run; with
--no-input, or without a terminal, the step stays unknown (the report says why)."""
from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from wizard.ask_prompt import terminal_answerer
from wizard.events import Asked

ASKED = Asked("max-retries", "agent-state", "Is the agent alive?", "openstack network agent list --long",
              {"alive": "Listed, Alive :-)", "dead": "Listed, Alive XXX", "missing": "Not listed"},
              "GET /v2.0/agents: HTTP 503")


def ask(typed: str) -> tuple[str | None, str]:
    err = io.StringIO()
    return terminal_answerer(io.StringIO(typed), err)(ASKED), err.getvalue()


def test_a_number_or_the_outcome_name_answers():
    answer, shown = ask("2\n")
    assert answer == "dead"
    assert "max-retries/agent-state" in shown and "HTTP 503" in shown
    assert "Run: openstack network agent list --long" in shown
    assert "  1) alive: Listed, Alive :-)" in shown and "  3) missing: Not listed" in shown
    assert ask("missing\n")[0] == "missing"


def test_enter_eof_and_three_wrong_replies_skip():
    assert ask("\n")[0] is None
    assert ask("")[0] is None                     # EOF (stdin closed)
    answer, shown = ask("7\nyes\nmaybe\n1\n")
    assert answer is None and shown.count("is not one of 1-3") == 3 and shown.rstrip().endswith("skipped")
    assert ask("0\nalive\n")[0] == "alive"        # one wrong reply, then a right one


SCENARIO = """name: agents-503
base: seed-homelab
expect: {}
faults:
  api:
    - {service: network, path: /v2.0/agents, status: 503}
"""


def run_cli(tmp_path: Path, stdin, *extra: str) -> subprocess.CompletedProcess:
    scenario = tmp_path / "agents-503.yaml"
    scenario.write_text(SCENARIO)
    return subprocess.run([sys.executable, "-m", "wizard", "diagnose", "--lab-scenario", str(scenario),
                           "--symptom", "max-retries", "--format", "json", *extra],
                          stdin=stdin, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def test_on_a_terminal_the_cli_asks_and_the_answer_drives_the_tree(tmp_path: Path):
    import json
    master, slave = pty.openpty()
    try:
        os.write(master, b"2\n")                  # typed ahead: the terminal buffers it
        done = run_cli(tmp_path, slave)
    finally:
        os.close(slave)
        os.close(master)
    assert "Is the Open vSwitch agent on the failing host listed and alive" in done.stderr
    report = json.loads(done.stdout)              # stdout stays the report
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["agent-state"]["outcome"] == "dead" and steps["agent-state"]["via"] == "answer"
    assert any("taken from the operator's answer" in a for a in report["assumptions"])


def test_no_input_and_no_terminal_never_ask(tmp_path: Path):
    import json
    for done in (run_cli(tmp_path, subprocess.DEVNULL), run_cli(tmp_path, subprocess.DEVNULL, "--no-input")):
        assert "Your answer" not in done.stderr
        report = json.loads(done.stdout)
        steps = {s["step"]: s for s in report["steps"]}
        assert steps["agent-state"]["outcome"] in ("unknown", None)
        # The server is ERROR (the symptom is confirmed) and nothing explains it: "unexplained",
        # exit 1, with the step that could not run listed (not 3, "could not complete").
        [tree] = report["trees"]
        assert tree["result"] == "unexplained" and done.returncode == 1
        assert any("/v2.0/agents" in line for line in tree["unexplained"]["not_checked"])
