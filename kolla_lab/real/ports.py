"""Ports on 127.0.0.1 for the real tier's daemons that bind their own listeners (sshd, RabbitMQ,
Galera): free when picked and never handed out twice in this process. Picking by bind-to-0 and
closing leaves a window before the daemon binds; the nodes start in parallel threads, and two of
them were once given the same just-closed port (CI on 614bcae: one sshd died of "Address already in
use" while the other's answered for both). Each daemon's start still checks that it is the one
listening."""
from __future__ import annotations

import socket
import threading

_HANDED_OUT: set[int] = set()
_LOCK = threading.Lock()


def free_port() -> int:
    with _LOCK:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port
