"""The transcript of one diagnosis: what every face (JSON, Markdown, TUI) renders from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Finding
from .status import StepStatus, TreeStatus


@dataclass
class StepRecord:
    tree: str
    step: str
    title: str
    why: str
    probe: str
    outcome: str = ""
    status: StepStatus = StepStatus.WAITING
    via: str = ""
    observations: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    asked: dict[str, Any] | None = None
    note: str = ""
    host: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "tree": self.tree, "step": self.step, "title": self.title, "probe": self.probe,
            "outcome": self.outcome, "status": self.status, "via": self.via,
            "observations": list(self.observations), "sources": list(self.sources),
        }
        if self.host:
            out["host"] = self.host
        if self.note:
            out["note"] = self.note
        if self.asked:
            out["asked"] = self.asked
        return out


@dataclass
class TreeResult:
    tree: str
    title: str
    result: TreeStatus = TreeStatus.RUNNING
    message: str = ""
    # result "unexplained": the symptom stands and nothing explains it (wizard/unexplained.py)
    unexplained: dict[str, Any] | None = None
    hops: bool = False   # the tree follows a packet: the runbook lists the hops and where it stops


@dataclass
class Report:
    symptoms: list[str] = field(default_factory=list)
    target: dict[str, Any] = field(default_factory=dict)
    trees: list[TreeResult] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    api_requests: int = 0
    cloud: str = ""
    started: str = ""
    cancelled: bool = False
    # finding id -> what proved its fix (an apply whose verification walk passed, this session)
    fixed: dict[str, str] = field(default_factory=dict)
    fixed_quick: list[str] = field(default_factory=list)   # of those, fixed by a quick fix (durable one still to do)

    @property
    def complete(self) -> bool:
        return not self.cancelled and all(t.result != TreeStatus.UNKNOWN for t in self.trees)

    @property
    def useful(self) -> bool:
        """Did anything come out that the operator can act on? A finding, or at least one tree
        that reached a conclusion. Steps that ran before every tree stopped at an unknown step
        do not count: "no fault found" (exit 0) must not be claimed when nothing was concluded."""
        return bool(self.findings) or any(t.result in (TreeStatus.OK, TreeStatus.UNEXPLAINED) for t in self.trees)

    @property
    def unexplained(self) -> list[TreeResult]:
        return [t for t in self.trees if t.result == TreeStatus.UNEXPLAINED]

    @property
    def open_findings(self) -> list[Finding]:
        """The findings that still stand: not fixed and verified in this session."""
        return [f for f in self.findings if f.id not in self.fixed]

    def record_fix(self, finding_id: str, how: str, *, durable: bool = True) -> None:
        """A fix of ``finding_id`` was applied and its verification walk passed: the report now says
        so everywhere it is shown (a tree whose every finding is fixed reads 'fixed', not 'fault').
        The finding stays in the report: the runbook says what was found and what fixed it."""
        if finding_id not in {f.id for f in self.findings}:
            return
        self.fixed[finding_id] = how
        if not durable and finding_id not in self.fixed_quick:
            self.fixed_quick.append(finding_id)
        elif durable and finding_id in self.fixed_quick:
            self.fixed_quick.remove(finding_id)
        for tree in self.trees:
            mine = [f.id for f in self.findings if f.tree == tree.tree]
            if tree.result == TreeStatus.FAULT and mine and all(i in self.fixed for i in mine):
                tree.result = TreeStatus.FIXED
                tree.message = "fixed and verified in this session: " + ", ".join(mine)

    def exit_code(self) -> int:
        if self.open_findings or self.unexplained:  # a symptom that stands is never "no fault" (exit 0)
            return 1
        if not self.useful:
            return 3
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "symptoms": list(self.symptoms),
            "target": dict(self.target),
            "cloud": self.cloud,
            "trees": [{"id": t.tree, "title": t.title, "result": t.result, "message": t.message}
                      | ({"unexplained": t.unexplained} if t.unexplained else {}) for t in self.trees],
            "findings": [f.to_dict() for f in self.findings],
            "steps": [s.to_dict() for s in self.steps],
            "problems": list(self.problems),
            "assumptions": list(self.assumptions),
            "api_requests": self.api_requests,
        } | ({"fixed": dict(self.fixed)} if self.fixed else {})
