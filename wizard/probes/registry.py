"""The probe registry. A probe is a small function over a transport that returns Evidence.

    @probe("server_fault", outcomes=("max-retries", "no-valid-host", "active", "other"),
           summary="Read the server's status and fault", requires="cloud")
    def server_fault(ctx, args, emit) -> Evidence: ...

``emit(line)`` streams progress text to whoever is watching (TUI log, CLI verbose).
Every probe may also raise ProbeUnavailable; 'unavailable' is not a declared outcome."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..evidence import Evidence
from ..probe_context import ProbeContext

Emit = Callable[[str], None]
ProbeFunc = Callable[[ProbeContext, Mapping[str, Any], Emit], Evidence]

REQUIRES = ("cloud", "node", "deploy", "none")


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    func: ProbeFunc
    outcomes: tuple[str, ...]
    summary: str
    requires: str
    args: tuple[str, ...] = ()
    # The facts (keys of ctx.facts) the probe cannot work without, and those it may leave for the
    # steps after it. `playbooks check` rejects a tree in which a step needing a fact can be reached
    # on a path where no earlier step provides it.
    needs: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()


_REGISTRY: dict[str, ProbeSpec] = {}


def probe(
    name: str,
    *,
    outcomes: tuple[str, ...],
    summary: str,
    requires: str = "cloud",
    args: tuple[str, ...] = (),
    needs: tuple[str, ...] = (),
    provides: tuple[str, ...] = (),
) -> Callable[[ProbeFunc], ProbeFunc]:
    if requires not in REQUIRES:
        raise ValueError(f"probe {name}: requires must be one of {REQUIRES}")

    def register(func: ProbeFunc) -> ProbeFunc:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"probe {name} registered twice")
        _REGISTRY[name] = ProbeSpec(name, func, tuple(outcomes), summary, requires, tuple(args),
                                    tuple(needs), tuple(provides))
        return func

    return register


def registry() -> Mapping[str, ProbeSpec]:
    load_builtin_probes()
    return _REGISTRY


def get(name: str) -> ProbeSpec:
    return registry()[name]


def load_builtin_probes() -> None:
    """Import the modules that register probes (idempotent)."""
    from . import builtin  # noqa: F401
