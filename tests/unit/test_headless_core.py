"""wizard/ is the headless core: importing any of its modules never loads Textual or Rich,
and the wizard never imports the lab (only the CLI starts it)."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import wizard

ROOT = Path(wizard.__file__).resolve().parent


def all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(ROOT)], prefix="wizard."):
        if not info.name.endswith("__main__"):  # importing it would run the CLI
            names.append(info.name)
    return sorted(names)


def test_no_textual_or_rich_in_wizard():
    modules = all_modules()
    assert "wizard.engine" in modules and "wizard.cli" in modules
    code = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'rich', 'screens'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=str(ROOT.parent))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"wizard.* pulled in: {result.stdout.strip()}"


def test_wizard_never_imports_the_lab_and_the_lab_never_imports_the_wizard():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        in_lab = rel.startswith("wizard/lab/")
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped.startswith(("import ", "from ")):
                continue
            if in_lab:
                if ("from wizard" in stripped or "import wizard" in stripped or stripped.startswith("from ..")) \
                        and "wizard.lab" not in stripped:
                    offenders.append(f"{rel}: {stripped}")
            elif rel != "wizard/cli.py" and ("wizard.lab" in stripped or "from .lab" in stripped):
                offenders.append(f"{rel}: {stripped}")
    assert offenders == []
