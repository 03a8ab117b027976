"""Issue 20, defect 8: every option an error message names is one the CLI has."""
from __future__ import annotations

import re
from pathlib import Path

from wizard.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_flags_named_in_wizard_messages_exist():
    parser = build_parser()
    known = {opt for action in parser._actions for opt in action.option_strings}
    for sub in parser._subparsers._group_actions if parser._subparsers else []:
        for sp in sub.choices.values():
            known |= {opt for action in sp._actions for opt in action.option_strings}
    named = set()
    for path in (ROOT / "wizard" / "kolla").glob("*.py"):
        named |= set(re.findall(r"\((?:check (?:the path )?\(?)(--[a-z][a-z-]+)", path.read_text()))
    assert "--kolla-config-dir" in named
    assert named <= known, sorted(named - known)
