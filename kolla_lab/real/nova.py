"""Real Placement and Nova for one real lab, from ``venv-nova`` (nova 34, openstack-placement 16).

placement-api and nova-api are WSGI applications served like Keystone and Neutron
(``wsgi_serve.py`` on a socket bound here); nova-conductor, nova-scheduler and one nova-compute per
compute node run as their console scripts do (nova_run.py), all on the lab's RabbitMQ. nova-compute
runs in its node's mount and UTS namespaces where the node is real (reading the node's deployed
nova.conf, then ours), Nova's own ``fake.FakeDriverWithoutFakeNodes`` (its guest console from the
lab's guest model) with ``host`` = the node's Nova host name (the scenario's ``nova_host``, else its
hostname), so a build allocates and binds its ports through real Neutron, and a binding
failure, the reschedule, No valid host, the fault and the instance actions and events are Nova's.

Databases are sqlite (API, cell0, cell1, placement). ``db sync`` and the cell mappings run once into
a cached golden copy: cell mappings name their databases by paths relative to the lab's nova
directory (every Nova process runs there) and cell1's transport URL is Nova's template
``{scheme}://{username}:{password}@{hostname}:{port}/``, filled from each lab's ``transport_url``,
so a copy needs no rewriting."""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from ..nodes import NOVA_COMPUTE_CONF
from ..nova_records import COMPUTE_LOG
from .services import HERE, Service, _http, _run
from .venvs import RealTierUnavailable, real_tier_home, venv

GOLDEN_RECIPE = "1"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
STARTUP_TIMEOUT = 180.0
CELL1_TRANSPORT = "{scheme}://{username}:{password}@{hostname}:{port}/"
# Relative: each Nova process runs in the lab's nova directory (see the module docstring).
API_DB = "sqlite:///nova_api.db?timeout=30"
CELL0_DB = "sqlite:///nova_cell0.db?timeout=30"
CELL1_DB = "sqlite:///nova_cell1.db?timeout=30"
PLACEMENT_DB = "sqlite:///placement.db?timeout=30"


def _auth(section: str, keystone_url: str, password: str, region: str) -> str:
    return (f"[{section}]\nauth_type = password\nauth_url = {keystone_url}/v3\nusername = admin\n"
            f"password = {password}\nproject_name = admin\nuser_domain_name = Default\n"
            f"project_domain_name = Default\nregion_name = {region}\nvalid_interfaces = public\n")


def nova_conf(d: Path, host: str, keystone_url: str, password: str, region: str, transport_url: str,
              compute: bool = False) -> str:
    state = f"{d}/state-{host}" if compute else f"{d}/state"      # each compute its own, as on its node
    text = (f"[DEFAULT]\nhost = {host}\nmy_ip = 127.0.0.1\ntransport_url = {transport_url}\n"
            f"state_path = {state}\ninstances_path = {state}/instances\n"
            "use_stderr = false\n")
    if compute:
        # Nova's own fake virt driver for one stable node (FakeDriverWithoutFakeNodes: the node's
        # identity persists in state_path/compute_id, so a restarted nova-compute finds its compute
        # node), its guest console from the lab (nova_run.py): no guest runs, everything around it
        # (network allocation, port binding, claims, placement, events, reschedule) is Nova's.
        text += "compute_driver = kolla_lab_console.ConsoleFakeDriver\n"
    text += (f"[api]\nauth_strategy = keystone\n[wsgi]\napi_paste_config = {d}/api-paste.ini\n"
             f"[api_database]\nconnection = {API_DB}\n[database]\nconnection = {CELL1_DB}\n"
             f"[keystone_authtoken]\nwww_authenticate_uri = {keystone_url}/v3\nauth_url = {keystone_url}/v3\n"
             f"auth_type = password\ninterface = public\nusername = admin\npassword = {password}\n"
             "project_name = admin\nuser_domain_name = Default\nproject_domain_name = Default\n"
             f"region_name = {region}\n"
             + _auth("placement", keystone_url, password, region)
             + _auth("neutron", keystone_url, password, region)
             + f"[glance]\nregion_name = {region}\nvalid_interfaces = public\n"
             f"[oslo_concurrency]\nlock_path = {d}/lock\n"
             "[oslo_messaging_notifications]\ndriver = noop\n"
             "[vnc]\nenabled = false\n[spice]\nenabled = false\n"
             # One worker each (their default is one per CPU): fewer processes on a shared machine.
             "[scheduler]\ndiscover_hosts_in_cells_interval = -1\nworkers = 1\n[conductor]\nworkers = 1\n")
    return text


def placement_conf(d: Path, keystone_url: str, password: str, region: str) -> str:
    return (f"[DEFAULT]\nlog_file = {d}/placement-api.log\nuse_stderr = false\n"
            f"[placement_database]\nconnection = {PLACEMENT_DB}\n[api]\nauth_strategy = keystone\n"
            f"[keystone_authtoken]\nwww_authenticate_uri = {keystone_url}/v3\nauth_url = {keystone_url}/v3\n"
            f"auth_type = password\ninterface = public\nusername = admin\npassword = {password}\n"
            "project_name = admin\nuser_domain_name = Default\nproject_domain_name = Default\n"
            f"region_name = {region}\n")


def golden_dir() -> Path:
    """Build once (under a lock) and return the cached Nova and Placement databases."""
    nova_venv = venv("nova")
    stamp = (nova_venv / ".stamp").read_text().strip()[:12]
    target = real_tier_home() / f"golden-nova-{stamp}-r{GOLDEN_RECIPE}"
    if (target / "ready").is_file():
        return target
    real_tier_home().mkdir(parents=True, exist_ok=True)
    with open(real_tier_home() / "golden-nova.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "ready").is_file():
            return target
        work = target.with_name(target.name + ".tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        conf = work / "nova.conf"
        conf.write_text(nova_conf(work, "controller", "http://127.0.0.1:5000", "x", "RegionOne",
                                  "rabbit://openstack:golden@127.0.0.1:5672/"))
        (work / "placement.conf").write_text(placement_conf(work, "http://127.0.0.1:5000", "x", "RegionOne"))
        manage = [str(nova_venv / "bin/nova-manage"), "--config-file", str(conf)]
        _run([str(nova_venv / "bin/placement-manage"), "--config-file", str(work / "placement.conf"),
              "db", "sync"], work)
        _run(manage + ["api_db", "sync"], work)
        _run(manage + ["cell_v2", "map_cell0", "--database_connection", CELL0_DB], work)
        _run(manage + ["cell_v2", "create_cell", "--name", "cell1", "--database_connection", CELL1_DB,
                       "--transport-url", CELL1_TRANSPORT], work)
        _run(manage + ["db", "sync"], work)        # cell0 and cell1
        for name in ("nova.conf", "placement.conf", "placement-api.log"):
            (work / name).unlink(missing_ok=True)
        shutil.rmtree(work / "state", ignore_errors=True)
        for db in ("nova_api.db", "nova_cell0.db", "nova_cell1.db", "placement.db"):
            with sqlite3.connect(work / db) as handle:
                handle.execute("PRAGMA journal_mode=WAL")
        (work / "ready").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(work, target)
    return target


class Daemon:
    """One Nova console-script process (conductor, scheduler, compute) in its own process group."""

    def __init__(self, name: str, argv: list[str], cwd: Path, log_file: Path, env: dict[str, str] | None = None,
                 log_path: Path | None = None):
        self.name, self.argv, self.cwd, self.log_file = name, argv, cwd, log_file
        self.env = env or {}
        # Where this machine reads the log: log_file itself, except for a compute that runs in its
        # node's mount namespace, whose --log-file is the node's path (the node's file on disk here).
        self.log_path = log_path or log_file
        self.in_node = log_path is not None
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.cwd / f"{self.name}.stderr", "w")
        self.process = subprocess.Popen(self.argv + ["--log-file", str(self.log_file)], cwd=self.cwd,
                                        env=dict(os.environ, **self.env),
                                        stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=3)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self.process = None


class Nova:
    """Placement, nova-api, nova-conductor, nova-scheduler and one nova-compute per host."""

    def __init__(self, workdir: Path, keystone_url: str, admin_password: str, region: str, transport_url: str,
                 compute_hosts: list[str]):
        self.workdir, self.keystone_url, self.password = workdir, keystone_url, admin_password
        self.region, self.transport_url, self.compute_hosts = region, transport_url, list(compute_hosts)
        self.placement: Service | None = None
        self.api: Service | None = None
        self.daemons: dict[str, Daemon] = {}
        # Nova host -> (a PID in its node's mount and UTS namespaces, the node's nova-compute.log on
        # this machine's disk), set by the lab before start_services for the nodes it runs as real.
        self.compute_namespaces: dict[str, tuple[int, Path]] = {}

    @property
    def console_dir(self) -> Path:
        """The guests' consoles (one file per instance UUID), written by the lab."""
        return self.workdir / "consoles"

    def conf_for(self, host: str, compute: bool = False) -> Path:
        path = self.workdir / (f"nova-compute-{host}.conf" if compute else "nova.conf")
        (self.workdir / (f"state-{host}" if compute else "state")).mkdir(exist_ok=True)
        path.write_text(nova_conf(self.workdir, host, self.keystone_url, self.password, self.region,
                                  self.transport_url, compute=compute))
        return path

    def start_apis(self) -> None:
        """Copy the golden databases and start placement-api and nova-api (returns at once)."""
        golden = golden_dir()
        d = self.workdir
        shutil.copytree(golden, d, dirs_exist_ok=True)
        (d / "lock").mkdir(exist_ok=True)
        self.console_dir.mkdir(exist_ok=True)
        shutil.copy(venv("nova") / "etc/nova/api-paste.ini", d / "api-paste.ini")
        (d / "placement.conf").write_text(placement_conf(d, self.keystone_url, self.password, self.region))
        self.conf_for("controller")
        (d / "nova-api.conf").write_text(self.conf_for("controller").read_text()
                                         .replace("[DEFAULT]\n", f"[DEFAULT]\nlog_file = {d}/nova-api.log\n", 1))
        self.placement = Service("placement", "placement.wsgi.api:application", d,
                                 {"OS_PLACEMENT_CONFIG_DIR": str(d)}, venv_name="nova")
        self.placement.start()
        self.api = Service("nova-api", "nova.wsgi.osapi_compute:application", d,
                           {"OS_NOVA_CONFIG_DIR": str(d), "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova-api.conf"},
                           venv_name="nova")
        self.api.start()

    def start_services(self) -> None:
        """nova-conductor, nova-scheduler and the computes (after the broker is up)."""
        run = [str(venv("nova") / "bin/python"), str(HERE / "nova_run.py")]
        conf = self.workdir / "nova.conf"
        for name in ("conductor", "scheduler"):
            self.daemons[f"nova-{name}"] = Daemon(f"nova-{name}", run + [name, "--config-file", str(conf)],
                                                  self.workdir, self.workdir / f"nova-{name}.log")
        for host in self.compute_hosts:
            self.daemons[f"nova-compute@{host}"] = self._compute(host, run)
        for daemon in self.daemons.values():
            daemon.start()

    def _compute(self, host: str, run: list[str]) -> Daemon:
        """One nova-compute. On a real node it runs in the node's mount and UTS namespaces, as
        Kolla's nova_compute container runs on its host: it reads the node's deployed
        /etc/kolla/nova-compute/nova.conf (what the deploy wrote there, an operator's overrides
        included; a restart re-reads it) and then the lab's file, which only points it at this
        machine's services and Nova's fake driver (oslo.config: the last file wins a key), and
        logs into the node's /var/log/kolla/nova/nova-compute.log itself. (Kolla mounts
        /etc/kolla/nova-compute/ into the nova_compute container, whose kolla_start copies nova.conf
        to /etc/nova/nova.conf at every start: roles/nova-cell/templates/nova-compute.json.j2.)"""
        conf = str(self.conf_for(host, compute=True))
        env = {"KOLLA_LAB_CONSOLE_DIR": str(self.console_dir)}
        where = self.compute_namespaces.get(host)
        if where is None:
            return Daemon(f"nova-compute-{host}", run + ["compute", "--config-file", conf], self.workdir,
                          self.workdir / f"nova-compute-{host}.log", env=env)
        pid, log_path = where
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("")       # the lab model's lines go: from here on the file is Nova's
        return Daemon(f"nova-compute-{host}",
                      [NSENTER, f"--target={pid}", "--mount", "--uts", "--", *run, "compute",
                       "--config-file", NOVA_COMPUTE_CONF, "--config-file", conf],
                      self.workdir, Path(COMPUTE_LOG), env=env, log_path=log_path)

    def wait_apis(self) -> None:
        self.placement.wait("/")
        self.api.wait("/")

    def wait_computes(self, token: str) -> None:
        """Every nova-compute reported its service as up, then map the hosts to cell1
        (``nova-manage cell_v2 discover_hosts``, as Kolla runs it after deploying computes)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        url = f"{self.api.url}/v2.1/os-services?binary=nova-compute"
        want = set(self.compute_hosts)
        while True:
            for daemon in self.daemons.values():
                if not daemon.alive():
                    raise RealTierUnavailable(f"real tier: {daemon.name} exited: {self._tail(daemon)}")
            status, _, body = _http("GET", url, token=token)
            up = {s["host"] for s in body.get("services", []) if s.get("state") == "up"} if status == 200 else set()
            if want <= up:
                break
            if time.monotonic() > deadline:
                raise RealTierUnavailable(f"real tier: nova-compute not up within {STARTUP_TIMEOUT:.0f} s "
                                          f"(up: {sorted(up)})")
            time.sleep(0.2)
        if want:
            _run([str(venv("nova") / "bin/nova-manage"), "--config-file", str(self.workdir / "nova.conf"),
                  "cell_v2", "discover_hosts"], self.workdir)

    @staticmethod
    def _tail(daemon: Daemon) -> str:
        for path in (daemon.cwd / f"{daemon.name}.stderr", daemon.log_path):
            try:
                lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
            except OSError:
                continue
            if lines:
                return lines[-1][:300]
        return "no output"

    def follow(self, name: str, running: bool) -> None:
        """A node's container was started or stopped (docker start/stop/restart through the
        stand-in, a fix's restart): the real process follows."""
        daemon = self.daemons.get(name)
        if daemon is None:
            return
        if daemon.alive():
            daemon.stop()
        if running:
            daemon.start()

    def exit_code(self, name: str) -> int | None:
        """None while the process runs (or was never started), else docker's exit code for it."""
        daemon = self.daemons.get(name)
        if daemon is None or daemon.process is None:
            return None
        code = daemon.process.poll()
        if code is None:
            return None
        return code if code >= 0 else 128 - code

    def processes(self) -> dict[str, subprocess.Popen | None]:
        procs = {"placement-api": self.placement.process if self.placement else None,
                 "nova-api": self.api.process if self.api else None}
        procs.update({name: d.process for name, d in self.daemons.items()})
        return procs

    def log_of(self, name: str) -> Path:
        if name in ("placement-api", "nova-api"):
            return self.workdir / f"{name}.log"
        return self.daemons[name].log_path

    def logs_in_node(self, name: str) -> bool:
        """The process writes its node's log file itself (nothing to copy there)."""
        daemon = self.daemons.get(name)
        return daemon is not None and daemon.in_node

    def stop(self) -> None:
        # All at once and briefly: oslo.service's graceful shutdown would wait up to a minute each.
        for daemon in self.daemons.values():
            daemon.signal(signal.SIGTERM)
        for daemon in self.daemons.values():
            daemon.stop()
        for service in (self.api, self.placement):
            if service:
                service.stop()


__all__ = ["Nova", "golden_dir", "HERE"]
