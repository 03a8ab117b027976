"""What a scenario's ``expect:`` may name: the wizard's symptom trees and each tree's finding IDs.

The playbooks are the one source of both. The lab never imports the wizard, so it reads the
playbook files as data: ``<root>/playbooks/*.yaml`` in a checkout, ``<root>/wizard/playbooks`` in
an installed copy (``<root>`` holding ``kolla_lab/``), then the directories named by
$KOLLA_WIZARD_PLAYBOOKS, as the wizard does. tests/lab/test_scenarios.py holds that this reading
agrees with the wizard's own loader."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS_ENV = "KOLLA_WIZARD_PLAYBOOKS"


def playbook_dirs() -> list[Path]:
    shipped = next((d for d in (ROOT / "playbooks", ROOT / "wizard" / "playbooks") if any(d.glob("*.yaml"))), None)
    extra = [Path(p) for p in os.environ.get(PLAYBOOKS_ENV, "").split(os.pathsep) if p.strip()]
    return ([shipped] if shipped else []) + extra


def known_findings() -> dict[str, set[str]]:
    """symptom (tree id) -> the finding IDs its tree can raise. Files that do not read are left out
    (the wizard's ``playbooks check`` says what is wrong with them)."""
    out: dict[str, set[str]] = {}
    for directory in playbook_dirs():
        for file in sorted(directory.glob("*.yaml")):
            try:
                data = yaml.safe_load(file.read_bytes()[:2_000_000])
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(data, dict) and isinstance(data.get("id"), str) and data.get("findings") is not None:
                findings = data["findings"] if isinstance(data["findings"], dict) else {}
                out.setdefault(data["id"], set()).update(str(f) for f in findings)
    return out
