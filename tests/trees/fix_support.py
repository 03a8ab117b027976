"""The durable-fix flow shared by the acceptance test (tests/trees/test_seed_end_to_end.py) and the
real tier's parity (tests/real/test_parity.py): diagnose, apply the chosen remedies in order through
the wizard's own apply path (what ``diagnose --apply ID --yes`` runs once the operator has said yes),
then diagnose again."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tests.trees.network_support import context
from wizard.diagnose import run_diagnosis
from wizard.remedies.apply import ApplyResult, RemedyNotFound, apply_by_id

UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
STAMP = re.compile(r"\d{8}T\d{6}Z")
# The address Neutron allocates from the pool differs between backends (and runs): "created: floating IP x".
ALLOCATED = re.compile(r"(created: floating IP )\d{1,3}(?:\.\d{1,3}){3}")


@dataclass
class FixRun:
    before: object                      # the first diagnosis' report
    applied: list[ApplyResult] = field(default_factory=list)
    after: object = None                # the report of the diagnosis after the fixes

    retried: str = ""                   # the first diagnosis, when ``settled`` sent it back
    retried_after: str = ""             # the diagnosis after the fixes, when ``settled_after`` sent it back

    def applied_signature(self) -> list[tuple]:
        """Each applied remedy as (id, status, message, changes), cloud IDs and backup stamps masked."""
        def mask(text: str) -> str:
            return ALLOCATED.sub(r"\1<address>", STAMP.sub("<stamp>", UUID.sub("<id>", text)))
        return [(r.remedy, r.status, mask(r.message),
                 tuple((mask(c.get("action", "")), mask(c.get("diff", ""))) for c in r.changes))
                for r in self.applied]


def story(report) -> str:
    """What a diagnosis did: each tree's result, its steps and the problems it met (a step that
    timed out under load reads differently from a wrong finding)."""
    walked = [(tree.tree, str(tree.result), [(s.step, s.outcome) for s in report.steps
                                              if getattr(s, "tree", tree.tree) == tree.tree])
              for tree in report.trees]
    # What each step saw, cut short: "found nothing" on the real backend under load is only
    # explained by what the probes read (CI on 5c660c9 and 614bcae failed without it).
    seen = [f"{s.tree}/{s.step}: " + " | ".join(str(o)[:240] for o in s.observations)
            for s in report.steps if s.observations]
    ended = [(tree.tree, str(tree.message)[:240]) for tree in report.trees if tree.message]
    return f"trees: {walked}; problems: {report.problems}; endings: {ended}; observations: {seen}"


def apply_in_order(lab, trees: list[str], remedy_ids: list[str], *extra: str,
                   settled: Callable[[object], bool] | None = None,
                   settled_after: Callable[[object], bool] | None = None) -> FixRun:
    """Diagnose ``trees``, apply ``remedy_ids`` in order (each from that first report, as the
    operator picks them off one screen), then diagnose again with a fresh context. ``settled``:
    a first report it refuses is diagnosed once more before anything is applied (the real tier
    on a loaded machine; ``FixRun.retried`` keeps what the first one said); ``settled_after``
    does the same for the diagnosis after the fixes (``FixRun.retried_after``)."""
    ctx = context(lab, *extra)
    try:
        report, engine = run_diagnosis(ctx, trees)
        retried = ""
        if settled is not None and not settled(report):
            retried = story(report)
            ctx.close()
            ctx = context(lab, *extra)
            report, engine = run_diagnosis(ctx, trees)
        run = FixRun(report, retried=retried)
        for remedy_id in remedy_ids:
            try:
                run.applied.append(apply_by_id(ctx, engine, report, remedy_id, emit=lambda _line: None))
            except RemedyNotFound as exc:
                raise AssertionError(f"{exc}; {story(report)}") from None
    finally:
        ctx.close()
    for attempt in range(2 if settled_after is not None else 1):
        ctx = context(lab, *extra)
        try:
            run.after, _engine = run_diagnosis(ctx, trees)
        finally:
            ctx.close()
        if settled_after is None or settled_after(run.after):
            break
        if attempt == 0:
            run.retried_after = story(run.after)
    return run
