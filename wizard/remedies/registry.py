"""Remedy builders, referenced by id from a finding's ``remedies:`` list in a playbook.

    @remedy("router-create", summary="Create a router with a gateway and an interface")
    def router_create(ctx, finding) -> list[Remedy]: ...

A builder returns zero or more Remedy objects (durable ones first); it reads the finding's
facts and the context, never the terminal."""
from __future__ import annotations

import logging

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..findings import Finding, Remedy

Builder = Callable[[Any, Finding], "list[Remedy]"]


@dataclass(frozen=True)
class RemedySpec:
    id: str
    func: Builder
    summary: str


log = logging.getLogger(__name__)
_REGISTRY: dict[str, RemedySpec] = {}


def remedy(remedy_id: str, *, summary: str) -> Callable[[Builder], Builder]:
    def register(func: Builder) -> Builder:
        _REGISTRY[remedy_id] = RemedySpec(remedy_id, func, summary)
        return func
    return register


def registry() -> Mapping[str, RemedySpec]:
    from . import builtin  # noqa: F401  (registers every builder)
    return _REGISTRY


def build_remedies(ctx: Any, finding: Finding, ids: tuple[str, ...]) -> list[Remedy]:
    specs = registry()
    out: list[Remedy] = []
    for rid in ids:
        spec = specs.get(rid)
        if spec is None:
            continue  # playbook validation reports unknown remedy ids
        try:
            out.extend(spec.func(ctx, finding) or [])
        except Exception as exc:  # one broken builder (a broken globals.yml...) must not hide the others
            from ..errors import WizardError
            text = exc.one_line() if isinstance(exc, WizardError) else \
                getattr(exc, "reason", None) or f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            log.debug("remedy %s for %s failed", rid, finding.id, exc_info=True)
            problems = getattr(ctx, "problems", None)
            line = f"{finding.tree}/{finding.id}: remedy {rid} could not be built: {text}"
            if problems is not None and line not in problems:
                problems.append(line)
    # Durable fixes first, then quick ones, keeping each builder's own order.
    return sorted(out, key=lambda r: not r.durable)
