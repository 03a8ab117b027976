"""The stream of events one diagnosis produces. The TUI and the CLI both consume it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .evidence import Evidence
from .findings import Finding, Remedy
from .status import StepStatus, TreeStatus


@dataclass
class TreeStarted:
    tree: str
    title: str
    steps: list[str]           # every step of the tree, for a progress display


@dataclass
class StepStarted:
    tree: str
    step: str
    title: str
    why: str
    probe: str


@dataclass
class Output:
    tree: str
    step: str
    line: str


@dataclass
class EvidenceSeen:
    tree: str
    step: str
    evidence: Evidence


@dataclass
class Asked:
    tree: str
    step: str
    question: str
    command: str
    choices: dict[str, str]
    reason: str                # why the probe could not run


@dataclass
class StepOutcome:
    tree: str
    step: str
    outcome: str               # a declared outcome, or "unknown"
    status: StepStatus
    via: str                   # probe | answer | none
    next: str | None
    note: str = ""


@dataclass
class FindingRaised:
    tree: str
    finding: Finding


@dataclass
class RemedyOffered:
    tree: str
    finding: str
    remedy: Remedy


@dataclass
class TreeDone:
    tree: str
    result: TreeStatus
    message: str = ""
    run: list[str] = field(default_factory=list)


@dataclass
class Problem:
    """Something went wrong that the operator should read (one line); the diagnosis goes on."""
    where: str
    message: str


@dataclass
class Done:
    report: Any                # wizard.report.Report


# Every event the engine yields, in one type: what the TUI and the CLI consume.
Event = Union[TreeStarted, StepStarted, Output, EvidenceSeen, Asked, StepOutcome, FindingRaised, RemedyOffered,
              TreeDone, Problem, Done]
