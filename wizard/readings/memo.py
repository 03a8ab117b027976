"""What one diagnosis has read from the nodes, so nothing is read twice while the report is built.

A probe reads a node file or runs a read-only command (the deployed ``openvswitch_agent.ini``,
``ovs-vsctl show``, ``ip -br link``, the deploy host's ``globals.yml`` through the Kolla model);
the remedy builders that run when its finding is raised need the same text to write their diff or
check an uplink. Both ask through here, so the builders take what the walk already read instead of
going back to the node. ``Context.refresh()`` (after a fix: the proof walk must see the node as it
is now) forgets everything. Apply never reads through this: it re-reads a file itself, fresh, to
refuse an edit whose file changed since the preview.

Only readings are remembered: a file's text (or that it is missing) and a command's result.
Transport errors are not remembered (a retry may succeed)."""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Readings:
    """(host, kind, what) -> the value read, or the FileMissing raised; thread-safe, one read per
    key even when two probes ask at once."""

    def __init__(self) -> None:
        self._values: dict[tuple, Any] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, read: Callable[[], T]) -> T:
        from ..transport.base import FileMissing

        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._values:
                value = self._values[key]
                if isinstance(value, FileMissing):
                    raise value
                return value
            try:
                value = read()
            except FileMissing as exc:
                self._values[key] = exc
                raise
            self._values[key] = value
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._locks.clear()

    def __len__(self) -> int:
        return len(self._values)


def of(ctx: Any) -> Readings | None:
    """The diagnosis's readings (None: a context without them reads every time)."""
    readings = getattr(ctx, "readings", None)
    return readings if isinstance(readings, Readings) else None


class RememberingReader:
    """A deploy-host reader for the Kolla model whose file reads land in the diagnosis's readings,
    where remedy builders find globals.yml, the inventory and the overrides the model read."""

    def __init__(self, reader: Any, readings: Readings) -> None:
        self._reader = reader
        self._readings = readings
        self.name = getattr(reader, "name", "deploy")

    def read_file(self, path: str) -> str:
        return self._readings.get((self.name, "file", path), lambda: self._reader.read_file(path))

    def __getattr__(self, name: str) -> Any:   # exists, listdir, is_dir, become, ...
        return getattr(self._reader, name)
