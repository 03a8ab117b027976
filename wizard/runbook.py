"""The runbook: one diagnosis as Markdown (renders cleanly on GitHub) or JSON.

Every string passes the redaction pass on the way out."""
from __future__ import annotations

import json
from typing import Any

from .redact import redact, redact_data
from .report import Report

_STATUS = {"ok": "ok", "fault": "FAULT", "unknown": "not checked", "skipped": "skipped", "waiting": "waiting"}


def _fence(body: str, lang: str = "") -> str:
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}{lang}\n{body.rstrip()}\n{fence}"


def _md_escape(text: str) -> str:
    # Redact first: escaping would otherwise split a secret (a_b -> a\\_b) past the final pass.
    text = redact(text)
    # Names from the cloud can hold Markdown; keep them literal in prose.
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "|"):
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def to_json(report: Report) -> str:
    return json.dumps(redact_data(report.to_dict()), indent=2, sort_keys=False, ensure_ascii=False)


def to_markdown(report: Report, *, applied: list[dict[str, Any]] | None = None) -> str:
    out: list[str] = []
    add = out.append
    add("# kolla-wizard runbook")
    add("")
    symptoms = ", ".join(report.symptoms) or "(none)"
    add(f"- **Symptoms checked:** {_md_escape(symptoms)}")
    if report.cloud:
        add(f"- **Cloud:** {_md_escape(report.cloud)}")
    if report.target:
        add("- **Target:** " + ", ".join(f"{_md_escape(str(k))} `{v}`" for k, v in report.target.items()))
    if report.started:
        add(f"- **Started:** {report.started}")
    add(f"- **Findings:** {len(report.findings)}" + (" (" + ", ".join(f"`{f.id}`" for f in report.findings) + ")" if report.findings else ""))
    add(f"- **API requests:** {report.api_requests}")
    add("")
    add("## Summary")
    add("")
    add("| Tree | Result | Note |")
    add("|---|---|---|")
    for t in report.trees:
        add(f"| {_md_escape(t.title)} | {t.result} | {_md_escape(t.message)} |")
    add("")
    for finding in report.findings:
        add(f"## Finding `{finding.id}`: {_md_escape(finding.title)}")
        add("")
        add(f"- **Severity:** {finding.severity}")
        if finding.host:
            add(f"- **Host:** `{finding.host}`")
        add("")
        add("### Root cause")
        add("")
        add(finding.root_cause)
        add("")
        if finding.evidence:
            add("### Evidence")
            add("")
            for line in finding.evidence:
                add(f"- {_md_escape(line)}")
            add("")
        if finding.remedies:
            add("### Remedies")
            add("")
            for i, remedy in enumerate(finding.remedies, 1):
                kind = "durable fix" if remedy.durable else "quick fix"
                add(f"{i}. **{_md_escape(remedy.title)}** ({kind})")
                add("")
                add(f"   {remedy.explain}")
                add("")
                if remedy.warning:
                    add(f"   > Warning: {remedy.warning}")
                    add("")
                if remedy.diff:
                    where = f" on `{remedy.host}`" if remedy.host else ""
                    files = [line[4:].strip() for line in remedy.diff.splitlines() if line.startswith("+++ ")]
                    if len(files) > 1:
                        listed = ", ".join(f"`/{f[2:] if f.startswith('b/') else f}`" for f in files)
                        add(f"   Edit {listed}{where}:")
                    else:
                        add(f"   Edit `{remedy.path}`{where}:")
                    add("")
                    add(_indent(_fence(remedy.diff, "diff")))
                    add("")
                if remedy.command:
                    where = f" (on `{remedy.host}`)" if remedy.host else ""
                    add(f"   Run{where}:")
                    add("")
                    add(_indent(_fence(remedy.command, "bash")))
                    add("")
        add("### How to verify")
        add("")
        add(f"Re-run the check `{finding.tree}/{finding.step}`: `kolla-wizard diagnose --symptom {finding.tree}` "
            "should no longer report this finding.")
        add("")
    add("## Steps")
    add("")
    for i, step in enumerate(report.steps, 1):
        add(f"### {i}. {_md_escape(step.title)} ({_STATUS.get(step.status, step.status)})")
        add("")
        add(f"*Why:* {step.why}")
        add("")
        add(f"- Tree `{step.tree}`, step `{step.step}`, probe `{step.probe}`, outcome `{step.outcome or '-'}`"
            + (f" (from the operator's answer)" if step.via == "answer" else ""))
        if step.sources:
            add("")
            add("What was asked of the cloud and the nodes:")
            add("")
            add(_fence("\n".join(step.sources), "text"))
        if step.observations:
            add("")
            add("What was seen:")
            add("")
            for line in step.observations:
                add(f"- {_md_escape(line)}")
        if step.asked:
            add("")
            add(f"Asked the operator: {_md_escape(step.asked.get('question', ''))}")
            add("")
            add(_fence(step.asked.get("command", ""), "bash"))
            if step.asked.get("reason"):
                add("")
                add(f"(The probe could not run: {_md_escape(step.asked['reason'])})")
        if step.note:
            add("")
            add(f"Note: {_md_escape(step.note)}")
        add("")
    if report.assumptions:
        add("## Assumptions and gaps")
        add("")
        for line in report.assumptions:
            add(f"- {_md_escape(line)}")
        add("")
    if report.problems:
        add("## Problems met")
        add("")
        for line in report.problems:
            add(f"- {_md_escape(line)}")
        add("")
    if applied:
        add("## Changes applied")
        add("")
        for change in applied:
            message = f" ({change['message']})" if change.get("message") else ""
            add(f"- `{change.get('remedy')}`: {_md_escape(str(change.get('result')) + message)}"
                + (f" (backup: `{change['backup']}`)" if change.get("backup") else ""))
        add("")
    return redact("\n".join(out).rstrip() + "\n")


def _indent(block: str, pad: str = "   ") -> str:
    return "\n".join(pad + line if line else line for line in block.splitlines())


def to_text(report: Report) -> str:
    """Plain text for the terminal (``diagnose --format text``)."""
    out: list[str] = []
    for t in report.trees:
        out.append(f"[{t.result.upper():>7}] {t.title}" + (f" - {t.message}" if t.message else ""))
    for f in report.findings:
        out.append("")
        out.append(f"FINDING {f.id} ({f.severity})" + (f" on {f.host}" if f.host else "") + f": {f.title}")
        out.append(f"  Root cause: {f.root_cause}")
        for r in f.remedies:
            kind = "durable" if r.durable else "quick"
            out.append(f"  - [{kind}] {r.title}")
            if r.command:
                for line in r.command.splitlines():
                    out.append(f"      $ {line}")
            if r.diff:
                for line in r.diff.splitlines():
                    out.append(f"      {line}")
    if report.problems:
        out.append("")
        out.append("Problems:")
        out.extend(f"  - {p}" for p in report.problems)
    out.append("")
    out.append(f"{len(report.findings)} finding(s); {report.api_requests} API requests.")
    return redact("\n".join(out) + "\n")
