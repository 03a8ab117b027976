"""The deploy host itself: the same Transport interface over subprocess, without a shell."""
from __future__ import annotations

import os
import shlex
import socket
import subprocess
import tempfile

from ..i18n import t
from ..redact import learn_file
from .base import (MAX_OUTPUT_BYTES, CommandResult, CommandTimeout, FileMissing, OutputTooLarge,
                   TransportError, check_sudo, command_text)


class LocalTransport:
    def __init__(self, name: str | None = None, *, command_timeout: float = 15.0,
                 become: bool = False) -> None:
        self.name = name or socket.gethostname()
        self.command_timeout = command_timeout
        self.become = become

    def run(self, command: list[str] | str, *, sudo: bool = False,
            timeout: float | None = None) -> CommandResult:
        # A str is split like a shell would split words, but never given to a shell: no pipes,
        # no globbing, no expansion. Callers that need a pipeline pass ["sh", "-c", ...] themselves.
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise TransportError(self.name, "empty command")
        # root needs no sudo (and a minimal deploy host may not have it installed).
        if sudo and os.geteuid() != 0:
            argv = ["sudo", "-n", "--", *argv]
        text = command_text(command)
        limit = timeout if timeout is not None else self.command_timeout
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except FileNotFoundError:
            return CommandResult(text, 127, "", f"{argv[0]}: command not found", self.name)
        except OSError as exc:
            raise TransportError(self.name, f"cannot run {text}: {exc.strerror}") from None
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise CommandTimeout(self.name, t('{text} did not finish within {limit:g}s', text=text, limit=limit),
                                 t('the host may be overloaded; retry or raise the timeout')) from None
        if len(out) + len(err) > MAX_OUTPUT_BYTES:
            raise OutputTooLarge(self.name, t('{text} printed more than {max_bytes} bytes',
                                              text=text, max_bytes=MAX_OUTPUT_BYTES),
                                 t('narrow the command (grep, tail)'))
        result = CommandResult(text, proc.returncode, out.decode("utf-8", "replace"),
                               err.decode("utf-8", "replace"), self.name)
        return check_sudo(result) if sudo else result

    def read_file(self, path: str) -> str:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_OUTPUT_BYTES + 1)
        except FileNotFoundError:
            raise FileMissing(self.name, path) from None
        except IsADirectoryError:
            raise TransportError(self.name, f"{path} is a directory, not a file") from None
        except PermissionError:
            raise TransportError(self.name, t('permission denied reading {path}', path=path),
                                 t('run the wizard as a user that can read /etc/kolla')) from None
        if len(data) > MAX_OUTPUT_BYTES:
            raise OutputTooLarge(self.name, t('{path} is larger than {max_bytes} bytes',
                                              path=path, max_bytes=MAX_OUTPUT_BYTES))
        text = data.decode("utf-8", "replace")
        learn_file(path, text)    # its secrets are masked on every output from now on
        return text

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            raise FileMissing(self.name, path) from None
        except NotADirectoryError:
            raise TransportError(self.name, f"{path} is not a directory") from None
        except PermissionError:
            raise TransportError(self.name, t('permission denied listing {path}', path=path)) from None

    def read_bytes(self, path: str) -> bytes:
        """The file's exact bytes (a backup, a rewrite that must keep what it does not change)."""
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_OUTPUT_BYTES + 1)
        except FileNotFoundError:
            raise FileMissing(self.name, path) from None
        except OSError as exc:
            raise TransportError(self.name, f"cannot read {path}: {exc.strerror}") from None
        if len(data) > MAX_OUTPUT_BYTES:
            raise OutputTooLarge(self.name, t('{path} is larger than {max_bytes} bytes',
                                              path=path, max_bytes=MAX_OUTPUT_BYTES))
        return data

    def write_file_atomic(self, path: str, content: str | bytes, *, like: str | None = None) -> None:
        """Temp file beside the target, fsync, rename over it. A symlink is written through (its
        target is replaced, the link stays); mode and owner are the replaced file's, or ``like``'s
        (a backup keeps the original's 0600 and owner)."""
        if os.path.islink(path):
            path = os.path.realpath(path)
        directory = os.path.dirname(path) or "."
        uid = gid = None
        try:
            st = os.stat(like or path)
            mode, uid, gid = st.st_mode & 0o7777, st.st_uid, st.st_gid
        except FileNotFoundError:
            mode = 0o644
        try:
            fd, temp = tempfile.mkstemp(prefix=".kolla-wizard.", dir=directory)
        except OSError as exc:
            raise TransportError(self.name, t('cannot write in {directory}: {strerror}',
                                              directory=directory, strerror=exc.strerror)) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape"))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            if uid is not None and (uid, gid) != (os.getuid(), os.getgid()):
                try:
                    os.chown(temp, uid, gid)
                except PermissionError:
                    pass   # not root: the file was writable to us, so it stays ours
            # rename within one directory is atomic: readers see the old or the new file, never half.
            os.replace(temp, path)
        except OSError as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise TransportError(self.name, f"cannot write {path}: {exc.strerror}") from None

    def create_exclusive(self, path: str, content: str) -> bool:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        except OSError as exc:
            raise TransportError(self.name, f"cannot create {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        return True

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TransportError(self.name, f"cannot remove {path}: {exc.strerror}") from None

    def close(self) -> None:
        pass
