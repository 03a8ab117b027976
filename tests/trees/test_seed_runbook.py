"""The runbook for seed-homelab (all three symptoms) is a golden file.

Only what legitimately changes between runs is normalised: the start time, Nova request IDs
and the lab's per-run key fingerprints. Everything else (IDs are deterministic in the lab)
must match byte for byte, so a change in wording, order or evidence shows up in review."""
from __future__ import annotations

import os
import re
from pathlib import Path

from kolla_wizard.main import main

GOLDEN = Path(__file__).parent / "golden" / "seed-homelab-runbook.md"
NORMALISE = [
    (re.compile(r"\*\*Started:\*\* \S+"), "**Started:** <time>"),
    (re.compile(r"req-[0-9a-f-]{36}"), "req-<id>"),
    (re.compile(r"(?:[0-9a-f]{2}:){15}[0-9a-f]{2}"), "<md5-fingerprint>"),
    (re.compile(r"SHA256:[A-Za-z0-9+/]{43}"), "SHA256:<fingerprint>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    return text


def test_seed_homelab_runbook_matches_golden(tmp_path, capsys):
    out = tmp_path / "runbook.md"
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "all", "--format", "markdown",
                 "--output", str(out)])
    assert code == 1  # faults found
    text = normalise(out.read_text(encoding="utf-8"))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    # The planted secrets of the seed (every passwords.yml value) never reach the runbook.
    import yaml

    from kolla_lab import load_scenario
    scenario = load_scenario("seed-homelab")
    deploy = next(n for n in scenario["nodes"] if n["name"] == "deploy") if isinstance(scenario["nodes"], list) \
        else scenario["nodes"]["deploy"]
    secrets = yaml.safe_load(deploy["files"]["/etc/kolla/passwords.yml"])
    assert len(secrets) >= 5
    for value in secrets.values():
        assert str(value) not in text
