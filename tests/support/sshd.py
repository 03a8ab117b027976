"""A real OpenSSH sshd on 127.0.0.1 for tests: its own host key, client key, known_hosts and
ssh_config, all under a temp dir. Used by tests/transport and by any test that needs a node."""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def generate_key(path: Path) -> Path:
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
                   check=True)
    return path


def public_key_line(private_key: Path) -> str:
    return Path(str(private_key) + ".pub").read_text().strip()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port} within {timeout}s")


@dataclass
class SSHServer:
    """One running sshd. ``bin_dir`` is first on the session PATH, so tests can drop fake tools
    (e.g. a ``sudo`` that asks for a password) there."""

    root: Path
    port: int
    host_key: Path
    client_key: Path
    user: str
    bin_dir: Path
    log: Path
    process: subprocess.Popen | None = None
    extra_config: list[str] = field(default_factory=list)

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {public_key_line(self.host_key)}"

    def write_known_hosts(self, path: Path, name: str | None = None) -> Path:
        entry_name = name or f"[127.0.0.1]:{self.port}"
        path.write_text(f"{entry_name} {public_key_line(self.host_key)}\n")
        return path

    def start(self) -> None:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation dir
        authorized = self.root / "authorized_keys"
        authorized.write_text(public_key_line(self.client_key) + "\n")
        session_path = f"{self.bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "AllowTcpForwarding yes",
            "Subsystem sftp internal-sftp",
            f"SetEnv PATH={session_path}",
            "MaxSessions 64",
            "MaxStartups 64:30:128",
            "LogLevel VERBOSE",
            *self.extra_config,
        ]) + "\n")
        self.process = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(self.log)],
                                        stdin=subprocess.DEVNULL)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"sshd failed to start: {self.log.read_text() if self.log.exists() else ''}")

    def session_pids(self) -> list[int]:
        """The per-connection sshd children of this server (to simulate a dropped connection)."""
        if self.process is None:
            return []
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Field 4 (after the parenthesised command name) is the parent pid.
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                children.append(int(entry))
        return children

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def ssh_config_block(self, alias: str, *, known_hosts: Path, extra: list[str] | None = None) -> str:
        lines = [
            f"Host {alias}",
            "    HostName 127.0.0.1",
            f"    Port {self.port}",
            f"    User {self.user}",
            f"    IdentityFile {self.client_key}",
            "    IdentitiesOnly yes",
            f"    UserKnownHostsFile {known_hosts}",
            "    StrictHostKeyChecking yes",
            *(f"    {line}" for line in extra or []),
        ]
        return "\n".join(lines) + "\n"


def make_server(root: Path, *, client_key: Path | None = None, host_key: Path | None = None,
                extra_config: list[str] | None = None) -> SSHServer:
    """Create (not start) an sshd rooted at ``root``; keys are generated unless given."""
    root.mkdir(parents=True, exist_ok=True)
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    return SSHServer(
        root=root,
        port=free_port(),
        host_key=host_key or generate_key(root / "ssh_host_ed25519_key"),
        client_key=client_key or generate_key(root / "id_ed25519"),
        user=getpass.getuser(),
        bin_dir=bin_dir,
        log=root / "sshd.log",
        extra_config=list(extra_config or []),
    )


def sshd_available() -> bool:
    return os.path.exists(SSHD) and os.path.exists(SSH_KEYGEN)
