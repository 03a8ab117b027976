"""The shared fix flow's one retry: a first diagnosis that ``settled`` refuses is diagnosed once
more before anything is applied, and what the first one said is kept for the failure message."""
from __future__ import annotations

from tests.trees.fix_support import apply_in_order
from kolla_lab import Lab


def test_a_refused_first_diagnosis_is_read_once_more_and_kept():
    seen = []

    def settled(report):
        seen.append([f.id for f in report.findings])
        return False                          # refuse every report: exactly one more is made

    with Lab("seed-homelab") as lab:
        run = apply_in_order(lab, ["max-retries"], [], settled=settled)
    assert seen == [["bridge-mapping-missing"]]
    assert run.retried.startswith("trees: [('max-retries', 'fault', [('server-fault', 'build-failed')")
    assert [f.id for f in run.before.findings] == ["bridge-mapping-missing"]
    assert run.before is not None and run.after is not None


def test_a_refused_diagnosis_after_the_fixes_is_read_once_more_and_kept():
    seen = []

    def settled_after(report):
        seen.append([f.id for f in report.findings])
        return False

    with Lab("seed-homelab") as lab:
        run = apply_in_order(lab, ["max-retries"], [], settled_after=settled_after)
    assert seen == [["bridge-mapping-missing"], ["bridge-mapping-missing"]]
    assert run.retried == ""
    assert run.retried_after.startswith("trees: [('max-retries', 'fault', [('server-fault', 'build-failed')")
    assert [f.id for f in run.after.findings] == ["bridge-mapping-missing"]
