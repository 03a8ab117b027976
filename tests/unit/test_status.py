"""Statuses are enums that are their strings: the JSON, Markdown and TUI read exactly as before."""
from __future__ import annotations

import json

from wizard.report import Report, StepRecord, TreeResult
from wizard.status import ApplyStatus, StepStatus, TreeStatus


def test_a_status_is_its_string_everywhere_it_is_written():
    assert json.dumps({"status": StepStatus.FAULT, "result": TreeStatus.OK}) == '{"status": "fault", "result": "ok"}'
    assert f"{ApplyStatus.ROLLED_BACK}: restored" == "rolled-back: restored"
    assert str(ApplyStatus.DRY_RUN) == "dry-run" and "%s" % TreeStatus.UNKNOWN == "unknown"
    assert StepStatus.UNKNOWN == "unknown" and {"ok": 1}[StepStatus.OK] == 1


def test_the_closed_sets():
    assert [s.value for s in StepStatus] == ["waiting", "ok", "fault", "unknown"]
    assert [s.value for s in TreeStatus] == ["running", "ok", "fault", "unknown", "unexplained", "cancelled",
                                             "fixed"]
    assert [s.value for s in ApplyStatus] == ["verified", "rolled-back", "not-fixed", "unverified", "refused",
                                              "failed", "dry-run"]


def test_report_defaults_and_exit_codes_read_the_enums():
    report = Report(trees=[TreeResult("t", "T")], steps=[StepRecord("t", "s", "S", "w", "p")])
    assert report.steps[0].status is StepStatus.WAITING and report.trees[0].result is TreeStatus.RUNNING
    report.trees[0].result = TreeStatus.UNKNOWN
    assert not report.complete and report.exit_code() == 3
    report.trees[0].result = TreeStatus.OK
    assert report.complete and report.exit_code() == 0
