"""The statuses a diagnosis and an apply end in, as str-valued enums.

Each member *is* its string (``StepStatus.OK == "ok"``, ``json.dumps`` writes ``"ok"``, an
f-string shows ``ok``), so the JSON, Markdown and TUI output stay exactly what they were while the
code names a closed set instead of spelling strings."""
from __future__ import annotations

from enum import Enum


class _StrEnum(str, Enum):
    # enum.StrEnum is 3.11+; the project supports 3.10.
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class StepStatus(_StrEnum):
    WAITING = "waiting"     # not reached yet
    OK = "ok"               # the branch taken is not a fault
    FAULT = "fault"         # the branch taken raises a finding
    UNKNOWN = "unknown"     # the probe could not run and nobody answered, or the branch cannot tell


class TreeStatus(_StrEnum):
    RUNNING = "running"
    OK = "ok"               # concluded: no fault on this path
    FAULT = "fault"         # at least one finding
    UNKNOWN = "unknown"     # stopped before a conclusion (never reported as "no fault")
    UNEXPLAINED = "unexplained"  # the symptom stands and no branch explains it (wizard/unexplained.py)
    CANCELLED = "cancelled"
    FIXED = "fixed"         # had findings; each was fixed and the fix verified in this session (Report.record_fix)


class ApplyStatus(_StrEnum):
    VERIFIED = "verified"        # applied, and the walk from the check step no longer reaches the finding
    ROLLED_BACK = "rolled-back"  # applied, not proven, and put back as it was
    NOT_FIXED = "not-fixed"      # applied (a kolla-ansible run), not proven; never rolled back automatically
    UNVERIFIED = "unverified"    # applied; the proof needs something the wizard does not do (a reboot)
    REFUSED = "refused"          # nothing changed: the preview is stale, the lock is held, advice only...
    FAILED = "failed"            # a change failed part way; what was done is said
    DRY_RUN = "dry-run"          # nothing changed: what would change was shown
