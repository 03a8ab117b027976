"""The layering contract, over every import in the four packages (function bodies included,
relative imports resolved, ``importlib.import_module("...")`` and ``__import__("...")`` with a
literal name counted too):

    kolla_wizard/  the composition root: may import anything below
    screens/       the TUI: the core, never the lab, the composition root or the headless commands
    wizard/        the headless core: never Textual, Rich, screens, the lab or the composition root
    kolla_lab/     the lab: never the wizard, the TUI or the composition root

and, by running it, importing any ``wizard.*`` module loads none of Textual, Rich, screens, the lab
or the composition root."""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("wizard", "screens", "kolla_lab", "kolla_wizard")

# package -> top-level names (or dotted prefixes) it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "wizard": ("textual", "rich", "screens", "kolla_lab", "kolla_wizard"),
    "kolla_lab": ("wizard", "screens", "kolla_wizard"),
    # The TUI drives the engine itself; the headless front door (argv options, the stdin prompt) is not its.
    "screens": ("kolla_lab", "kolla_wizard", "wizard.cli", "wizard.ask_prompt"),
    "kolla_wizard": (),
}

# (file, imported module): the only crossings allowed, each with its reason.
EXCEPTIONS = {
    # `python -m wizard` is a launcher alias of kolla-wizard: nothing imports this module, so the
    # core itself never reaches the composition root.
    ("wizard/__main__.py", "kolla_wizard.main"),
}


def imported_modules(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, wherever it stands."""
    rel = path.relative_to(root).with_suffix("")
    package = list(rel.parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from pkg import sub` may import a submodule: count pkg.sub as well
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                found.append((node.lineno, node.args[0].value))
    return found


def _breaks(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def violations(root: Path = REPO) -> list[str]:
    out, seen = [], set()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for line, module in imported_modules(path, root):
                excepted = any(rel == f and _breaks(module, (m,)) for f, m in EXCEPTIONS)
                if _breaks(module, FORBIDDEN[package]) and not excepted and (rel, line) not in seen:
                    seen.add((rel, line))   # one line per import statement
                    out.append(f"{rel}:{line}: {package} imports {module}")
    return out


def test_every_import_keeps_the_layers():
    assert violations() == []


def test_the_four_packages_are_all_scanned():
    for package in PACKAGES:
        assert any((REPO / package).rglob("*.py")), package
    # the composition root really does reach the lab and the TUI (so the others need not)
    names = {m for _l, m in imported_modules(REPO / "kolla_wizard" / "main.py")}
    assert "kolla_lab" in names and "screens.app" in names


@pytest.mark.parametrize("package, source, bad", [
    ("wizard", "def f():\n    from screens.app import run_app\n", "screens.app"),
    ("wizard", "def f():\n    import textual\n", "textual"),
    ("wizard", "import importlib\nimportlib.import_module('kolla_lab')\n", "kolla_lab"),
    ("kolla_lab", "from wizard import probes\n", "wizard"),
    ("kolla_lab", "def f():\n    from wizard.probes import registry\n", "wizard.probes"),
    ("screens", "def f():\n    from wizard.cli import main\n", "wizard.cli"),
    ("screens", "from wizard import cli\n", "wizard.cli"),
    ("screens", "def f():\n    from kolla_wizard.main import start_lab\n", "kolla_wizard.main"),
])
def test_the_checker_sees_function_bodies_relative_and_dynamic_imports(tmp_path, package, source, bad):
    for name in PACKAGES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / package / "sub").mkdir()
    (tmp_path / package / "sub" / "mod.py").write_text(source, encoding="utf-8")
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{package}/sub/mod.py:") and bad in found[0], found


def test_allowed_imports_are_not_flagged(tmp_path):
    for name in PACKAGES:
        (tmp_path / name).mkdir()
    (tmp_path / "screens" / "ok.py").write_text("from wizard.engine import Engine\nimport textual\n", encoding="utf-8")
    # relative names resolve inside the package: wizard/rich.py is not Rich
    (tmp_path / "wizard" / "ok.py").write_text("from .readings import nodes\nfrom .rich import x\nimport yaml\n",
                                               encoding="utf-8")
    (tmp_path / "kolla_wizard" / "main.py").write_text("import kolla_lab, screens.app, wizard.cli\n", encoding="utf-8")
    assert violations(tmp_path) == []


def wizard_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(REPO / "wizard")], prefix="wizard."):
        if not info.name.endswith("__main__"):  # importing it would run the command
            names.append(info.name)
    return sorted(names)


def test_importing_the_core_loads_no_face_and_no_lab():
    modules = wizard_modules()
    assert "wizard.engine" in modules and "wizard.cli" in modules and "wizard.readings.nodes" in modules
    code = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules\n"
        "             if k.split('.')[0] in ('textual', 'rich', 'screens', 'kolla_lab', 'kolla_wizard'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=str(REPO))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"wizard.* pulled in: {result.stdout.strip()}"
