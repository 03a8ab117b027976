"""Issue 15, class 6: every network call has a deadline and a size cap, redirects are refused, the
process exits once the report is out. Hostile HTTP servers on 127.0.0.1 play Keystone (a 307 that
would carry the password elsewhere, a body that trickles a byte at a time, a body that never ends)
and a Nova endpoint that answers 302 (the admin token would follow); the real CLI runs in a
subprocess with a deadline. A real sshd frozen with SIGSTOP after connecting: SFTP gives up within
the command timeout. One diagnosis leaves no API socket open."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Hostile:
    """One HTTP server on 127.0.0.1 whose handler is a function (method, path, handler) -> None."""

    def __init__(self, behave):
        self.requests: list[tuple[str, str, dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                try:
                    behave(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def send(handler, status, body=b"", headers=()):
    handler.send_response(status)
    for k, v in headers:
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def run_wizard(tmp_path: Path, auth_url: str, *extra: str, timeout: float = 90) -> subprocess.CompletedProcess:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(json.dumps({"clouds": {"hostile": {
        "auth_type": "password", "identity_api_version": 3,
        "auth": {"auth_url": auth_url + "/v3", "username": "admin", "password": "Bound-test-pw-4242",
                 "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}}}}))
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(clouds)}
    env.pop("OS_CLOUD", None)
    argv = [sys.executable, "-m", "kolla_wizard", "diagnose", "--os-cloud", "hostile", "--symptom", "max-retries",
            "--format", "json", "--no-input", "--deploy-host", "nowhere-alias", "--kolla-ansible", "off",
            "--ssh-config", str(tmp_path / "no_ssh_config"), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)


@pytest.fixture
def elsewhere():
    server = Hostile(lambda h: send(h, 200, b"{}", [("Content-Type", "application/json")]))
    yield server
    server.close()


def test_keystone_307_does_not_carry_the_password_elsewhere(tmp_path, elsewhere, case):
    keystone = Hostile(lambda h: send(h, 307, b"", [("Location", elsewhere.url + h.path)]))
    try:
        done = run_wizard(tmp_path, keystone.url)
    finally:
        keystone.close()
    assert elsewhere.requests == []
    assert "redirecting to" in done.stderr and done.returncode != 0
    line = next(line for line in done.stderr.splitlines() if "redirecting" in line)
    case.record("hostile", "Keystone POST /v3/auth/tokens answers 307 to another 127.0.0.1 server",
                f"{line}; the other server got 0 requests", done.returncode)


def _token_body(base: str) -> bytes:
    endpoints = [{"type": t, "name": n, "endpoints": [{"interface": "public", "region": "RegionOne", "region_id":
                  "RegionOne", "url": f"{base}/{n}", "id": n}]}
                 for t, n in (("compute", "nova"), ("network", "neutron"), ("image", "glance"), ("identity", "keystone"))]
    return json.dumps({"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
                                 "user": {"id": "u", "name": "admin", "domain": {"id": "default", "name": "Default"}},
                                 "project": {"id": "p", "name": "admin", "domain": {"id": "default", "name": "Default"}},
                                 "roles": [{"id": "r", "name": "admin"}], "catalog": endpoints}}).encode()


def test_endpoint_302_does_not_carry_the_token_elsewhere(tmp_path, elsewhere, case):
    def behave(h):
        if h.command == "POST" and h.path.endswith("/auth/tokens"):
            send(h, 201, _token_body(base), [("X-Subject-Token", "gAAAAAtoken-bound-test"),
                                             ("Content-Type", "application/json")])
        else:
            send(h, 302, b"", [("Location", elsewhere.url + h.path)])
    keystone = Hostile(behave)
    base = keystone.url
    try:
        done = run_wizard(tmp_path, keystone.url)
    finally:
        keystone.close()
    assert elsewhere.requests == []
    assert done.returncode not in (0, 1), done.stderr      # never "no fault found" on the redirect's say
    assert "redirecting to" in done.stderr
    line = next(line for line in done.stderr.splitlines() if "redirecting" in line)
    case.record("hostile", "every compute/network endpoint answers 302 to another 127.0.0.1 server (admin token)",
                f"{line}; the other server got 0 requests", done.returncode)


def test_trickling_keystone_is_bounded_by_the_api_timeout(tmp_path, case):
    def trickle(h):
        h.send_response(201)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(200):          # a byte every 0.25 s: no single read ever times out
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.25)
    keystone = Hostile(trickle)
    try:
        done = run_wizard(tmp_path, keystone.url, "--api-timeout", "2", timeout=60)
    finally:
        keystone.close()
    assert "did not finish within 2s" in done.stderr, done.stderr[-1500:]
    line = next(line for line in done.stderr.splitlines() if "did not finish" in line)
    case.record("hostile", "Keystone sends its answer a byte every 0.25 s, --api-timeout 2", line, done.returncode)


def test_endless_body_is_capped(tmp_path, case):
    def endless(h):
        h.send_response(201)
        h.send_header("Content-Type", "application/json")
        h.end_headers()             # no length: the body ends when the connection does (never)
        chunk = b"x" * 65536
        for _ in range(2000):       # 128 MB at most, so a broken cap still ends the test
            h.wfile.write(chunk)
    keystone = Hostile(endless)
    try:
        done = run_wizard(tmp_path, keystone.url, "--api-timeout", "30", timeout=90)
    finally:
        keystone.close()
    assert "larger than 32 MB" in done.stderr, done.stderr[-1500:]
    line = next(line for line in done.stderr.splitlines() if "larger than" in line)
    case.record("hostile", "Keystone answers with a body that never ends", line, done.returncode)


def test_frozen_node_does_not_hang_sftp(tmp_path, case):
    from tests.support.sshd import make_server, sshd_available
    from wizard.transport import SSHPool, TransportError
    if not sshd_available():
        pytest.skip("needs OpenSSH sshd")
    server = make_server(tmp_path / "sshd")
    server.start()
    config = tmp_path / "ssh_config"
    config.write_text(server.ssh_config_block("node1", known_hosts=server.write_known_hosts(tmp_path / "kh")))
    target = tmp_path / "globals.yml"
    target.write_text("a: 1\n")
    pool = SSHPool(ssh_config=config, use_agent=False, command_timeout=2)
    stopped: list[int] = []
    try:
        node = pool.transport("node1")
        assert node.read_file(str(target)) == "a: 1\n"          # connected, SFTP open
        for pid in server.session_pids():
            os.kill(pid, signal.SIGSTOP)                         # the node freezes
            stopped.append(pid)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            node.write_file_atomic(str(target), "a: 2\n")
        waited = time.monotonic() - started
        assert "did not answer within 2s" in caught.value.one_line()
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        pool.close()
        server.stop()
    assert target.read_text() == "a: 1\n"
    case.record("hostile", "the node freezes (SIGSTOP) after the diagnosis, apply writes over SFTP (timeout 2 s)",
                f"{caught.value.one_line()} (gave up after {waited:.0f} s; file unchanged)")


def test_hung_probe_does_not_keep_the_process_alive(tmp_path, case):
    # A probe stuck past the engine's bound: the process must still exit once the report is out.
    script = r"""
import time, concurrent.futures
from wizard.engine import Engine
from wizard.probes.registry import ProbeSpec
spec = ProbeSpec("stuck", lambda ctx, args, emit: time.sleep(3600), ("x",), "hangs", "cloud")
engine = Engine({}, None, probe_timeout=0.5)
step = type("Step", (), {"args": {}})()
try:
    engine._run_probe(spec, step, "t", print)
except concurrent.futures.TimeoutError:
    print("bounded")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "bounded", done.stderr[-1500:]
    case.record("hostile", "a probe hangs for an hour (engine bound 0.5 s), then the process ends",
                "the walk goes on after 0.5 s and the process exits (daemon thread; was: joined at exit)")


def test_one_diagnosis_leaves_no_api_socket(case):
    from kolla_lab import Lab
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    def sockets() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
            except OSError:    # the listing's own fd, or one closed meanwhile
                pass
        return count

    with Lab("seed-homelab") as lab:
        contexts = []
        before = sockets()
        for _ in range(3):             # the TUI keeps its contexts alive: closing must free the sockets
            ctx = context(lab)
            run_diagnosis(ctx, ["fip-404"])
            ctx.close()
            contexts.append(ctx)
        deadline = time.monotonic() + 10
        while sockets() > before and time.monotonic() < deadline:   # the lab's side closes its end
            time.sleep(0.1)
        after = sockets()
    assert after <= before, (before, after)
    case.record("hostile", "three diagnoses in one process, their contexts kept (the TUI's case), sockets counted",
                f"{before} before, {after} after: Context.close() closes the API connection")
