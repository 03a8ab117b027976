"""The runbook: one diagnosis as Markdown (renders cleanly on GitHub) or JSON.

Every string passes the redaction pass on the way out."""
from __future__ import annotations

import json
import re
from typing import Any

from . import textwidth
from .i18n import t
from .redact import redact
from .safetext import one_line, shown, shown_data
from .report import Report
from .status_labels import severity_label, step_label, tree_label


def _fixed() -> str:
    return t("fixed and verified in this session")


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
        return t("(empty)")
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
    add("# " + t("kolla-wizard runbook"))
    add("")
    symptoms = ", ".join(report.symptoms) or t("(none)")
    add(f"- **{t('Symptoms checked:')}** {_md_escape(symptoms)}")
    if report.cloud:
        add(f"- **{t('Cloud:')}** {_md_escape(report.cloud)}")
    if report.target:
        add(f"- **{t('Target:')}** " + ", ".join(f"{_md_escape(str(k))} {_code(v)}" for k, v in report.target.items()))
    if report.started:
        add(f"- **{t('Started:')}** {_md_escape(report.started)}")
    add(f"- **{t('Findings:')}** {len(report.findings)}" + (" (" + ", ".join(_code(f.id) for f in report.findings) + ")" if report.findings else "")
        + (f"; {_fixed()}: " + ", ".join(_code(i) for i in report.fixed) if report.fixed else ""))
    add(f"- **{t('API requests:')}** {report.api_requests}")
    add("")
    add("## " + t("Summary"))
    add("")
    add(f"| {t('Tree')} | {t('Result')} | {t('Note')} |")
    add("|---|---|---|")
    for tree in report.trees:
        add(f"| {_md_escape(tree.title, table=True)} | {_md_escape(tree_label(tree.result), table=True)} "
            f"| {_prose(tree.message, table=True)} |")
    add("")
    for finding in report.findings:
        add("## " + t("Finding {id}: {title}", id=_code(finding.id), title=_prose(finding.title)))
        add("")
        add(f"- **{t('Severity:')}** {_md_escape(severity_label(finding.severity))}")
        if finding.host:
            add(f"- **{t('Host:')}** {_code(finding.host)}")
        if finding.id in report.fixed:
            add(f"- **{t('Status:')}** {_fixed()} ({_prose(report.fixed[finding.id])})")
        add("")
        add("### " + t("Root cause"))
        add("")
        add(_line_start(_prose(finding.root_cause)))
        add("")
        if finding.evidence:
            add("### " + t("Evidence"))
            add("")
            for line in finding.evidence:
                add(f"- {_prose(line)}")
            add("")
        if finding.remedies:
            add("### " + t("Remedies"))
            add("")
            for i, remedy in enumerate(finding.remedies, 1):
                kind = t("durable fix") if remedy.durable else t("quick fix")
                add(f"{i}. **{_prose(remedy.title)}** ({kind})")
                add("")
                add(f"   {_line_start(_prose(remedy.explain))}")
                add("")
                if remedy.warning:
                    add("   > " + t("Warning: {warning}", warning=_prose(remedy.warning)))
                    add("")
                if remedy.diff:
                    files = [line[4:].strip() for line in remedy.diff.splitlines() if line.startswith("+++ ")]
                    if len(files) > 1:
                        listed = ", ".join(_code("/" + (f[2:] if f.startswith("b/") else f)) for f in files)
                    else:
                        listed = _code(remedy.path)
                    if remedy.host:
                        add("   " + t("Edit {files} on {host}:", files=listed, host=_code(remedy.host)))
                    else:
                        add("   " + t("Edit {files}:", files=listed))
                    add("")
                    add(_indent(_fence(remedy.diff, "diff")))
                    add("")
                if remedy.command:
                    if remedy.host:
                        add("   " + t("Run (on {host}):", host=_code(remedy.host)))
                    else:
                        add("   " + t("Run:"))
                    add("")
                    add(_indent(_fence(remedy.command, "bash")))
                    add("")
        add("### " + t("How to verify"))
        add("")
        add(t("Re-run the check {check}: {command} should no longer report this finding.",
              check=_code(f"{finding.tree}/{finding.step}"),
              command=_code(f"kolla-wizard diagnose --symptom {finding.tree}")))
        add("")
    for tree in report.trees:
        if tree.hops:
            _hops_markdown(add, tree, [s for s in report.steps if s.tree == tree.tree])
    for tree in report.unexplained:
        _unexplained_markdown(add, tree)
    add("## " + t("Steps"))
    add("")
    for i, step in enumerate(report.steps, 1):
        add(f"### {i}. {_prose(step.title)} ({_md_escape(step_label(step.status))})")
        add("")
        add(t("*Why:* {why}", why=_prose(step.why)))
        add("")
        add("- " + t("Tree {tree}, step {step}, probe {probe}, outcome {outcome}", tree=_code(step.tree),
                     step=_code(step.step), probe=_code(step.probe), outcome=_code(step.outcome or '-'))
            + (" " + t("(from the operator's answer)") if step.via == "answer" else ""))
        if step.sources:
            add("")
            add(t("What was asked of the cloud and the nodes:"))
            add("")
            add(_fence("\n".join(step.sources), "text"))
        if step.observations:
            add("")
            add(t("What was seen:"))
            add("")
            for line in step.observations:
                add(f"- {_prose(line)}")
        if step.asked:
            add("")
            add(t("Asked the operator: {question}", question=_prose(step.asked.get('question', ''))))
            add("")
            add(_fence(step.asked.get("command", ""), "bash"))
            if step.asked.get("reason"):
                add("")
                add(t("(The probe could not run: {reason})", reason=_prose(step.asked['reason'])))
        if step.note:
            add("")
            add(t("Note: {note}", note=_prose(step.note)))
        add("")
    if report.assumptions:
        add("## " + t("Assumptions and gaps"))
        add("")
        for line in report.assumptions:
            add(f"- {_prose(line)}")
        add("")
    if report.problems:
        add("## " + t("Problems met"))
        add("")
        for line in report.problems:
            add(f"- {_prose(line)}")
        add("")
    if applied:
        add("## " + t("Changes applied"))
        add("")
        for change in applied:
            message = f" ({change['message']})" if change.get("message") else ""
            backups = change.get("backup") or []
            if isinstance(backups, str):
                backups = [backups]
            # Each backup once, as a path: the apply message may already name them.
            said = str(change.get("message") or "")
            listed = "" if not backups or "backup" in said or t("backup") in said else (
                " (" + t("backup: {paths}", paths=", ".join(_code(b) for b in backups)) + ")")
            add(f"- {_code(change.get('remedy'))}: {_prose(str(change.get('result') or change.get('status')) + message)}"
                + listed)
        add("")
    return shown("\n".join(out).rstrip() + "\n")


def _hops_markdown(add, tree, steps) -> None:
    add("## " + t("The packet's path: {title}", title=_prose(tree.title)))
    add("")
    stopped = next((s for s in steps if s.status == "fault"), None)
    for i, step in enumerate(steps, 1):
        mark = step_label(step.status)
        where = " **" + t("the packet stops here") + "**" if step is stopped else ""
        add(f"{i}. {_md_escape(step.title)}: {_code(step.outcome or '-')} ({mark}){where}")
    add("")
    if stopped is None:
        add(t("Every hop checked answered.") if tree.result == "ok" else
            t("No hop checked stops the packet (see below for what to check next)."))
        add("")


def _unexplained_markdown(add, tree) -> None:
    info = tree.unexplained or {}
    add("## " + t("Unexplained: {title}", title=_prose(tree.title)))
    add("")
    add(t("The symptom stands and no check explains it. This is not \"no fault\": the cause lies where "
          "the wizard could not look yet."))
    add("")
    sections = ((t("Symptom confirmed by"), info.get("confirmed")),
                (t("Checked and ruled out"), info.get("ruled_out")),
                (t("Could not be checked"), info.get("not_checked")))
    for heading, lines in sections:
        add(f"### {heading}")
        add("")
        for line in lines or [t("(nothing)")]:
            add(f"- {_md_escape(line)}")
        add("")
    if info.get("continues_in"):
        add(t("Followed further in: {trees}", trees=", ".join(_code(name) for name in info["continues_in"])))
        add("")
    add("### " + t("Run next by hand"))
    add("")
    add(_fence("\n".join(info.get("commands") or []), "bash"))
    add("")


def _indent(block: str, pad: str = "   ") -> str:
    return "\n".join(pad + line if line else line for line in block.splitlines())


def to_text(report: Report) -> str:
    """Plain text for the terminal (``diagnose --format text``)."""
    out: list[str] = []
    # The result column is as wide as its widest label, in display columns (a Hangul label takes
    # two per syllable), and at least as wide as the English "UNKNOWN".
    results = [tree_label(tree.result).upper() for tree in report.trees]
    column = max([7] + [textwidth.width(label) for label in results])
    for tree, label in zip(report.trees, results):
        out.append(f"[{textwidth.pad(label, column, '>')}] {tree.title}" + (f" - {tree.message}" if tree.message else ""))
    for f in report.findings:
        out.append("")
        if f.id in report.fixed:    # the verified state, not the remedies of a fault that is gone
            out.append(t("FIXED {id} on {host}: {title}", id=f.id, host=f.host, title=f.title) if f.host
                       else t("FIXED {id}: {title}", id=f.id, title=f.title))
            out.append("  " + t("Fixed and verified in this session: {proof}", proof=report.fixed[f.id]))
            durable = [r for r in f.remedies if r.durable] if f.id in report.fixed_quick else []
            if durable:   # a quick fix holds until the next deploy: the durable one is still to do
                out.append("  " + t("Still to do, so the fix survives the next kolla-ansible deploy/reconfigure:"))
            for r in durable:
                out.append(f"  - [{t('durable')}] {r.title}")
                out.extend(f"      {line}" for line in (r.diff or "").splitlines())
                out.extend(f"      $ {line}" for line in (r.command or "").splitlines())
            continue
        heading = {"id": f.id, "severity": severity_label(f.severity), "title": f.title}
        out.append(t("FINDING {id} ({severity}) on {host}: {title}", host=f.host, **heading) if f.host
                   else t("FINDING {id} ({severity}): {title}", **heading))
        out.append("  " + t("Root cause: {cause}", cause=f.root_cause))
        for r in f.remedies:
            kind = t("durable") if r.durable else t("quick")
            out.append(f"  - [{kind}] {r.title}")
            # The file edit first: the commands (a restart, a reconfigure) depend on it.
            if r.diff:
                for line in r.diff.splitlines():
                    out.append(f"      {line}")
            if r.command:
                for line in r.command.splitlines():
                    out.append(f"      $ {line}")
    for tree in report.unexplained:
        info = tree.unexplained or {}
        out.append("")
        out.append(t("UNEXPLAINED {tree}: the symptom stands and no check explains it (not \"no fault\").",
                     tree=tree.tree))
        for heading, key in ((t("Symptom confirmed by"), "confirmed"), (t("Checked and ruled out"), "ruled_out"),
                             (t("Could not be checked"), "not_checked")):
            out.append(f"  {heading}:")
            out.extend(f"    - {line}" for line in info.get(key) or [t("(nothing)")])
        if info.get("continues_in"):
            out.append("  " + t("Followed further in: {trees}", trees=", ".join(info["continues_in"])))
        out.append("  " + t("Run next by hand:"))
        out.extend(f"      $ {c}" for c in info.get("commands") or [])
    if report.problems:
        out.append("")
        out.append(t("Problems:"))
        out.extend(f"  - {p}" for p in report.problems)
    out.append("")
    counts = {"findings": len(report.findings), "fixed": len(report.fixed),
              "unexplained": len(report.unexplained), "requests": report.api_requests}
    line = (t("{findings} finding(s), {fixed} of them fixed and verified in this session", **counts) if report.fixed
            else t("{findings} finding(s)", **counts))
    if report.unexplained:
        line += t("; {unexplained} symptom(s) unexplained", **counts)
    out.append(line + t("; {requests} API requests.", **counts))
    return shown("\n".join(out) + "\n")
