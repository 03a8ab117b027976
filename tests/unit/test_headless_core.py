"""wizard/ is the headless core: importing any of its modules never loads Textual or Rich,
and the wizard never imports the lab (only kolla_wizard, the composition root, starts it)."""
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


def _imported_modules(path: Path) -> list[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    import ast
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                names.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.append(node.module)
    return names


def test_wizard_never_imports_the_lab_and_the_lab_never_imports_the_wizard():
    offenders = []
    for path in [*ROOT.rglob("*.py"), *(ROOT.parent / "kolla_lab").rglob("*.py")]:
        rel = path.relative_to(ROOT.parent).as_posix()
        in_lab = rel.startswith("kolla_lab/")
        for name in _imported_modules(path):
            if in_lab and name.split(".")[0] == "wizard":
                offenders.append(f"{rel}: imports {name}")
            if not in_lab and name.startswith("kolla_lab"):
                offenders.append(f"{rel}: imports {name}")
    assert offenders == []


def test_import_resolution_sees_relative_imports(tmp_path):
    # The checker must see through relative imports, or a lab module could reach the probes
    # with `from ...probes import x` unnoticed.
    names = _imported_modules(ROOT / "context.py")
    assert "wizard.errors" in names and "wizard.evidence" in names
    lab_init = ROOT.parent / "kolla_lab" / "__init__.py"
    assert all(n.split(".")[0] != "wizard" for n in _imported_modules(lab_init))
