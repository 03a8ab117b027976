"""The symptom rule: a tree whose live check confirmed the symptom never ends "ok" unless a
branch explains it. When nothing does, the tree ends "unexplained" and says what was checked
and ruled out, what could not be checked, and the commands to run next by hand."""
from __future__ import annotations

from typing import Any, Mapping

from .i18n import t, tr
from .playbook import Tree
from .report import Report, TreeResult
from .status import StepStatus, TreeStatus

UNEXPLAINED = TreeStatus.UNEXPLAINED


def conclude(tree: Tree, report: Report, result: TreeResult, confirmed: list[str],
             facts: Mapping[str, Any]) -> list[str]:
    """Turn ``result`` into "unexplained"; return the trees to follow the symptom into."""
    from .remedies.quoting import render_command
    records = [r for r in report.steps if r.tree == tree.id]
    spec = tree.unexplained
    assert spec is not None  # the loader requires the block once a branch confirms
    seen = [f"{r.title}: {r.outcome}" + (f" ({r.observations[0]})" if r.observations else "")
            for r in records if r.step in confirmed]
    ruled_out = [f"{r.title}: {r.outcome}" for r in records
                 if r.step not in confirmed and r.status == StepStatus.OK]
    faults = [t("{title}: {outcome} (a fault, but not why the symptom stands)", title=r.title, outcome=r.outcome)
              for r in records if r.step not in confirmed and r.status == StepStatus.FAULT]
    not_checked = [f"{r.title}: {r.note or t('not checked')}" for r in records if r.status == StepStatus.UNKNOWN]
    not_checked += [p.split(": ", 1)[-1] for p in report.problems if p.startswith(f"{tree.id}/")]
    last_word = result.message
    result.result = UNEXPLAINED
    result.message = (t("the symptom stands and no check explains it; continues in: {trees}", trees=", ".join(spec.run))
                      if spec.run else t("the symptom stands and no check explains it"))
    result.unexplained = {
        "confirmed": seen,
        "ruled_out": ruled_out + faults,
        "not_checked": list(dict.fromkeys(not_checked)),
        "commands": [render_command(tr(c), facts) for c in spec.commands],
        "continues_in": list(spec.run),
        "last_step_said": last_word,
    }
    return list(spec.run)


def settle_hand_offs(report: Report, explained_trees: set[str]) -> None:
    """A tree that handed its unexplained symptom to another is explained when that tree explained it."""
    for result in report.trees:
        info = result.unexplained
        if result.result != UNEXPLAINED or not info or not info.get("continues_in"):
            continue
        by = [t for t in info["continues_in"] if t in explained_trees]
        if by:
            ids = [f.id for f in report.findings if f.tree in by]
            result.result = TreeStatus.FAULT
            result.message = (t("explained in {trees}: {findings}", trees=", ".join(by), findings=", ".join(ids))
                              if ids else t("explained in {trees}", trees=", ".join(by)))
            result.unexplained = None
