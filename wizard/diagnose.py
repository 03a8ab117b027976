"""Run a whole diagnosis headless: consume the engine's events and return the report."""
from __future__ import annotations

from typing import Any, Callable

from . import playbook
from .engine import Engine
from .events import Done, Event
from .i18n import t
from .probe_context import ProbeContext


def run_diagnosis(ctx: ProbeContext, trees: list[str], *, on_event: Callable[[Event], None] | None = None,
                  playbook_paths=None, probe_timeout: float = 60.0,
                  answerer: Callable[[Any], "str | None"] | None = None):
    all_trees = playbook.load_all(playbook_paths)
    missing = [t for t in trees if t not in all_trees]
    if missing:
        from .errors import ConfigError
        raise ConfigError(str(playbook.builtin_dir()), t("no playbook for symptom(s) {symptoms}", symptoms=", ".join(missing)))
    engine = Engine(all_trees, ctx, probe_timeout=probe_timeout, answerer=answerer)
    report = None
    for event in engine.run(trees):
        if on_event is not None:
            on_event(event)
        if isinstance(event, Done):
            report = event.report
    nodes = getattr(ctx, "_nodes", None)   # what the SSH layer could not honour, said once
    if report is not None and nodes is not None:
        report.assumptions.extend(note for note in getattr(nodes, "notes", []) if note not in report.assumptions)
    return report, engine
