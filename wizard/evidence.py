"""What a probe saw. The probe reports facts and an outcome from its declared set; the
playbook alone decides what that outcome means (next step, finding, or all clear)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Evidence:
    outcome: str
    facts: dict[str, Any] = field(default_factory=dict)
    # Human-readable lines: what was seen, in the operator's terms.
    observations: list[str] = field(default_factory=list)
    # The API calls or node commands behind the evidence, so the runbook can show them.
    sources: list[str] = field(default_factory=list)
    host: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "facts": self.facts,
            "observations": list(self.observations),
            "sources": list(self.sources),
            "host": self.host,
        }


class ProbeUnavailable(Exception):
    """The probe could not run here: no SSH access, not admin (403), node down, timeout.

    The engine turns this into the step's ask fallback, or an 'unknown' result. ``reason``
    is one clear line naming the host or endpoint and what to do."""

    def __init__(self, reason: str, *, sources: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sources = sources or []
