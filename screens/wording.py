"""Advice the engine words for the command line, said the way this screen offers it.

The probes speak to every face; where a sentence names a CLI flag for a choice the TUI offers on
screen, the screen says where that choice is instead (issue 20, defect 18)."""
from __future__ import annotations

ON_SCREEN = (
    ("(pass --server to pick another)", "(pick another on the symptom screen: esc, then tab to the list)"),
    ("pass --server to look at another one", "pick another on the symptom screen (esc, then tab to the list)"),
    ("(say --answer ssh-user=NAME to have the user you tried checked)",
     "(type the user you tried in 'SSH user you tried' on the symptom screen to have it checked)"),
)


def on_screen(text: str) -> str:
    for cli, tui in ON_SCREEN:
        if cli in text:
            text = text.replace(cli, tui)
    return text


def unique(lines: list[str]) -> list[str]:
    """Each line once, in first-seen order (a finding's evidence gathers every step on its path,
    and two steps may report the same reading)."""
    return list(dict.fromkeys(lines))
