"""Imports every module that registers remedy builders."""
from __future__ import annotations

import importlib
import pkgutil

from .. import remedies as _pkg

for _mod in pkgutil.iter_modules(_pkg.__path__):
    if _mod.name not in ("registry", "builtin", "quoting", "apply") and not _mod.name.startswith("_"):
        importlib.import_module(f"{_pkg.__name__}.{_mod.name}")
