"""The node transport contract: run a command or touch a file on one host, and the errors that
come back as one clear line naming the host and what to do.

Two implementations share it: ``LocalTransport`` (the deploy host itself) and ``SSHTransport``
(every other node, over paramiko). Probes only ever see this interface."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import WizardError
from ..i18n import t

# Probes read config files and command output, never bulk data; a node that answers with more
# than this is misbehaving (or the command is wrong), and buffering it all would hurt the wizard.
MAX_OUTPUT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class CommandResult:
    command: str
    rc: int
    stdout: str
    stderr: str
    host: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class TransportError(WizardError):
    """A node could not be reached or did not do what was asked. ``one_line()`` names the host."""

    def __init__(self, host: str, message: str, hint: str = "") -> None:
        self.host = host
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.host}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class HostUnreachable(TransportError):
    """No SSH session: refused, timed out, no route, name does not resolve, not an SSH server."""


class HostKeyUnknown(TransportError):
    def __init__(self, host: str, lookup_name: str, port: int, key_type: str, fingerprint: str,
                 known_hosts: str) -> None:
        self.fingerprint = fingerprint
        self.lookup_name = lookup_name
        keyscan_host = lookup_name.split("]:")[0].lstrip("[") if lookup_name.startswith("[") else lookup_name
        self.fix_command = f"ssh-keyscan -p {port} {shlex.quote(keyscan_host)} >> {shlex.quote(known_hosts)}"
        super().__init__(
            host,
            t('host key for {lookup_name} is not in known_hosts ({key_type} {fingerprint})',
              lookup_name=lookup_name, key_type=key_type, fingerprint=fingerprint),
            t('verify that fingerprint on the node itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run: '
              '{fix_command}',
              fix_command=self.fix_command),
        )


class HostKeyChanged(TransportError):
    def __init__(self, host: str, lookup_name: str, key_type: str, fingerprint: str,
                 known_hosts: str) -> None:
        self.fingerprint = fingerprint
        self.lookup_name = lookup_name
        self.fix_command = f"ssh-keygen -R {shlex.quote(lookup_name)} -f {shlex.quote(known_hosts)}"
        super().__init__(
            host,
            t('HOST KEY CHANGED for {lookup_name}: the node now presents {key_type} {fingerprint}, which does not '
              'match known_hosts; refusing to connect',
              lookup_name=lookup_name, key_type=key_type, fingerprint=fingerprint),
            t('this can be a reinstalled node or an attack; if the node was rebuilt, verify the new fingerprint on '
              'its console, then run: {fix_command}',
              fix_command=self.fix_command),
        )


class AuthFailed(TransportError):
    """The node refused every key we offered."""


class CommandTimeout(TransportError):
    """The command did not finish within its timeout; the channel was closed."""


class SudoPasswordRequired(TransportError):
    """``sudo -n`` refused: the login user needs a password for sudo."""


class OutputTooLarge(TransportError):
    """The command or file produced more than MAX_OUTPUT_BYTES; we stopped reading."""


class FileMissing(TransportError):
    def __init__(self, host: str, path: str, message: str = "") -> None:
        self.path = path
        super().__init__(host, message or f"{path} does not exist")


@runtime_checkable
class Transport(Protocol):
    """One host. ``run`` with a list joins it with ``shlex.join``; a str is sent as written, so the
    caller must ``shlex.quote`` every name from the cloud or the inventory inside it."""

    name: str

    def run(self, command: list[str] | str, *, sudo: bool = False,
            timeout: float | None = None) -> CommandResult: ...

    def read_file(self, path: str) -> str: ...

    def exists(self, path: str) -> bool: ...

    def listdir(self, path: str) -> list[str]: ...

    def write_file_atomic(self, path: str, content: str) -> None: ...

    def create_exclusive(self, path: str, content: str) -> bool:
        """Create ``path`` holding ``content`` only if nothing is there (O_EXCL): True if we
        created it, False if it already existed. The primitive behind apply's locks."""
        ...

    def remove(self, path: str) -> None:
        """Remove a file; a file already gone is not an error."""
        ...

    def close(self) -> None: ...


def command_text(command: list[str] | str) -> str:
    """What is sent (and recorded in the runbook) for a command given as a list or a str."""
    if isinstance(command, str):
        return command
    return shlex.join(command)


def sudo_wrap(command: list[str] | str) -> str:
    """The command prefixed with non-interactive sudo. A str may be a pipeline, so it runs under
    ``sh -c`` as a whole; otherwise only its first word would be privileged."""
    if isinstance(command, str):
        return shlex.join(["sudo", "-n", "--", "sh", "-c", command])
    return shlex.join(["sudo", "-n", "--", *command])


def is_sudo_password_prompt(stderr: str) -> bool:
    # sudo -n prints "sudo: a password is required" (sudo >= 1.8.x); older builds said
    # "sudo: sorry, you must have a tty to run sudo" when requiretty was set.
    text = stderr.lower()
    return "a password is required" in text or "must have a tty to run sudo" in text


def check_sudo(result: CommandResult) -> CommandResult:
    if result.rc != 0 and is_sudo_password_prompt(result.stderr):
        raise SudoPasswordRequired(
            result.host,
            "sudo needs a password for the login user (sudo -n refused)",
            "allow passwordless sudo for this user (NOPASSWD in /etc/sudoers.d), "
            "or connect as a user that has it",
        )
    return result
