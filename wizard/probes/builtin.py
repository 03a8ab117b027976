"""Imports every module that registers probes, so the registry is complete."""
from __future__ import annotations

import importlib
import pkgutil

from .. import probes as _pkg

for _mod in pkgutil.iter_modules(_pkg.__path__):
    if _mod.name not in ("registry", "builtin") and not _mod.name.startswith("_"):
        importlib.import_module(f"{_pkg.__name__}.{_mod.name}")
