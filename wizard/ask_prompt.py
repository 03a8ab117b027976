"""`kolla-wizard diagnose` on a terminal: when a probe cannot run, ask the operator the step's
question (the same Asked event the TUI's Ask dialog shows) instead of leaving the step unknown.

Plain text on stderr, one line read from stdin; stdout stays the report (so `--format json > f`
still works while the questions appear on the terminal). Enter or EOF skips the step."""
from __future__ import annotations

from typing import Callable, TextIO

from .events import Asked
from .i18n import t
from .redact import redact

MAX_TRIES = 3


def terminal_answerer(stdin: TextIO, stderr: TextIO) -> Callable[[Asked], "str | None"]:
    def answer(asked: Asked) -> str | None:
        keys = list(asked.choices)
        lines = ["", "? " + t("{step}: the wizard could not check this itself ({reason}).",
                               step=f"{asked.tree}/{asked.step}", reason=redact(asked.reason)),
                 f"  {asked.question}"]
        if asked.command:
            lines.append("  " + t("Run: {command}", command=asked.command))
        lines += [f"  {n}) {key}: {text}" for n, (key, text) in enumerate(asked.choices.items(), start=1)]
        stderr.write("\n".join(lines) + "\n")
        for _ in range(MAX_TRIES):
            stderr.write("  " + t("Your answer (1-{last}, or Enter to skip): ", last=len(keys)))
            stderr.flush()
            reply = stdin.readline()
            if not reply or not reply.strip():        # EOF or Enter: leave the step unknown
                stderr.write("  " + t("skipped") + "\n")
                return None
            reply = reply.strip()
            if reply.isdigit() and 1 <= int(reply) <= len(keys):
                return keys[int(reply) - 1]
            if reply in asked.choices:
                return reply
            stderr.write("  " + t("{reply} is not one of 1-{last}", reply=repr(reply), last=len(keys)) + "\n")
        stderr.write("  " + t("skipped") + "\n")
        return None

    return answer
