"""The wheel ships every package and the playbooks (an installed copy must find them)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("wizard", "screens", "kolla_lab", "kolla_wizard")
        for p in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    # The playbooks are mapped into the package at build time.
    assert config["tool"]["setuptools"]["package-dir"]["wizard.playbooks"] == "playbooks"
    assert "*.yaml" in config["tool"]["setuptools"]["package-data"]["wizard.playbooks"]
