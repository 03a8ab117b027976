"""The lab console says nothing when an SSH client drops its connection (issue 20, defect 25: it
printed paramiko's bare 'Socket exception: Connection reset by peer (104)')."""
from __future__ import annotations

import logging
import socket
import struct
import time

from kolla_lab import Lab


def test_a_client_resetting_its_connection_is_not_an_error_on_the_lab_console(caplog):
    caplog.set_level(logging.DEBUG)
    with Lab("healthy") as lab:
        lab.start()
        node = next(iter(lab.ports))
        with socket.create_connection(("127.0.0.1", lab.ports[node]), timeout=5) as sock:
            assert sock.recv(64).startswith(b"SSH-2.0-")
            sock.sendall(b"SSH-2.0-test\r\n")
            assert sock.recv(4096)      # the server's KEXINIT: it has read our banner and waits for ours
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # close = RST
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("Socket exception" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    said = [r for r in caplog.records if "Socket exception" in r.getMessage()]
    assert said, "the server saw the reset (else this test proves nothing)"
    assert all(r.levelno == logging.DEBUG for r in said), [(r.name, r.levelname) for r in said]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records
