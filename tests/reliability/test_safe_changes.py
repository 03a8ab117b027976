"""Applying fixes under faults and contention (tests/remedies/test_apply.py covers the single,
healthy apply: preview sha, rollback on failed verification, dry run, locks left by others, no
write without --yes). Here: a node that drops the connection in the middle of the fix, and two
wizards applying at the same moment."""
from __future__ import annotations

import threading

import pytest

from tests.trees.network_support import context
from wizard.diagnose import run_diagnosis
from wizard.kolla.ini import parse_ini
from kolla_lab import Lab
from wizard.remedies.apply import apply_by_id

OVS_INI = "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini"


@pytest.fixture
def seed():
    with Lab("seed-homelab") as lab:
        yield lab


def diagnosed(lab):
    ctx = context(lab)
    report, engine = run_diagnosis(ctx, ["max-retries"])
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    return ctx, report, engine


def test_connection_dropped_during_the_fix_restores_the_file(seed, case):
    ctx, report, engine = diagnosed(seed)
    before = seed.state.nodes["compute01"].read(OVS_INI)
    seed.faults.set_node("compute01", drop="*docker restart*")
    lines: list[str] = []
    try:
        result = apply_by_id(ctx, engine, report, "hand-edit-bridge-mapping", emit=lines.append)
    finally:
        seed.faults.clear()
        ctx.close()
    case.record("changes", "quick fix applied; compute01 drops the connection during `docker restart`",
                f"{result.status}: {result.message}")
    assert result.status == "failed"
    assert "did not complete" in result.message and "restored from the backups" in result.message
    assert seed.state.nodes["compute01"].read(OVS_INI) == before          # no half fix left behind
    assert any(line.startswith("restored compute01:") for line in lines)
    assert result.backup and seed.state.nodes["compute01"].read(result.backup[0].split(":", 1)[1]) == before


def test_two_wizards_applying_at_once_change_the_file_once(seed, case):
    first, second = diagnosed(seed), diagnosed(seed)
    barrier = threading.Barrier(2)
    results = {}

    def apply(name, state):
        ctx, report, engine = state
        barrier.wait()
        try:
            results[name] = apply_by_id(ctx, engine, report, "hand-edit-bridge-mapping", emit=lambda _l: None)
        finally:
            ctx.close()

    threads = [threading.Thread(target=apply, args=(n, s)) for n, s in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(r.status for r in results.values())
    text = seed.state.nodes["compute01"].read(OVS_INI)
    mappings = [line for line in text.splitlines() if line.strip().startswith("bridge_mappings")]
    loser = next((r for r in results.values() if r.status != "verified"), None)
    case.record("changes", "two wizards apply the same quick fix at the same moment (same preview)",
                f"{statuses}; loser: {loser.message if loser else '-'}; file has {len(mappings)} bridge_mappings line")
    parse_ini(text, OVS_INI)                                  # still a valid file
    assert mappings == ["bridge_mappings = physnet1:br-ex"]
    assert statuses == ["refused", "verified"], [r.message for r in results.values()]
    assert "another kolla-wizard" in loser.message or "changed on disk since the preview" in loser.message
