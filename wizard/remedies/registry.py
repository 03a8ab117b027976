"""Remedy builders, referenced by id from a finding's ``remedies:`` list in a playbook.

    @remedy("router-create", summary="Create a router with a gateway and an interface")
    def router_create(ctx, finding) -> list[Remedy]: ...

A builder returns zero or more Remedy objects (durable ones first); it reads the finding's
facts and the context, never the terminal. One id names a remedy everywhere: a builder is
registered under the id of the remedy it offers, the one a playbook lists, ``playbooks list`` shows,
the runbook prints and ``--apply`` takes; a builder that can offer others too names them in ``also``
(numbered repeats ``ID-2``, ``ID-3`` ... of one id need no naming). A remedy under an id its builder
does not declare is reported as a problem of the run."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..findings import Finding, Remedy
from ..probe_context import ProbeContext
from ..i18n import t

Builder = Callable[[ProbeContext, Finding], "list[Remedy]"]


@dataclass(frozen=True)
class RemedySpec:
    id: str
    func: Builder
    summary: str
    also: tuple[str, ...] = ()

    @property
    def offers(self) -> tuple[str, ...]:
        """Every remedy id this builder may offer, its own first."""
        return (self.id, *self.also)

    def declares(self, remedy_id: str) -> bool:
        return any(remedy_id == rid or re.fullmatch(re.escape(rid) + r"-\d+", remedy_id) for rid in self.offers)


log = logging.getLogger(__name__)
_REGISTRY: dict[str, RemedySpec] = {}


def remedy(remedy_id: str, *, summary: str, also: tuple[str, ...] = ()) -> Callable[[Builder], Builder]:
    def register(func: Builder) -> Builder:
        _REGISTRY[remedy_id] = RemedySpec(remedy_id, func, summary, tuple(also))
        return func
    return register


def registry() -> Mapping[str, RemedySpec]:
    from . import builtin  # noqa: F401  (registers every builder)
    return _REGISTRY


def build_remedies(ctx: ProbeContext, finding: Finding, ids: tuple[str, ...]) -> list[Remedy]:
    specs = registry()
    out: list[Remedy] = []
    for rid in ids:
        spec = specs.get(rid)
        if spec is None:   # `playbooks check` rejects this; a run says so rather than drop it unseen
            problems = getattr(ctx, "problems", None)
            line = t("{tree}/{id}: the playbook names remedy {rid!r}, which no builder offers", tree=finding.tree, id=finding.id, rid=rid)
            log.warning(line)
            if problems is not None and line not in problems:
                problems.append(line)
            continue
        try:
            built = list(spec.func(ctx, finding) or [])
        except Exception as exc:  # one broken builder (a broken globals.yml...) must not hide the others
            from ..errors import WizardError
            text = exc.one_line() if isinstance(exc, WizardError) else \
                getattr(exc, "reason", None) or f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            log.debug("remedy %s for %s failed", rid, finding.id, exc_info=True)
            problems = getattr(ctx, "problems", None)
            line = t("{tree}/{id}: remedy {rid} could not be built: {text}", tree=finding.tree, id=finding.id, rid=rid, text=text)
            if problems is not None and line not in problems:
                problems.append(line)
            continue
        for item in built:
            if not spec.declares(item.id):
                problems = getattr(ctx, "problems", None)
                line = (t("{tree}/{id}: remedy builder {rid} offered {id2!r}, an id it does not declare (add it to "
                          "also= in its @remedy)", tree=finding.tree, id=finding.id, rid=rid, id2=item.id))
                log.warning(line)
                if problems is not None and line not in problems:
                    problems.append(line)
        out.extend(built)
    # Durable fixes first, then quick ones, keeping each builder's own order.
    return sorted(out, key=lambda r: not r.durable)
