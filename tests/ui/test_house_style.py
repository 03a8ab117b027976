"""House rules for screens/: one stylesheet, theme variables only, selectors scoped by screen
class; every visible key binding has an id (for keymaps) and a tooltip."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from textual.binding import Binding
from textual.screen import Screen

import screens

STYLESHEET = Path(screens.__file__).with_name("app.tcss")
SCOPES = ("StartScreen", "SymptomScreen", "DiagnosisScreen", "FindingScreen", "LearnScreen", "RunbookScreen",
          "AskModal", "ConfirmApply", "ErrorModal", "HelpModal")


def _rules(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [sel.strip() for sel in re.findall(r"([^{}]+)\{", css)]


def test_stylesheet_uses_theme_variables_and_screen_scoped_selectors():
    css = STYLESHEET.read_text()
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b(?![-\w])\s*;", css), "hex colour in app.tcss"
    assert not re.search(r"\b(rgb|hsl)a?\(", css), "literal colour in app.tcss"
    for rule in _rules(css):
        for selector in rule.split(","):
            assert selector.strip().split()[0] in SCOPES, f"unscoped selector: {selector.strip()!r}"


def test_no_screen_has_its_own_css_path():
    for mod in pkgutil.iter_modules(screens.__path__):
        if mod.name == "__main__":
            continue
        module = importlib.import_module(f"screens.{mod.name}")
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Screen) and obj.__module__ == module.__name__:
                assert not getattr(obj, "CSS_PATH", None), f"{obj.__name__} has its own CSS_PATH"
                assert not getattr(obj, "CSS", ""), f"{obj.__name__} has inline CSS"


def test_visible_bindings_have_ids_and_tooltips():
    seen = 0
    for mod in pkgutil.walk_packages(screens.__path__, "screens."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__:
                continue
            for binding in obj.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.show:
                    seen += 1
                    assert binding.id, f"{obj.__name__}: binding {binding.key} has no id"
                    assert binding.tooltip, f"{obj.__name__}: binding {binding.key} has no tooltip"
    assert seen >= 15
