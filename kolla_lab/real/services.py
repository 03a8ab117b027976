"""Real Keystone and Neutron API servers on 127.0.0.1 (sqlite, fernet) and the lab's own RabbitMQ
(rabbitmq.py) as Neutron's message bus.

``keystone-manage db_sync/bootstrap`` and Neutron's table creation take tens of seconds, so they
run once into a cached "golden" copy (per package versions) that every lab copies and then adjusts
through the real APIs: the admin password from the scenario's passwords.yml, the identity endpoint's
port, and the network/compute/image services and endpoints."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .rabbitmq import RabbitMQ
from .venvs import RealTierUnavailable, real_tier_home, venv

HERE = Path(__file__).resolve().parent
GOLDEN_PASSWORD = "golden-bootstrap-password"
# Bumped when the golden copy's recipe changes (a new one is built beside the old).
GOLDEN_RECIPE = "2"
STARTUP_TIMEOUT = 120.0


def _http(method: str, url: str, body: dict | None = None, token: str | None = None,
          timeout: float = 30.0) -> tuple[int, dict, dict]:
    """One API call; a 500 is retried a few times (sqlite's "database is locked" under the
    agents' heartbeat writes surfaces as a 500 from Neutron)."""
    for attempt in range(5):
        status, headers, payload = _http_once(method, url, body, token, timeout)
        if status != 500:
            break
        time.sleep(0.3 * (attempt + 1))
    return status, headers, payload


def _http_once(method: str, url: str, body: dict | None, token: str | None,
               timeout: float) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw.decode(errors="replace")}
        return error.code, dict(error.headers), payload


def _keystone_conf(d: Path) -> str:
    # [cache] as Kolla deploys Keystone (enabled, there on memcached; here the in-process dict
    # backend): without it every request re-reads roles and assignments, 0.2-0.5 s a call on sqlite.
    return (f"[DEFAULT]\nlog_file = {d}/keystone.log\n[database]\nconnection = sqlite:///{d}/keystone.db\n"
            f"[fernet_tokens]\nkey_repository = {d}/fernet-keys\n[fernet_receipts]\nkey_repository = {d}/fernet-keys\n"
            f"[credential]\nkey_repository = {d}/credential-keys\n[token]\nprovider = fernet\n"
            "[cache]\nenabled = true\nbackend = oslo_cache.dict\n"
            # bcrypt's minimum cost: the default (12) spends 0.3-0.6 s of CPU on every password
            # hash and check (bootstrap, the scenario's password, each client's login).
            "[identity]\npassword_hash_rounds = 4\n")


def _neutron_conf(d: Path, keystone_url: str, password: str, transport_url: str = "fake:/") -> str:
    return (f"[DEFAULT]\ncore_plugin = ml2\nservice_plugins = router\ntransport_url = {transport_url}\n"
            "auth_strategy = keystone\n"
            "notify_nova_on_port_status_changes = false\nnotify_nova_on_port_data_changes = false\n"
            f"api_paste_config = {d}/api-paste.ini\nlog_file = {d}/neutron-server.log\nhost = controller\n"
            "agent_down_time = 75\n"
            # neutron-rpc-server (when the real agents run): one RPC worker, which also consumes
            # the agents' state reports (ml2's start_rpc_listeners), instead of one per half-CPU.
            "rpc_workers = 1\nrpc_state_report_workers = 0\n"
            # sqlite waits up to 30 s for a lock (its default, 5 s, ran out under load: "database is
            # locked" as a 500 to the wizard's floating IP create); see OpenStack.start_keystone for WAL.
            f"[database]\nconnection = sqlite:///{d}/neutron.db?timeout=30\n"
            f"[keystone_authtoken]\nwww_authenticate_uri = {keystone_url}/v3\nauth_url = {keystone_url}/v3\n"
            f"auth_type = password\ninterface = public\nusername = admin\npassword = {password}\nproject_name = admin\n"
            "user_domain_name = Default\nproject_domain_name = Default\n"
            f"[oslo_concurrency]\nlock_path = {d}/lock\n")


def _ml2_conf(flat_physnets: list[str]) -> str:
    return ("[ml2]\ntype_drivers = flat,vlan,vxlan\ntenant_network_types = vxlan\nmechanism_drivers = openvswitch\n"
            f"extension_drivers = port_security\n[ml2_type_flat]\nflat_networks = {','.join(flat_physnets)}\n"
            "[ml2_type_vlan]\nnetwork_vlan_ranges =\n[ml2_type_vxlan]\nvni_ranges = 1:1000\n")


def _run(argv: list[str], cwd: Path, env: dict | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]
        raise RealTierUnavailable(f"real tier: {' '.join(argv[:2])}: {tail[0]}")


def golden_dir() -> Path:
    """Build once (under a lock) and return the cached Keystone + Neutron databases."""
    openstack = venv("openstack")
    stamp = (openstack / ".stamp").read_text().strip()[:12]
    target = real_tier_home() / f"golden-{stamp}-r{GOLDEN_RECIPE}"
    if (target / "ready").is_file():
        return target
    real_tier_home().mkdir(parents=True, exist_ok=True)
    with open(real_tier_home() / "golden.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "ready").is_file():
            return target
        work = target.with_name(target.name + ".tmp")
        shutil.rmtree(work, ignore_errors=True)
        (work / "keystone").mkdir(parents=True)
        (work / "neutron").mkdir()
        ks = work / "keystone"
        (ks / "keystone.conf").write_text(_keystone_conf(ks))
        manage = [str(openstack / "bin/keystone-manage"), "--config-file", str(ks / "keystone.conf")]
        _run(manage + ["db_sync"], ks)
        _run(manage + ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"], ks)
        _run(manage + ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"], ks)
        _run(manage + ["bootstrap", "--bootstrap-password", GOLDEN_PASSWORD, "--bootstrap-region-id", "RegionOne",
                       "--bootstrap-public-url", "http://127.0.0.1:5000/v3/"], ks)
        nt = work / "neutron"
        (nt / "neutron.conf").write_text(_neutron_conf(nt, "http://127.0.0.1:5000", GOLDEN_PASSWORD))
        (nt / "ml2_conf.ini").write_text(_ml2_conf(["physnet1"]))
        # neutron-db-manage upgrade fails on sqlite (ALTER of constraints): create, then stamp.
        _run([str(openstack / "bin/python"), "-c",
              "import sys; from sqlalchemy import create_engine; from neutron.db.migration.models import head; "
              "head.get_metadata().create_all(create_engine('sqlite:///' + sys.argv[1]))", str(nt / "neutron.db")], nt)
        _run([str(openstack / "bin/neutron-db-manage"), "--config-file", str(nt / "neutron.conf"),
              "--config-file", str(nt / "ml2_conf.ini"), "stamp", "heads"], nt)
        for name in ("keystone.log", "neutron-server.log", "keystone.conf", "neutron.conf", "ml2_conf.ini"):
            for sub in (ks, nt):
                (sub / name).unlink(missing_ok=True)
        (work / "ready").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(work, target)
    return target


class Service:
    """One WSGI server process (its own process group, killed by PID). Its listening socket is
    bound here, before the process starts, so its URL is known at once (Neutron's configuration
    names Keystone's URL, and both boot at the same time)."""

    def __init__(self, name: str, target: str, workdir: Path, env: dict[str, str], venv_name: str = "openstack"):
        self.name, self.target, self.workdir, self.env = name, target, workdir, env
        self.venv_name = venv_name
        self.process: subprocess.Popen | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.port = self._socket.getsockname()[1]
        self.started_at = 0.0

    def start(self) -> None:
        port_file = self.workdir / f"{self.name}.port"
        port_file.unlink(missing_ok=True)
        log = open(self.workdir / f"{self.name}.stderr", "w")
        env = dict(os.environ, **self.env)
        fd = self._socket.fileno()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [str(venv(self.venv_name) / "bin/python"), str(HERE / "wsgi_serve.py"), self.target, str(port_file), str(fd)],
            cwd=self.workdir, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
            pass_fds=(fd,))
        log.close()
        self._socket.close()        # the child holds the listening socket now
        self._port_file = port_file

    def wait(self, path: str = "/") -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.workdir / f"{self.name}.stderr").read_text().strip().splitlines()[-1:] or ["exited"]
                raise RealTierUnavailable(f"real tier: {self.name} exited: {tail[0]}")
            if self._port_file.is_file():      # written once the application is imported
                status, _, _ = _http("GET", f"{self.url}{path}", timeout=10)
                if status < 500:
                    return
            time.sleep(0.1)
        raise RealTierUnavailable(f"real tier: {self.name} did not start within {STARTUP_TIMEOUT:.0f} s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._socket.close()
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.process = None


class OpenStack:
    """Keystone + Neutron for one lab, in ``workdir``. Both boot at once (``start_keystone``):
    Neutron only needs Keystone's URL and the admin password in its configuration, and contacts
    Keystone on its first authenticated request, after ``finish_keystone`` has set that password."""

    def __init__(self, workdir: Path, admin_password: str, region: str, flat_physnets: list[str],
                 rabbitmq_password: str = "rabbitmq-password", service_role: bool = False,
                 rpc_server: bool = False):
        self.workdir = workdir
        # neutron-rpc-server beside the API (the WSGI API consumes no RPC): the real agents'
        # report_state and device RPC. Its log is neutron-server.log too, as in Kolla's one container.
        self.rpc_server = rpc_server
        self.rpc: subprocess.Popen | None = None
        self.service_role = service_role
        self.rabbitmq = RabbitMQ(workdir / "rabbitmq", rabbitmq_password)
        self.admin_password = admin_password
        self.region = region
        self.flat_physnets = flat_physnets or ["physnet1"]
        self.keystone: Service | None = None
        self.neutron: Service | None = None
        self._admin_token: str | None = None
        self._password_changed_at: float | None = None
        self.admin_project_id = ""
        self.admin_user_id = ""

    def start_keystone(self) -> None:
        """Start RabbitMQ, Keystone and Neutron (returns at once; ``finish_keystone`` waits for
        Keystone, ``wait_rabbitmq`` for the broker)."""
        golden = golden_dir()
        self.rabbitmq.start()       # the slowest to boot (Erlang), so first
        ks = self.workdir / "keystone"
        shutil.copytree(golden / "keystone", ks)
        (ks / "keystone.conf").write_text(_keystone_conf(ks))
        self.keystone = Service("keystone", "keystone.wsgi.api:application", ks,
                                {"OS_KEYSTONE_CONFIG_FILES": str(ks / "keystone.conf")})
        self.keystone.start()
        nt = self.workdir / "neutron"
        shutil.copytree(golden / "neutron", nt)
        # Write-ahead logging: Neutron's readers (many threads) no longer block its writers nor the
        # lab's agent rows (MySQL in a real cloud has row locks; sqlite's default journal locks the file).
        with sqlite3.connect(nt / "neutron.db") as db:
            db.execute("PRAGMA journal_mode=WAL")
        shutil.copy(venv("openstack") / "etc/neutron/api-paste.ini", nt / "api-paste.ini")
        (nt / "neutron.conf").write_text(_neutron_conf(nt, self.keystone.url, self.admin_password,
                                                       self.rabbitmq.transport_url))
        (nt / "ml2_conf.ini").write_text(_ml2_conf(self.flat_physnets))
        self.neutron = Service("neutron", "neutron.wsgi.api:application", nt,
                               {"OS_NEUTRON_CONFIG_FILES": f"{nt / 'neutron.conf'};{nt / 'ml2_conf.ini'}"})
        self.neutron.start()
        if self.rpc_server:
            out = open(nt / "neutron-rpc-server.stderr", "w")
            self.rpc = subprocess.Popen(
                [str(venv("openstack") / "bin/python"), str(HERE / "neutron_run.py"), "rpc-server",
                 "--config-file", str(nt / "neutron.conf"), "--config-file", str(nt / "ml2_conf.ini")],
                cwd=nt, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
            out.close()

    def finish_keystone(self) -> None:
        self.keystone.wait("/v3")
        token = self._token(GOLDEN_PASSWORD)
        url = self.keystone.url
        _, _, users = _http("GET", f"{url}/v3/users?name=admin", token=token)
        self.admin_user_id = users["users"][0]["id"]
        _, _, endpoints = _http("GET", f"{url}/v3/endpoints", token=token)
        if self.region != "RegionOne":
            _http("POST", f"{url}/v3/regions", {"region": {"id": self.region}}, token=token)
        for endpoint in endpoints["endpoints"]:
            _http("PATCH", f"{url}/v3/endpoints/{endpoint['id']}",
                  {"endpoint": {"url": f"{url}/v3/", "region_id": self.region}}, token=token)
        if self.service_role:
            # The admin user stands for every service user (Kolla's nova, neutron, placement users
            # hold the "service" role): Nova sends its service token with the user's, and
            # keystonemiddleware refuses a service token without that role (service_token_roles).
            _, _, roles = _http("GET", f"{url}/v3/roles?name=service", token=token)
            _, _, projects = _http("GET", f"{url}/v3/projects?name=admin", token=token)
            _http("PUT", f"{url}/v3/projects/{projects['projects'][0]['id']}/users/{self.admin_user_id}"
                         f"/roles/{roles['roles'][0]['id']}", token=token)
        # Last: the password change revokes the golden token.
        _http("PATCH", f"{url}/v3/users/{self.admin_user_id}", {"user": {"password": self.admin_password}},
              token=token)
        self._password_changed_at = time.monotonic()

    @property
    def admin_token(self) -> str | None:
        """The admin token under the scenario's password, fetched on first use: a password change
        revokes the user's tokens with one-second granularity, so a token issued in the same
        second would be refused; the wait overlaps Neutron's boot instead of adding to it."""
        if self._admin_token is None and self._password_changed_at is not None:
            time.sleep(max(0.0, self._password_changed_at + 1.1 - time.monotonic()))
            self._admin_token = self._token(self.admin_password)
        return self._admin_token

    def _token(self, password: str) -> str:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        status, headers, payload = _http("POST", f"{self.keystone.url}/v3/auth/tokens", body)
        if status != 201:
            raise RealTierUnavailable(f"real tier: keystone refused the admin token ({status})")
        self.admin_project_id = payload["token"]["project"]["id"]
        return headers.get("X-Subject-Token") or headers.get("x-subject-token")

    def wait_rabbitmq(self) -> None:
        self.rabbitmq.wait()

    def start_neutron(self) -> None:
        """Neutron already boots beside Keystone (``start_keystone``); kept for the lab's sequence."""

    def register(self, service_type: str, name: str, url: str) -> None:
        base = self.keystone.url
        _, _, created = _http("POST", f"{base}/v3/services", {"service": {"type": service_type, "name": name}},
                              token=self.admin_token)
        service_id = created["service"]["id"]
        for interface in ("public", "internal", "admin"):
            _http("POST", f"{base}/v3/endpoints", {"endpoint": {"service_id": service_id, "interface": interface,
                                                                "url": url, "region_id": self.region}},
                  token=self.admin_token)

    @property
    def neutron_db(self) -> Path:
        return self.workdir / "neutron" / "neutron.db"

    def stop(self) -> None:
        if self.rpc is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.rpc.pid, sig)
                    self.rpc.wait(timeout=5)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
            self.rpc = None
        for service in (self.neutron, self.keystone):
            if service:
                service.stop()
        self.rabbitmq.stop()
