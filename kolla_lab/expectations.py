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


# Each file's reading, by (path, mtime, size): every Lab start validates its scenario against these,
# and parsing the seven playbooks again each time cost about 0.2 s per start (127 parses of all of
# them in one test of 42 scenarios took 37 s under CI load). An edited file is read again.
_READ: dict[tuple[str, int, int], tuple[str, frozenset[str]] | None] = {}


def _tree_findings(file: Path) -> tuple[str, frozenset[str]] | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    key = (str(file), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        try:
            data = yaml.safe_load(file.read_bytes()[:2_000_000])
        except (OSError, yaml.YAMLError):
            data = None
        reading = None
        if isinstance(data, dict) and isinstance(data.get("id"), str) and data.get("findings") is not None:
            findings = data["findings"] if isinstance(data["findings"], dict) else {}
            reading = (data["id"], frozenset(str(f) for f in findings))
        _READ[key] = reading
    return _READ[key]


def known_findings() -> dict[str, set[str]]:
    """symptom (tree id) -> the finding IDs its tree can raise. Files that do not read are left out
    (the wizard's ``playbooks check`` says what is wrong with them)."""
    out: dict[str, set[str]] = {}
    for directory in playbook_dirs():
        for file in sorted(directory.glob("*.yaml")):
            reading = _tree_findings(file)
            if reading is not None:
                out.setdefault(reading[0], set()).update(reading[1])
    return out
