"""Every text the code translates has its Korean form (issue 21).

The code's own text goes through ``t("English with {field}", field=...)``; this scans wizard/,
screens/ and kolla_wizard/ for every such call and asks the Korean catalogs (wizard/locale/ko*.yaml,
screens/locale/ko*.yaml) for its literal first argument. A new or reworded English string without
its Korean fails here with the file and line. (Playbook text fields: tests/unit/test_playbooks_korean.py.)"""
from __future__ import annotations

import ast
from pathlib import Path

from wizard import i18n

ROOT = Path(__file__).resolve().parents[2]
CODE = ("wizard", "screens", "kolla_wizard")


def _korean_catalog() -> dict[str, str]:
    entries = dict(i18n.read_catalog_files("ko"))
    entries.update(i18n.read_catalog_files("ko", ROOT / "screens" / "locale"))
    return entries


def _t_calls():
    """(file:line, first argument node) of every call to t / i18n.t in the code."""
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                if (isinstance(func, ast.Name) and func.id == "t") or (
                        isinstance(func, ast.Attribute) and func.attr == "t"
                        and isinstance(func.value, ast.Name) and func.value.id == "i18n"):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0]


def test_the_scan_finds_the_code_s_text():
    literals = [arg for _, arg in _t_calls() if isinstance(arg, ast.Constant)]
    assert len(literals) > 100   # the CLI, the runbook and the probes at least


def test_every_translated_literal_has_korean():
    catalog = _korean_catalog()
    missing = [f"{where}: {arg.value!r}" for where, arg in _t_calls()
               if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in catalog]
    assert not missing, ("add these to wizard/locale/ko*.yaml (screens: screens/locale/ko*.yaml), "
                         "English verbatim as the key:\n" + "\n".join(missing))


def test_korean_keeps_the_placeholders_and_the_code_spans():
    """A translation names only its key's fields, and keeps each `code span` of the key verbatim
    (commands, config keys, paths are never translated)."""
    wrong = []
    for english, korean in _korean_catalog().items():
        if not i18n.field_names(korean) <= i18n.field_names(english):
            wrong.append(f"{english!r}: fields {sorted(i18n.field_names(korean))}")
        spans = english.split("`")[1::2] if english.count("`") % 2 == 0 else []
        lost = [span for span in spans if f"`{span}`" not in korean]
        if lost:
            wrong.append(f"{english!r}: code spans {lost} not kept verbatim")
    assert not wrong, "\n".join(wrong)


def test_the_key_is_never_formatted_before_the_lookup():
    """t(f"...{x}...") or t("..." + x) can never match the catalog: the fields go in as keywords."""
    wrong = [where for where, arg in _t_calls()
             if isinstance(arg, (ast.JoinedStr, ast.BinOp))
             or (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format")]
    assert not wrong, "pass the fields as keywords: t(\"... {name} ...\", name=value): " + ", ".join(wrong)


def test_the_scan_would_catch_a_missing_entry(tmp_path):
    """The check can fail: an English string the catalogs lack is reported with its file and line."""
    package = tmp_path / "wizard"
    package.mkdir()
    (package / "x.py").write_text('from wizard.i18n import t\nprint(t("A sentence no catalog has"))\n',
                                  encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        calls = list(_t_calls())
    finally:
        ROOT = saved
    assert [(where, arg.value) for where, arg in calls] == [("wizard/x.py:2", "A sentence no catalog has")]
    assert calls[0][1].value not in _korean_catalog()
