from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sshd import SSHServer, make_server


@pytest.fixture
def sshd(tmp_path: Path):
    server = make_server(tmp_path / "sshd")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ssh_setup(sshd: SSHServer, tmp_path: Path):
    """An ssh_config with ``node1`` pointing at the sshd and a known_hosts that trusts it."""
    known_hosts = sshd.write_known_hosts(tmp_path / "known_hosts")
    config = tmp_path / "ssh_config"
    config.write_text(sshd.ssh_config_block("node1", known_hosts=known_hosts))
    return config, known_hosts
