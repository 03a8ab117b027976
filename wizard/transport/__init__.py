"""How the wizard reaches nodes: ``LocalTransport`` on the deploy host, ``SSHPool`` for the rest.

The SSH side (paramiko) is imported only when first used: reading the Kolla model or the
error types must not pay for it (start-up and first paint)."""
from .base import (AuthFailed, CommandResult, CommandTimeout, FileMissing, HostKeyChanged,
                   HostKeyUnknown, HostUnreachable, OutputTooLarge, SudoPasswordRequired, Transport,
                   TransportError)

__all__ = [
    "AuthFailed", "CommandResult", "CommandTimeout", "FileMissing", "HostKeyChanged",
    "HostKeyUnknown", "HostUnreachable", "LocalTransport", "OutputTooLarge", "SSHPool",
    "SSHTransport", "SudoPasswordRequired", "Transport", "TransportError",
]


def __getattr__(name: str):
    if name == "LocalTransport":
        from .local import LocalTransport
        return LocalTransport
    if name in ("SSHPool", "SSHTransport"):
        from . import ssh
        return getattr(ssh, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
