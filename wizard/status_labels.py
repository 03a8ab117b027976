"""How a status reads to a person, in the current language. The status values themselves
(``ok``, ``fault``, ``unexplained``, ``verified``...) stay as they are in JSON and in code."""
from __future__ import annotations

from .i18n import t


def step_label(status: str) -> str:
    """A step's status in the runbook's step list and hop list."""
    labels = {
        "ok": t("ok"),
        "fault": t("FAULT"),
        "unknown": t("not checked"),
        "skipped": t("skipped"),
        "waiting": t("waiting"),
    }
    return labels.get(str(status), str(status))


def tree_label(status: str) -> str:
    """A tree's result in the summary."""
    labels = {
        "running": t("running"),
        "ok": t("ok"),
        "fault": t("fault"),
        "unknown": t("unknown"),
        "unexplained": t("unexplained"),
        "cancelled": t("cancelled"),
        "fixed": t("fixed"),
    }
    return labels.get(str(status), str(status))


def apply_label(status: str) -> str:
    """How an apply ended."""
    labels = {
        "verified": t("verified"),
        "rolled-back": t("rolled back"),
        "not-fixed": t("not fixed"),
        "unverified": t("unverified"),
        "refused": t("refused"),
        "failed": t("failed"),
        "dry-run": t("dry run"),
    }
    return labels.get(str(status), str(status))


def severity_label(severity: str) -> str:
    """A finding's severity (the playbook's value stays in JSON)."""
    labels = {"critical": t("critical"), "warning": t("warning"), "info": t("info")}
    return labels.get(str(severity), str(severity))
