"""A real three-node MariaDB Galera cluster on 127.0.0.1 (Debian mariadb-server + galera-4), for the
real tier's judgement of the cloud-down tree: what grastate.dat/gvwstate.dat real Galera writes
on a clean stop and on a crash, and which node's data survives a bootstrap.

Each node has its own datadir and log under one temporary directory and its own ports (SQL, gcomm,
IST, SST), set through wsrep_provider_options (base_port, gmcast.listen_addr, ist.recv_addr) as
Kolla's galera.cnf.j2 does. mariadbd runs as the ``mysql`` user the package creates: rsync state
transfer runs its daemon as that user (as root, rsync would drop to nobody and fail). The nodes
start from one installed datadir copied after a clean shutdown, so they share one history and the
joiners need only an incremental transfer. Every wait has a deadline; nothing listens beyond
127.0.0.1. Never imports wizard."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port

MARIADBD = "/usr/sbin/mariadbd"
CLIENT = "/usr/bin/mariadb"
INSTALL_DB = "/usr/bin/mariadb-install-db"
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
USER = "mysql"
RECOVERED_RE = re.compile(r"WSREP: Recovered position:? ([0-9a-f-]{36}):(-?\d+)")


class GaleraUnavailable(RuntimeError):
    """This machine cannot run the real Galera cluster; the message says exactly why."""


def check_available() -> None:
    for path in (MARIADBD, CLIENT, INSTALL_DB, PROVIDER, "/usr/bin/rsync"):
        if not os.path.exists(path):
            raise GaleraUnavailable(f"{path} is missing: install mariadb-server and galera-4 (.ci/real-tier-deps)")
    if os.geteuid() != 0:
        raise GaleraUnavailable("the real Galera cluster needs root (mariadbd drops to the mysql user)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        raise GaleraUnavailable("no 'mysql' user: the mariadb-server package creates it") from None


def _as_mysql_dying_with_parent(uid: int, gid: int):
    """In the child before exec: become the mysql user, then ask for SIGKILL when the process that
    started it dies (PR_SET_PDEATHSIG; set after the uid change, which would clear it), so a killed
    test run leaves no mariadbd behind."""
    def prepare() -> None:
        import ctypes
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    return prepare


@dataclass
class Node:
    index: int
    name: str
    datadir: Path
    log: Path
    socket: Path
    pidfile: Path
    sql_port: int
    gcomm_port: int
    ist_port: int
    sst_port: int
    process: subprocess.Popen | None = None
    # grastate.dat as it was when the provider last opened it (the model needs it to pad as Galera does)
    grastate_at_start: str | None = None


class GaleraCluster:
    def __init__(self, size: int = 3, *, deadline: float = 120.0) -> None:
        check_available()
        self.deadline = deadline
        self.base = Path(tempfile.mkdtemp(prefix="kolla-wizard-galera-"))
        owner = pwd.getpwnam(USER)
        self._uid, self._gid = owner.pw_uid, owner.pw_gid
        os.chmod(self.base, 0o755)
        os.chown(self.base, self._uid, self._gid)
        ports = [free_port() for _ in range(4 * size)]
        self.nodes: list[Node] = []
        for i in range(size):
            name = f"node{i + 1}"
            self.nodes.append(Node(i, name, self.base / name, self.base / f"{name}.log", self.base / f"{name}.sock",
                                   self.base / f"{name}.pid", *ports[4 * i:4 * i + 4]))

    # -- processes ------------------------------------------------------------------------------
    def _args(self, node: Node, *extra: str) -> list[str]:
        peers = ",".join(f"127.0.0.1:{n.gcomm_port}" for n in self.nodes)
        options = (f"base_port={node.gcomm_port};gmcast.listen_addr=tcp://127.0.0.1:{node.gcomm_port};"
                   f"ist.recv_addr=127.0.0.1:{node.ist_port};gcache.size=16M")
        return [MARIADBD, "--no-defaults", f"--user={USER}", f"--datadir={node.datadir}", f"--socket={node.socket}",
                f"--port={node.sql_port}", "--bind-address=127.0.0.1", f"--pid-file={node.pidfile}",
                f"--log-error={node.log}", "--skip-log-bin", "--binlog_format=ROW", "--default-storage-engine=InnoDB",
                "--innodb_autoinc_lock_mode=2", "--innodb_buffer_pool_size=16M", "--innodb_log_file_size=8M",
                "--performance_schema=OFF", "--skip-name-resolve", "--wsrep_on=ON", f"--wsrep_provider={PROVIDER}",
                "--wsrep_cluster_name=kolla-wizard-judge", f"--wsrep_cluster_address=gcomm://{peers}",
                f"--wsrep_node_name={node.name}", f"--wsrep_node_address=127.0.0.1:{node.gcomm_port}",
                f"--wsrep_provider_options={options}", f"--wsrep_sst_receive_address=127.0.0.1:{node.sst_port}",
                "--wsrep_sst_method=rsync", *extra]

    def start(self, node: Node, *extra: str) -> None:
        node.grastate_at_start = self.grastate(node)
        node.process = subprocess.Popen(self._args(node, *extra), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=_as_mysql_dying_with_parent(self._uid, self._gid))

    def wait_synced(self, node: Node) -> None:
        end = time.monotonic() + self.deadline
        while time.monotonic() < end:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name}: mariadbd exited with {node.process.returncode}; "
                                   f"last log lines: {self.log_tail(node)}")
            state = self.status(node).get("wsrep_local_state_comment")
            if state == "Synced":
                return
            time.sleep(0.2)
        raise TimeoutError(f"{node.name}: not Synced within {self.deadline:.0f} s; last log lines: {self.log_tail(node)}")

    def wait_exit(self, node: Node) -> int:
        if node.process is None:
            return 0
        try:
            return node.process.wait(timeout=self.deadline)
        finally:
            node.process = None

    def stop(self, node: Node) -> None:
        """A clean shutdown (SIGTERM, as docker stop sends), waited for."""
        if node.process is not None and node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
        self.wait_exit(node)

    def stop_together(self) -> None:
        running = [n for n in self.nodes if n.process is not None and n.process.poll() is None]
        for n in running:
            n.process.send_signal(signal.SIGTERM)
        for n in running:
            self.wait_exit(n)

    def kill(self, *nodes: Node) -> None:
        """A crash: SIGKILL, nothing written on the way down."""
        for n in nodes:
            if n.process is not None and n.process.poll() is None:
                n.process.kill()
        for n in nodes:
            self.wait_exit(n)

    def close(self) -> None:
        for n in self.nodes:
            if n.process is not None and n.process.poll() is None:
                n.process.kill()
                try:
                    n.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "GaleraCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- building the cluster ---------------------------------------------------------------------
    def create(self) -> None:
        """Install one datadir, give it a history and a table, copy it to every node (a clean
        shutdown's grastate.dat included), then bootstrap node1 and join the others."""
        first = self.nodes[0]
        out = subprocess.run([INSTALL_DB, "--no-defaults", f"--user={USER}", f"--datadir={first.datadir}",
                              "--auth-root-authentication-method=normal", "--skip-test-db"],
                             capture_output=True, text=True, timeout=self.deadline)
        if out.returncode != 0:
            raise GaleraUnavailable(f"mariadb-install-db failed ({out.returncode}): {out.stderr.strip()[-300:]}")
        self.start(first, "--wsrep-new-cluster")
        self.wait_synced(first)
        self.sql(first, "CREATE DATABASE judge; CREATE TABLE judge.writes (id INT PRIMARY KEY, what VARCHAR(64))")
        self.stop(first)
        for n in self.nodes[1:]:
            shutil.copytree(first.datadir, n.datadir, symlinks=True)
            for root, dirs, files in os.walk(n.datadir):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), self._uid, self._gid)
            os.chown(n.datadir, self._uid, self._gid)
        self.bootstrap(first)
        self.join(*self.nodes[1:])

    def bootstrap(self, node: Node, start_position: str | None = None) -> None:
        """What kolla-ansible's recover_cluster.yml does on the bootstrap host: safe_to_bootstrap: 1
        in grastate.dat, then start with --wsrep-new-cluster (Kolla's mysqld_safe passes the
        recovered position as --wsrep_start_position)."""
        path = node.datadir / "grastate.dat"
        if path.exists():
            text = path.read_text()
            path.write_text(re.sub(r"safe_to_bootstrap:(.*)$", "safe_to_bootstrap: 1", text, flags=re.M))
        extra = ["--wsrep-new-cluster"] + ([f"--wsrep_start_position={start_position}"] if start_position else [])
        self.start(node, *extra)
        self.wait_synced(node)

    def join(self, *nodes: Node) -> None:
        """One at a time, each Synced before the next starts (recover_cluster_slave.yml does the
        same: a second joiner during a transfer can break it). A joiner that gives up before it
        reaches the group (gcomm timeout on a loaded machine) is started once more."""
        for n in nodes:
            self.start(n)
            try:
                self.wait_synced(n)
            except RuntimeError:
                self.wait_exit(n)
                self.start(n)
                self.wait_synced(n)

    def wsrep_recover(self, node: Node) -> str:
        """``mariadbd --wsrep-recover`` on the node's datadir, logging to its own log (as Kolla's
        mariadb_wsrep_recovery container logs to mariadb.log); returns the recovered uuid:seqno."""
        out = subprocess.run(self._args(node, "--wsrep-recover"), capture_output=True, text=True,
                             timeout=self.deadline)
        if out.returncode != 0:
            raise RuntimeError(f"{node.name}: --wsrep-recover failed ({out.returncode}): {self.log_tail(node)}")
        for line in reversed(self.log_lines(node)):
            match = RECOVERED_RE.search(line)
            if match:
                return f"{match.group(1)}:{match.group(2)}"
        raise RuntimeError(f"{node.name}: --wsrep-recover logged no position: {self.log_tail(node)}")

    # -- reading -----------------------------------------------------------------------------------
    def sql(self, node: Node, statement: str) -> str:
        out = subprocess.run([CLIENT, "--no-defaults", f"--socket={node.socket}", "-uroot", "-N", "-B", "-e", statement],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"{node.name}: {statement!r} failed: {out.stderr.strip()}")
        return out.stdout

    def status(self, node: Node) -> dict[str, str]:
        try:
            text = self.sql(node, "SHOW GLOBAL STATUS LIKE 'wsrep_%'")
        except (RuntimeError, subprocess.TimeoutExpired):
            return {}
        return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)

    def grastate(self, node: Node) -> str | None:
        path = node.datadir / "grastate.dat"
        return path.read_text() if path.exists() else None

    def gvwstate(self, node: Node) -> str | None:
        path = node.datadir / "gvwstate.dat"
        return path.read_text() if path.exists() else None

    def log_lines(self, node: Node) -> list[str]:
        try:
            return node.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def log_tail(self, node: Node, n: int = 5) -> str:
        return " | ".join(line[:200] for line in self.log_lines(node)[-n:])
