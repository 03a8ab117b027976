"""A private RabbitMQ (Debian's rabbitmq-server) for one real lab: the message bus of its Neutron
and Nova, as Kolla deploys one on the control plane.

Everything is the lab's own: node name ``rabbit-<id>@localhost``, the AMQP listener, the Erlang
distribution port and its own ``epmd`` all on 127.0.0.1 ports picked here, data, logs and the Erlang
cookie (``$HOME``) under the lab's workdir, no plugins. No systemd and no init script: the Erlang VM
is the lab's child (``RABBITMQ_ALLOW_INPUT`` makes the start script ``exec`` it, so the lab's stop
kills the VM itself by PID). Kolla's user is ``openstack`` with
``rabbitmq_password`` from passwords.yml; the broker is ready when its AMQP listener answers the
protocol header with Connection.Start."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from .ports import free_port
from .venvs import RealTierUnavailable

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
EPMD = "/usr/bin/epmd"
USER = "openstack"
STARTUP_TIMEOUT = 120.0
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


def _erlang_binary(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'<<"{escaped}"/utf8>>'


def available() -> bool:
    return os.path.exists(SERVER) and (os.path.exists(EPMD) or shutil.which("epmd") is not None)


class RabbitMQ:
    def __init__(self, workdir: Path, password: str):
        # More listener addresses (the host ends of the real agents' veth pairs, ovs_agents.py):
        # set before start(); the same port as on 127.0.0.1.
        self.extra_addresses: list[str] = []
        self.workdir, self.password = workdir, password
        self.node = f"rabbit-{secrets.token_hex(4)}@localhost"
        self.port = self.dist_port = self.epmd_port = 0
        self.epmd: subprocess.Popen | None = None
        self.process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.workdir / "log" / "rabbitmq.log"

    @property
    def transport_url(self) -> str:
        return self.transport_url_on("127.0.0.1")

    def transport_url_on(self, address: str) -> str:
        return f"rabbit://{USER}:{quote(self.password, safe='')}@{address}:{self.port}//"

    def start(self) -> None:
        """Start epmd and the broker (returns at once; ``wait`` waits for AMQP)."""
        if not available():
            raise RealTierUnavailable("real tier: rabbitmq-server is not installed; "
                                      "install it with: bash .ci/real-tier-deps")
        d = self.workdir
        for sub in ("home", "mnesia", "log"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            + "".join(f"listeners.tcp.{i} = {a}:{self.port}\n" for i, a in enumerate(self.extra_addresses, 2)) +
            "loopback_users = none\n"
            "log.file = rabbitmq.log\nlog.file.level = info\nlog.console = false\n")
        # The user in Erlang terms (advanced.config): rabbitmq.conf has no quoting, and the password is
        # the operator's (passwords.yml), any characters.
        (d / "advanced.config").write_text(
            "%% -*- coding: utf-8 -*-\n"
            f"[{{rabbit, [{{default_user, {_erlang_binary(USER)}}}, {{default_pass, {_erlang_binary(self.password)}}},"
            " {default_permissions, [<<\".*\">>, <<\".*\">>, <<\".*\">>]}]}].\n")
        (d / "enabled_plugins").write_text("[].\n")
        env = dict(os.environ, HOME=str(d / "home"), RABBITMQ_NODENAME=self.node,
                   RABBITMQ_CONFIG_FILE=str(d / "rabbitmq.conf"),
                   RABBITMQ_ADVANCED_CONFIG_FILE=str(d / "advanced.config"),
                   RABBITMQ_CONF_ENV_FILE=str(d / "rabbitmq-env.conf"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
                   RABBITMQ_MNESIA_BASE=str(d / "mnesia"), RABBITMQ_LOG_BASE=str(d / "log"),
                   RABBITMQ_PID_FILE=str(d / "rabbitmq.pid"), RABBITMQ_DIST_PORT=str(self.dist_port),
                   # The distribution listener binds 127.0.0.1 only (its default is every address).
                   RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
                   RABBITMQ_ALLOW_INPUT="1",        # the script execs the VM instead of waiting on it
                   ERL_EPMD_ADDRESS="127.0.0.1", ERL_EPMD_PORT=str(self.epmd_port))
        (d / "rabbitmq-env.conf").write_text("")
        epmd_log = open(d / "log" / "epmd.out", "w")
        self.epmd = subprocess.Popen([shutil.which("epmd") or EPMD, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                env=env, stdout=epmd_log, stderr=epmd_log, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=d)
        epmd_log.close()
        out = open(d / "log" / "server.out", "w")
        # stdin a pipe that stays open: with RABBITMQ_ALLOW_INPUT the VM would stop at end of input.
        self.process = subprocess.Popen([SERVER], env=env, stdout=out, stderr=out, stdin=subprocess.PIPE,
                                   start_new_session=True, cwd=d)
        out.close()

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """rabbitmqctl against this broker (its cookie under HOME, its epmd, its node name), what
        `docker exec rabbitmq rabbitmqctl ...` runs on a Kolla controller."""
        env = dict(os.environ, HOME=str(self.workdir / "home"), RABBITMQ_NODENAME=self.node,
                   ERL_EPMD_ADDRESS="127.0.0.1", ERL_EPMD_PORT=str(self.epmd_port))
        return subprocess.run([CTL, "-n", self.node, *args], env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(AMQP_HEADER)
                conn.settimeout(2)
                frame = conn.recv(7)
                return frame[:3] == b"\x01\x00\x00"     # method frame on channel 0: Connection.Start
        except OSError:
            return False

    def wait(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.ready():
            if self.process.poll() is not None:
                raise RealTierUnavailable(f"real tier: rabbitmq-server exited ({self.process.returncode}): "
                                          f"{self._tail()}")
            if time.monotonic() > deadline:
                raise RealTierUnavailable(f"real tier: rabbitmq did not start within {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def _tail(self) -> str:
        for log in (self.workdir / "log" / "server.out", self.log_file):
            try:
                lines = log.read_text(errors="replace").strip().splitlines()
            except OSError:
                continue
            if lines:
                return lines[-1][:300]
        return "no output"

    def stop(self) -> None:
        for proc in (self.process, self.epmd):
            if proc is None:
                continue
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=10)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.process is not None and self.process.stdin:
            self.process.stdin.close()
        self.process = self.epmd = None
