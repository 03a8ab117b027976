"""Shared helpers for the fip-404 / ssh-refused / triage tree tests: a lab per test or module,
settings built the way the CLI builds them, a diagnosis run, and direct CloudCall execution."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.remedies.osc_judge import openstack_commands, parse_openstack
from kolla_wizard.main import settings_for_lab
from wizard.cli import build_parser
from wizard.context import Context
from wizard.diagnose import run_diagnosis
from kolla_lab import Lab
from wizard.remedies.actions import CLOUD_OPS, CloudCall

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "kolla_lab" / "scenarios"


def scenarios_expecting(tree: str) -> list[tuple[str, list[str]]]:
    out = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        expect = data.get("expect") or {}
        if tree in expect or data.get("name") == "healthy":
            out.append((data.get("name") or path.stem, list(expect.get(tree) or [])))
    return out


def context(lab: Lab, *extra: str) -> Context:
    args = build_parser().parse_args(["diagnose", *extra])
    return Context(settings_for_lab(lab, args))


def diagnose(lab: Lab, trees: list[str], *extra: str):
    ctx = context(lab, *extra)
    try:
        report, _engine = run_diagnosis(ctx, trees)
    finally:
        ctx.close()
    return report


def finding_ids(report, tree: str | None = None) -> list[str]:
    return [f.id for f in report.findings if tree is None or f.tree == tree]


def steps(report, tree: str) -> list[tuple[str, str]]:
    return [(s.step, s.outcome) for s in report.steps if s.tree == tree]


def conn(lab: Lab):
    return context(lab).cloud.conn


def run_calls(lab: Lab, calls: list[CloudCall]) -> list[dict[str, Any]]:
    connection = conn(lab)
    return [CLOUD_OPS[c.op](connection, **c.params) for c in calls]


def remedy(report, remedy_id: str):
    for f in report.findings:
        for r in f.remedies:
            if r.id == remedy_id:
                return r
    raise AssertionError(f"no remedy {remedy_id} in {[r.id for f in report.findings for r in f.remedies]}")


def assert_commands_parse(report) -> int:
    n = 0
    for f in report.findings:
        for r in f.remedies:
            for cmd in openstack_commands((r.command or "") + "\n" + (r.explain or "")):
                parse_openstack(cmd)
                n += 1
    return n
