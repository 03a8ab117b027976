"""Issue 15, class 5: SSH set-ups OpenSSH accepts must not break the wizard. A real sshd on 127.0.0.1
and paramiko: an ssh_config with Match blocks, a known_hosts (and the global one) with
``@cert-authority`` and ``@revoked`` lines, ``IdentitiesOnly yes`` with a passphrase key held by a
real ssh-agent. What OpenSSH honours is honoured; what paramiko cannot do is said in one line."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.sshd import make_server, public_key_line, sshd_available
from wizard.transport import HostKeyChanged, SSHPool
from wizard.transport import ssh as ssh_module

pytestmark = pytest.mark.skipif(not sshd_available(), reason="needs OpenSSH sshd")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("sshd") / "server")
    server.start()
    yield server
    server.stop()


def config_for(sshd, tmp_path: Path, known: Path, *, extra: str = "", identities_only_key: Path | None = None) -> Path:
    block = sshd.ssh_config_block("node1", known_hosts=known)
    if identities_only_key is not None:
        block = block.replace(f"IdentityFile {sshd.client_key}", f"IdentityFile {identities_only_key}")
    config = tmp_path / "ssh_config"
    config.write_text(block + "\n" + extra)
    return config


def test_match_blocks_are_honoured(sshd, tmp_path, case):
    known = sshd.write_known_hosts(tmp_path / "known_hosts")
    config = config_for(sshd, tmp_path, known, extra=(
        "Match host 10.*\n    User someone-else\n"
        "Match originalhost node1 user nobody-here\n    Port 1\n"
        "Host *\n    ServerAliveInterval 30\n"))
    with SSHPool(ssh_config=config, use_agent=False) as pool:
        result = pool.transport("node1").run(["echo", "ok"])
        other = pool.resolve("10.1.2.3")
    assert result.stdout.strip() == "ok"
    assert other.user == "someone-else"            # the Match block applies where OpenSSH applies it
    case.record("hostile", "ssh_config with Match blocks (host, originalhost+user) and Host *",
                "node reached; 'Match host 10.*' gives 10.1.2.3 its User (was: KeyError 'host')")


@pytest.mark.parametrize("where", ["user", "global"])
def test_cert_authority_line_does_not_break_known_hosts(sshd, tmp_path, case, monkeypatch, where):
    ca_line = f"@cert-authority *.example.com {public_key_line(sshd.client_key)}"
    plain = f"[127.0.0.1]:{sshd.port} {public_key_line(sshd.host_key)}"
    known = tmp_path / "known_hosts"
    if where == "user":
        known.write_text(ca_line + "\n" + plain + "\n")
    else:
        known.write_text(plain + "\n")
        global_file = tmp_path / "ssh_known_hosts"
        global_file.write_text(ca_line + "\n")
        monkeypatch.setattr(ssh_module, "GLOBAL_KNOWN_HOSTS", str(global_file))
    config = config_for(sshd, tmp_path, known)
    with SSHPool(ssh_config=config, use_agent=False) as pool:
        result = pool.transport("node1").run(["echo", "ok"])
        notes = list(pool.notes)
    assert result.stdout.strip() == "ok"
    assert len(notes) == 1 and "@cert-authority" in notes[0] and "not supported" in notes[0]
    case.record("hostile", f"@cert-authority line in the {where} known_hosts, the node's plain key line too",
                f"node reached; one line: {notes[0]}")


def test_revoked_key_is_refused(sshd, tmp_path, case, monkeypatch):
    key = public_key_line(sshd.host_key)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {key}\n")
    global_file = tmp_path / "ssh_known_hosts"
    global_file.write_text(f"@revoked * {key}\n")
    monkeypatch.setattr(ssh_module, "GLOBAL_KNOWN_HOSTS", str(global_file))
    config = config_for(sshd, tmp_path, known)
    with SSHPool(ssh_config=config, use_agent=False) as pool:
        with pytest.raises(HostKeyChanged) as caught:
            pool.transport("node1").run(["echo", "ok"])
    assert "@revoked" in caught.value.one_line()
    case.record("hostile", "the node's key is listed @revoked in /etc/ssh/ssh_known_hosts (and trusted in the user file)",
                "refused, as OpenSSH does: " + caught.value.one_line()[:140])


def test_identities_only_uses_the_agent_for_that_key(sshd, tmp_path, case, monkeypatch):
    key = tmp_path / "id_passphrase"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-f", str(key)], check=True)
    (sshd.root / "authorized_keys").write_text(public_key_line(key) + "\n")     # only this key is allowed
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    env = dict(line.split(";", 1)[0].split("=", 1) for line in agent.splitlines() if "=" in line.split(";", 1)[0])
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho 'correct horse'\n")
    askpass.chmod(0o700)
    try:
        subprocess.run(["ssh-add", str(key)], check=True, capture_output=True, stdin=subprocess.DEVNULL,
                       env={**os.environ, **env, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force",
                            "DISPLAY": ":0"})
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        known = sshd.write_known_hosts(tmp_path / "known_hosts")
        config = config_for(sshd, tmp_path, known, identities_only_key=key)
        with SSHPool(ssh_config=config, use_agent=True) as pool:
            result = pool.transport("node1").run(["echo", "ok"])
    finally:
        (sshd.root / "authorized_keys").write_text(public_key_line(sshd.client_key) + "\n")
        subprocess.run(["kill", env.get("SSH_AGENT_PID", "0")], capture_output=True)
    assert result.stdout.strip() == "ok"
    case.record("hostile", "IdentitiesOnly yes, IdentityFile a passphrase key that a real ssh-agent holds",
                "node reached with the agent's copy of that key (was: 'refused every key we offered')")
