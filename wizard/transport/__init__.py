"""How the wizard reaches nodes: ``LocalTransport`` on the deploy host, ``SSHPool`` for the rest."""
from .base import (AuthFailed, CommandResult, CommandTimeout, FileMissing, HostKeyChanged,
                   HostKeyUnknown, HostUnreachable, OutputTooLarge, SudoPasswordRequired, Transport,
                   TransportError)
from .local import LocalTransport
from .ssh import SSHPool, SSHTransport

__all__ = [
    "AuthFailed", "CommandResult", "CommandTimeout", "FileMissing", "HostKeyChanged",
    "HostKeyUnknown", "HostUnreachable", "LocalTransport", "OutputTooLarge", "SSHPool",
    "SSHTransport", "SudoPasswordRequired", "Transport", "TransportError",
]
