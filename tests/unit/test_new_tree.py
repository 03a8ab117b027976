"""Adding a symptom is a YAML tree plus its probes: a directory with both, named by
$KOLLA_WIZARD_PLAYBOOKS, makes the new symptom appear in `playbooks list` and `check`,
`diagnose --symptom NEW`, `--symptom all` and the TUI's symptom list, with no other file touched."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TREE = """\
id: disk-full
title: "A node's disk is full"
symptom: "Services on a node stop and their logs say: No space left on device"
order: 40
applies_to: cloud
start: look
steps:
  look:
    title: Look at the node's disk
    why: A full disk stops the containers that write to it.
    probe: disk_full_example
    branches:
      full: {finding: disk-full}
      room: {ok: "The disk has room."}
findings:
  disk-full:
    title: The disk of a node is full
    severity: critical
    root_cause: "The disk is full, so the services on it cannot write."
"""

PROBE = """\
from wizard.evidence import Evidence
from wizard.probes.registry import probe


@probe("disk_full_example", outcomes=("full", "room"), summary="Is a node's disk full?", requires="none")
def disk_full_example(ctx, args, emit):
    return Evidence("full", {}, ["/var/lib/docker is 100% used"], ["df -h"])
"""


@pytest.fixture()
def new_tree(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "more-playbooks"
    directory.mkdir()
    (directory / "disk-full.yaml").write_text(TREE, encoding="utf-8")
    (directory / "disk_probe.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.setenv("KOLLA_WIZARD_PLAYBOOKS", str(directory))
    return directory


def wizard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kolla_wizard", *args], capture_output=True, text=True,
                          timeout=300, cwd=str(REPO), env=dict(os.environ))


def test_the_new_tree_is_listed_and_checked(new_tree):
    listed = wizard("playbooks", "list")
    assert listed.returncode == 0, listed.stderr
    assert "tree disk-full: 1 steps, findings: disk-full" in listed.stdout
    assert "probe disk_full_example [none] -> full, room" in listed.stdout
    checked = wizard("playbooks", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "tree disk-full" in checked.stdout
    helped = wizard("diagnose", "--help")
    assert "disk-full" in helped.stdout


def test_diagnose_walks_the_new_tree_alone_and_in_all(new_tree):
    alone = wizard("diagnose", "--lab-scenario", "healthy", "--symptom", "disk-full", "--format", "json", "--no-input")
    assert alone.returncode == 1, alone.stderr
    report = json.loads(alone.stdout)
    assert [t["id"] for t in report["trees"]] == ["disk-full"]
    assert [f["id"] for f in report["findings"]] == ["disk-full"]

    everything = wizard("diagnose", "--lab-scenario", "healthy", "--symptom", "all", "--format", "json", "--no-input")
    report = json.loads(everything.stdout)
    assert [t["id"] for t in report["trees"]] == ["max-retries", "fip-404", "ssh-refused", "disk-full"]
    assert "disk-full" in [f["id"] for f in report["findings"]]


def test_without_the_directory_the_symptom_is_unknown():
    assert "KOLLA_WIZARD_PLAYBOOKS" not in os.environ
    result = wizard("diagnose", "--symptom", "disk-full")
    assert result.returncode == 2 and "invalid choice: 'disk-full'" in result.stderr


async def test_the_tui_lists_the_new_symptom_in_the_playbooks_order(new_tree, tmp_path):
    from screens import services as production
    from screens.app import WizardApp
    from tests.ui.fakes import make_services
    from tests.ui.helpers import to_symptoms

    services = make_services(tmp_path)
    services.load_trees = production._load_trees    # what kolla-wizard itself loads
    app = WizardApp(services)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        symptoms = app.screen.query_one("#symptom-list")
        ids = [symptoms.get_option_at_index(i).id for i in range(symptoms.option_count)]
        assert ids == ["max-retries", "no-valid-host", "fip-404", "ssh-refused", "unreachable", "cloud-down", "disk-full",
                       "triage"]
