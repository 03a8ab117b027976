"""Text edits behind the max-retries remedies: each returns the new content of a file, and
``unified_diff`` shows it against the current content. Pure functions, no I/O."""
from __future__ import annotations

import difflib
import re

from ..remedies.actions import FileEdit, sha256

WIZARD_MARK = "kolla-wizard"


def unified_diff(path: str, old: str, new: str) -> str:
    rel = path.lstrip("/")
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{rel}", tofile=f"b/{rel}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def file_edit(host: str | None, path: str, old: str, new: str, validate: str) -> FileEdit:
    return FileEdit(host=host, path=path, expected_sha256=sha256(old), new_content=new, validate=validate)


def set_yaml_scalar(text: str, key: str, value: str, comment: str) -> str:
    """globals.yml: set ``key: "value"``. Replaces an active line; else adds it after a commented
    sample line (``#key: ...``, as in Kolla's globals.yml); else appends with a comment."""
    rendered = f'{key}: "{value}"'
    lines = text.splitlines(keepends=True)
    active = re.compile(rf"^{re.escape(key)}\s*:")
    for i, line in enumerate(lines):
        bare = _without_bom(line, i)     # a UTF-8 BOM must not hide the first key
        if active.match(bare):
            lines[i] = line[:len(line) - len(bare)] + rendered + _ending(line)
            return "".join(lines)
    sample = re.compile(rf"^#\s*{re.escape(key)}\s*:")
    for i, line in enumerate(lines):
        if sample.match(_without_bom(line, i)):
            lines.insert(i + 1, rendered + _ending(line))
            return "".join(lines)
    body = "".join(lines)
    if body and not body.endswith("\n"):
        body += "\n"
    return body + f"# {comment} ({WIZARD_MARK})\n{rendered}\n"


def _without_bom(line: str, index: int) -> str:
    return line[1:] if index == 0 and line.startswith("\ufeff") else line


def _ending(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


def comment_out_line(text: str, line_number: int, reason: str) -> str | None:
    """Comment out 1-based ``line_number`` with a note above it; None if it is not an active line."""
    lines = text.splitlines(keepends=True)
    if not 1 <= line_number <= len(lines):
        return None
    line = lines[line_number - 1]
    if not line.strip() or line.lstrip().startswith(("#", ";")):
        return None
    ending = "\n" if line.endswith("\n") else ""
    lines[line_number - 1] = f"# {reason} ({WIZARD_MARK})\n# {line.rstrip(chr(10))}{ending or chr(10)}"
    return "".join(lines)


def set_ini_option(text: str, section: str, key: str, value: str) -> str:
    """oslo INI: set ``key = value`` in ``[section]`` (replacing an existing key there), adding the
    section at the end if it is missing."""
    lines = text.splitlines(keepends=True)
    header = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*[=:]")
    start = None
    end = len(lines)
    for i, line in enumerate(lines):
        match = header.match(_without_bom(line, i))
        if match:
            if start is not None:
                end = i
                break
            if match.group("name").strip() == section:
                start = i
    new_line = f"{key} = {value}\n"
    if start is None:
        body = "".join(lines)
        if body and not body.endswith("\n"):
            body += "\n"
        return body + ("\n" if body else "") + f"[{section}]\n" + new_line
    for i in range(start + 1, end):
        if key_re.match(lines[i]):
            lines[i] = new_line
            return "".join(lines)
    lines.insert(start + 1, new_line)
    return "".join(lines)
