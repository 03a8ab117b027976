"""What the Kolla model reads through: any Transport to the deploy host, or DictReader in tests."""
from __future__ import annotations

import posixpath
from typing import Mapping, Protocol

from ..transport.base import FileMissing, TransportError
from ..i18n import t


class FileReader(Protocol):
    def read_file(self, path: str) -> str: ...

    def exists(self, path: str) -> bool: ...

    def listdir(self, path: str) -> list[str]: ...


def is_dir(reader: FileReader, path: str) -> bool:
    """Transports have no stat(); a directory is whatever listdir accepts."""
    check = getattr(reader, "is_dir", None)
    if check is not None:
        return bool(check(path))
    try:
        reader.listdir(path)
        return True
    except TransportError:
        return False


class DictReader:
    """A tiny in-memory file tree: ``DictReader({"/etc/kolla/globals.yml": "..."})``."""

    name = "dict"

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = {posixpath.normpath(path): text for path, text in files.items()}

    def read_file(self, path: str) -> str:
        path = posixpath.normpath(path)
        if path not in self.files:
            raise FileMissing(self.name, path)
        return self.files[path]

    def exists(self, path: str) -> bool:
        path = posixpath.normpath(path)
        return path in self.files or any(p.startswith(path.rstrip("/") + "/") for p in self.files)

    def listdir(self, path: str) -> list[str]:
        prefix = posixpath.normpath(path).rstrip("/") + "/"
        names = {p[len(prefix):].split("/", 1)[0] for p in self.files if p.startswith(prefix)}
        if not names:
            if prefix.rstrip("/") in self.files:
                raise TransportError(self.name, t("{path} is not a directory", path=path))
            raise FileMissing(self.name, path)
        return sorted(names)

    def is_dir(self, path: str) -> bool:
        prefix = posixpath.normpath(path).rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.files)
