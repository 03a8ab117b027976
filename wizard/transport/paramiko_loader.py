"""paramiko, imported without invoke until an ssh_config needs it.

paramiko.config imports invoke at import time (and invoke imports asyncio and unittest.mock: about
0.05 s of CPU, a twentieth of a cold diagnosis) only to evaluate ssh_config's ``Match exec`` lines,
through ``invoke.run``. While paramiko loads, a stand-in named ``invoke`` is in sys.modules; the first
attribute paramiko reads from it imports the real invoke and answers from it, so ``Match exec``
behaves as before. The stand-in leaves sys.modules as soon as paramiko is loaded: any other
``import invoke`` in the process gets the real module."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def _invoke_stand_in() -> types.ModuleType:
    stand_in = types.ModuleType("invoke")
    stand_in.__doc__ = "loads the real invoke on first use (see wizard.transport.paramiko_loader)"

    def __getattr__(name: str):
        if sys.modules.get("invoke") is stand_in:
            del sys.modules["invoke"]
        return getattr(importlib.import_module("invoke"), name)

    stand_in.__getattr__ = __getattr__  # type: ignore[attr-defined]   # PEP 562
    return stand_in


def _load_paramiko() -> types.ModuleType:
    if "paramiko" in sys.modules or "invoke" in sys.modules or importlib.util.find_spec("invoke") is None:
        import paramiko
        return paramiko
    stand_in = _invoke_stand_in()
    sys.modules["invoke"] = stand_in
    try:
        import paramiko
    finally:
        if sys.modules.get("invoke") is stand_in:
            del sys.modules["invoke"]
    return paramiko


paramiko = _load_paramiko()
