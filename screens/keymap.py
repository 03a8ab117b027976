"""The operator's keymap: ``keymap.yaml`` maps binding ids (shown by the help screen, ``?``) to keys.

Looked up at ``$KOLLA_WIZARD_KEYMAP``, else ``$XDG_CONFIG_HOME/kolla-wizard/keymap.yaml`` (default
``~/.config/kolla-wizard/keymap.yaml``). A missing default file is fine; a named file that is
missing, unreadable, not a mapping, or naming an unknown binding id is a one-line error."""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from pathlib import Path
from typing import Mapping

from textual.binding import Binding

MAX_BYTES = 64 * 1024


def default_path(environ: Mapping[str, str] = os.environ) -> tuple[Path, bool]:
    """(path, named): ``named`` is True when the operator pointed at the file explicitly."""
    if environ.get("KOLLA_WIZARD_KEYMAP"):
        return Path(environ["KOLLA_WIZARD_KEYMAP"]).expanduser(), True
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "kolla-wizard" / "keymap.yaml", False


def binding_ids() -> dict[str, Binding]:
    """Every binding id in screens/, with its binding (the keymap may name only these)."""
    import screens
    found: dict[str, Binding] = {}
    for mod in pkgutil.walk_packages(screens.__path__, "screens."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__:
                continue
            for binding in obj.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    found.setdefault(binding.id, binding)
    return found


def load_keymap(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    import yaml

    from wizard.errors import ConfigError

    from .i18n import t

    named = path is not None
    if path is None:
        path, named = default_path(environ)
    if not path.exists():
        if named:
            raise ConfigError(str(path), t("keymap file not found"), t("create it or unset KOLLA_WIZARD_KEYMAP"))
        return {}
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(str(path), t("cannot read the keymap ({reason})", reason=exc.strerror),
                          t("check its permissions")) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(str(path), t("keymap larger than {size} bytes", size=MAX_BYTES), t("a keymap is a few lines"))
    try:
        data = yaml.safe_load(raw.decode("utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"{path}:{line + 1}" if line is not None else str(path)
        raise ConfigError(where, t("not valid YAML"), t("write one 'binding.id: key' per line")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), t("the keymap must be a mapping"), t("write one 'binding.id: key' per line"))
    known = binding_ids()
    keymap: dict[str, str] = {}
    for key, value in data.items():
        if str(key) not in known:
            raise ConfigError(str(path), t("unknown binding id {id}", id=repr(str(key)[:60])),
                              t("press ? in the wizard to see the ids, e.g. finding.copy"))
        if not isinstance(value, str) or not value.strip() or any(ord(c) < 32 for c in value):
            raise ConfigError(str(path), t("{id}: the key must be text such as 'c' or 'ctrl+y'", id=key),
                              t("see `textual keys` for key names"))
        keymap[str(key)] = value.strip()
    return keymap
