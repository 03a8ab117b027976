"""The runbook: one diagnosis as Markdown (renders cleanly on GitHub) or JSON.

Every string passes the redaction pass on the way out."""
from __future__ import annotations

import json
import re
from typing import Any

from .redact import redact
from .safetext import one_line, shown, shown_data
from .report import Report

_STATUS = {"ok": "ok", "fault": "FAULT", "unknown": "not checked", "skipped": "skipped", "waiting": "waiting"}
_FIXED = "fixed and verified in this session"


def _fence(body: str, lang: str = "") -> str:
    """A fenced block that its body cannot close: the fence is longer than any backtick run in it."""
    body = shown(body)
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    return f"{fence}{lang}\n{body.rstrip()}\n{fence}"


def _longest_run(text: str, ch: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == ch else 0
        best = max(best, run)
    return best


def _join(pieces: list[str]) -> str:
    """Pieces of one line; two code spans never touch (their backtick runs would merge into one)."""
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        # (an escaped backtick, \\`, is a literal: only a span's fence can merge with the next one)
        if out and out[-1].endswith("`") and not out[-1].endswith("\\`") and piece.startswith("`"):
            out.append(" ")
        out.append(piece)
    return "".join(out)


def _code(text: Any, *, table: bool = False) -> str:
    """An inline code span its content cannot break out of (CommonMark: a span closes only on a
    backtick run of the same length, and is never a link, HTML or emphasis). One line, redacted,
    control characters inert; a leading or trailing backtick or space is padded so it survives."""
    text = one_line(redact(str(text)))
    if not text.strip():
        return "(empty)"
    fence = "`" * (_longest_run(text, "`") + 1)
    if text[0] in "` " or text[-1] in "` \\":
        text = f" {text} "
    if table:   # GFM splits a table row on '|' even inside a code span, unless it is escaped
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


# What CommonMark/GFM (and GitHub's $math$) give a meaning to inline, backslash-escaped; the
# line-start constructs (lists, headings, quotes) are handled by _line_start: prose never starts a
# line except through it.
_MD_SPECIAL = set("\\`*_[]<>|!#&~$")
_LIST_MARK = re.compile(r"(\s*)(\d{1,9})([.)])")


def _md_escape(text: Any, *, table: bool = False) -> str:
    """Prose from the cloud, the nodes or the operator: redacted, one line, every Markdown
    character escaped, and anything a renderer would turn into a link (scheme://, www.) put in a
    code span, so no link, image, HTML or emphasis can come out of it."""
    # Redact first: escaping would otherwise split a secret (a_b -> a\\_b) past the final pass.
    text = one_line(redact(str(text)))
    out: list[str] = []
    for word in _split_keep_spaces(text):
        if _linkish(word):
            out.append(_code(word, table=table))
        else:
            out.append("".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in word))
    # Wherever it lands (after "- ", at a line's start), its own start cannot open a list or quote.
    return _line_start(_join(out))


def _split_keep_spaces(text: str) -> list[str]:
    return [part for part in re.split(r"(\s+)", text) if part]


def _linkish(word: str) -> bool:
    lower = word.lower()
    return "://" in lower or "www." in lower or "@" in lower and "." in lower or lower.startswith("mailto:")


def _line_start(text: str) -> str:
    """Prose that starts a line: a leading list number, -, +, =, > or # cannot start a block."""
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    if stripped[:1] in ("-", "+", "=", ">", "#", "*"):
        return lead + "\\" + stripped
    numbered = _LIST_MARK.match(text)
    if numbered:
        return numbered.group(1) + numbered.group(2) + "\\" + text[numbered.end(2):]
    return text


def _prose(text: Any, *, table: bool = False) -> str:
    """Prose written by a playbook with `code` spans, holding cloud values: each span is rebuilt
    with _code, everything between with _md_escape (a value holding a backtick changes which part
    is code, never what the Markdown can do)."""
    parts = one_line(redact(str(text))).split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 and i < len(parts) - 1 and not part.strip():
            out.append(_md_escape("`" + part + "`", table=table))    # `` or ` `: literal backticks, not a span
        elif i % 2 and i < len(parts) - 1:
            out.append(_code(part, table=table))
        else:
            out.append(_md_escape(part if i % 2 == 0 else "`" + part, table=table))
    return _join(out)


def to_json(report: Report) -> str:
    return shown(json.dumps(shown_data(report.to_dict()), indent=2, sort_keys=False, ensure_ascii=False))


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
        add("- **Target:** " + ", ".join(f"{_md_escape(str(k))} {_code(v)}" for k, v in report.target.items()))
    if report.started:
        add(f"- **Started:** {_md_escape(report.started)}")
    add(f"- **Findings:** {len(report.findings)}" + (" (" + ", ".join(_code(f.id) for f in report.findings) + ")" if report.findings else "")
        + (f"; {_FIXED}: " + ", ".join(_code(i) for i in report.fixed) if report.fixed else ""))
    add(f"- **API requests:** {report.api_requests}")
    add("")
    add("## Summary")
    add("")
    add("| Tree | Result | Note |")
    add("|---|---|---|")
    for t in report.trees:
        add(f"| {_md_escape(t.title, table=True)} | {_md_escape(t.result, table=True)} | {_prose(t.message, table=True)} |")
    add("")
    for finding in report.findings:
        add(f"## Finding {_code(finding.id)}: {_prose(finding.title)}")
        add("")
        add(f"- **Severity:** {_md_escape(finding.severity)}")
        if finding.host:
            add(f"- **Host:** {_code(finding.host)}")
        if finding.id in report.fixed:
            add(f"- **Status:** {_FIXED} ({_prose(report.fixed[finding.id])})")
        add("")
        add("### Root cause")
        add("")
        add(_line_start(_prose(finding.root_cause)))
        add("")
        if finding.evidence:
            add("### Evidence")
            add("")
            for line in finding.evidence:
                add(f"- {_prose(line)}")
            add("")
        if finding.remedies:
            add("### Remedies")
            add("")
            for i, remedy in enumerate(finding.remedies, 1):
                kind = "durable fix" if remedy.durable else "quick fix"
                add(f"{i}. **{_prose(remedy.title)}** ({kind})")
                add("")
                add(f"   {_line_start(_prose(remedy.explain))}")
                add("")
                if remedy.warning:
                    add(f"   > Warning: {_prose(remedy.warning)}")
                    add("")
                if remedy.diff:
                    where = f" on {_code(remedy.host)}" if remedy.host else ""
                    files = [line[4:].strip() for line in remedy.diff.splitlines() if line.startswith("+++ ")]
                    if len(files) > 1:
                        listed = ", ".join(_code("/" + (f[2:] if f.startswith("b/") else f)) for f in files)
                        add(f"   Edit {listed}{where}:")
                    else:
                        add(f"   Edit {_code(remedy.path)}{where}:")
                    add("")
                    add(_indent(_fence(remedy.diff, "diff")))
                    add("")
                if remedy.command:
                    where = f" (on {_code(remedy.host)})" if remedy.host else ""
                    add(f"   Run{where}:")
                    add("")
                    add(_indent(_fence(remedy.command, "bash")))
                    add("")
        add("### How to verify")
        add("")
        add(f"Re-run the check {_code(f'{finding.tree}/{finding.step}')}: "
            f"{_code(f'kolla-wizard diagnose --symptom {finding.tree}')} should no longer report this finding.")
        add("")
    for tree in report.trees:
        if tree.hops:
            _hops_markdown(add, tree, [s for s in report.steps if s.tree == tree.tree])
    for tree in report.unexplained:
        _unexplained_markdown(add, tree)
    add("## Steps")
    add("")
    for i, step in enumerate(report.steps, 1):
        add(f"### {i}. {_prose(step.title)} ({_md_escape(_STATUS.get(step.status, step.status))})")
        add("")
        add(f"*Why:* {_prose(step.why)}")
        add("")
        add(f"- Tree {_code(step.tree)}, step {_code(step.step)}, probe {_code(step.probe)}, outcome {_code(step.outcome or '-')}"
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
                add(f"- {_prose(line)}")
        if step.asked:
            add("")
            add(f"Asked the operator: {_prose(step.asked.get('question', ''))}")
            add("")
            add(_fence(step.asked.get("command", ""), "bash"))
            if step.asked.get("reason"):
                add("")
                add(f"(The probe could not run: {_prose(step.asked['reason'])})")
        if step.note:
            add("")
            add(f"Note: {_prose(step.note)}")
        add("")
    if report.assumptions:
        add("## Assumptions and gaps")
        add("")
        for line in report.assumptions:
            add(f"- {_prose(line)}")
        add("")
    if report.problems:
        add("## Problems met")
        add("")
        for line in report.problems:
            add(f"- {_prose(line)}")
        add("")
    if applied:
        add("## Changes applied")
        add("")
        for change in applied:
            message = f" ({change['message']})" if change.get("message") else ""
            backups = change.get("backup") or []
            if isinstance(backups, str):
                backups = [backups]
            # Each backup once, as a path: the apply message may already name them.
            listed = "" if not backups or "backup" in str(change.get("message") or "") else (
                " (backup: " + ", ".join(_code(b) for b in backups) + ")")
            add(f"- {_code(change.get('remedy'))}: {_prose(str(change.get('result') or change.get('status')) + message)}"
                + listed)
        add("")
    return shown("\n".join(out).rstrip() + "\n")


def _hops_markdown(add, tree, steps) -> None:
    add(f"## The packet's path: {_prose(tree.title)}")
    add("")
    stopped = next((s for s in steps if s.status == "fault"), None)
    for i, step in enumerate(steps, 1):
        mark = _STATUS.get(step.status, step.status)
        where = " **the packet stops here**" if step is stopped else ""
        add(f"{i}. {_md_escape(step.title)}: {_code(step.outcome or '-')} ({mark}){where}")
    add("")
    if stopped is None:
        add("Every hop checked answered." if tree.result == "ok" else
            "No hop checked stops the packet (see below for what to check next).")
        add("")


def _unexplained_markdown(add, tree) -> None:
    info = tree.unexplained or {}
    add(f"## Unexplained: {_prose(tree.title)}")
    add("")
    add("The symptom stands and no check explains it. This is not \"no fault\": the cause lies where "
        "the wizard could not look yet.")
    add("")
    sections = (("Symptom confirmed by", info.get("confirmed")), ("Checked and ruled out", info.get("ruled_out")),
                ("Could not be checked", info.get("not_checked")))
    for heading, lines in sections:
        add(f"### {heading}")
        add("")
        for line in lines or ["(nothing)"]:
            add(f"- {_md_escape(line)}")
        add("")
    if info.get("continues_in"):
        add("Followed further in: " + ", ".join(_code(t) for t in info["continues_in"]))
        add("")
    add("### Run next by hand")
    add("")
    add(_fence("\n".join(info.get("commands") or []), "bash"))
    add("")


def _indent(block: str, pad: str = "   ") -> str:
    return "\n".join(pad + line if line else line for line in block.splitlines())


def to_text(report: Report) -> str:
    """Plain text for the terminal (``diagnose --format text``)."""
    out: list[str] = []
    for t in report.trees:
        out.append(f"[{t.result.upper():>7}] {t.title}" + (f" - {t.message}" if t.message else ""))
    for f in report.findings:
        out.append("")
        if f.id in report.fixed:    # the verified state, not the remedies of a fault that is gone
            out.append(f"FIXED {f.id}" + (f" on {f.host}" if f.host else "") + f": {f.title}")
            out.append(f"  {_FIXED[:1].upper() + _FIXED[1:]}: {report.fixed[f.id]}")
            continue
        out.append(f"FINDING {f.id} ({f.severity})" + (f" on {f.host}" if f.host else "") + f": {f.title}")
        out.append(f"  Root cause: {f.root_cause}")
        for r in f.remedies:
            kind = "durable" if r.durable else "quick"
            out.append(f"  - [{kind}] {r.title}")
            # The file edit first: the commands (a restart, a reconfigure) depend on it.
            if r.diff:
                for line in r.diff.splitlines():
                    out.append(f"      {line}")
            if r.command:
                for line in r.command.splitlines():
                    out.append(f"      $ {line}")
    for t in report.unexplained:
        info = t.unexplained or {}
        out.append("")
        out.append(f"UNEXPLAINED {t.tree}: the symptom stands and no check explains it (not \"no fault\").")
        for heading, key in (("Symptom confirmed by", "confirmed"), ("Checked and ruled out", "ruled_out"),
                             ("Could not be checked", "not_checked")):
            out.append(f"  {heading}:")
            out.extend(f"    - {line}" for line in info.get(key) or ["(nothing)"])
        if info.get("continues_in"):
            out.append(f"  Followed further in: {', '.join(info['continues_in'])}")
        out.append("  Run next by hand:")
        out.extend(f"      $ {c}" for c in info.get("commands") or [])
    if report.problems:
        out.append("")
        out.append("Problems:")
        out.extend(f"  - {p}" for p in report.problems)
    out.append("")
    out.append(f"{len(report.findings)} finding(s)"
               + (f", {len(report.fixed)} of them {_FIXED}" if report.fixed else "")
               + (f"; {len(report.unexplained)} symptom(s) unexplained" if report.unexplained else "")
               + f"; {report.api_requests} API requests.")
    return shown("\n".join(out) + "\n")
