"""A finding as reported: the playbook's FindingSpec rendered with this cloud's evidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Remedy:
    """One way to fix a finding. ``kind`` is "command" (run on ``host`` or through the API)
    or "file_edit" (a unified diff against the current content of ``path`` on ``host``)."""

    id: str
    kind: str
    durable: bool
    title: str
    explain: str
    command: str | None = None
    host: str | None = None          # where it runs / which node's file; None = deploy host
    path: str | None = None
    diff: str | None = None
    # What apply does, in order. Kept out of JSON except as a preview.
    actions: list[Any] = field(default_factory=list)
    warning: str | None = None
    verify: str | None = None        # step id whose probe proves the fix (the walk goes on from it)
    # Set when no probe can prove the fix yet: what has to happen first (said instead of a verdict).
    verify_after: str | None = None
    # Text the operator must type to apply (e.g. the host a Galera recovery bootstraps from); a
    # yes alone is not enough where a wrong choice loses data.
    confirm: str | None = None
    # For a quick fix: how long it lasts and what undoes it, where the screens' default ("lost on
    # the next kolla-ansible deploy/reconfigure", true of hand edits on a node) is not true.
    lasts: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "durable": self.durable,
                               "title": self.title, "explain": self.explain}
        for key in ("command", "host", "path", "diff", "warning", "confirm"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Finding:
    id: str
    tree: str
    title: str
    severity: str
    root_cause: str
    host: str | None
    evidence: list[str]
    remedies: list[Remedy]
    learn: str | None
    step: str                        # the step whose outcome raised it (re-run to verify)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tree": self.tree,
            "title": self.title,
            "host": self.host,
            "severity": self.severity,
            "evidence": list(self.evidence),
            "root_cause": self.root_cause,
            "remedies": [r.to_dict() for r in self.remedies],
            "learn": self.learn,
        }
