"""The Lab facade: build the model, serve the APIs and the nodes on 127.0.0.1, write the
client configuration (clouds.yaml, ssh_config, known_hosts, key, inventory)."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .api import API, APIServer
from .build import LabState
from .faults import Faults
from .scenario import load_scenario

CLOUD_NAME = "kolla-lab"


def _new_key() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, public


class Lab:
    cloud_name = CLOUD_NAME

    def __init__(self, scenario: str = "seed-homelab", config_dir: str | os.PathLike | None = None):
        self.scenario = load_scenario(scenario)       # validates now: ScenarioError(file:line)
        self.name = self.scenario["name"]
        self._given_dir = Path(config_dir) if config_dir else None
        self.config_dir: Path | None = None
        self.state: LabState | None = None
        self.api: API | None = None
        self._http: APIServer | None = None
        self._threads: list[threading.Thread] = []
        self._ssh = None
        self._tmp: str | None = None
        self.ports: dict[str, int] = {}
        self.faults = Faults()           # fault switches (docs/scenarios.md, "Faults")
        if self.scenario.get("faults"):
            self.faults.load(self.scenario["faults"])

    @property
    def deploy_host(self) -> str:
        return self.state.deploy.name if self.state else next(
            n for n, s in self.scenario["nodes"].items() if s.get("deploy"))

    @property
    def auth_url(self) -> str:
        return self.api.base if self.api else ""

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> "Lab":
        if self._http:
            return self
        self.client_private, self.client_public = _new_key()
        self.state = LabState(self.scenario, self.client_public)
        self.state.faults = self.faults
        self.api = API(self.state.cloud, self.faults)
        self._http = APIServer(self.api)
        t = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.1},
                             name="kolla-lab-http", daemon=True)
        t.start()
        self._threads.append(t)
        self._start_nodes()
        self.faults.on_change(self._write_known_hosts)
        return self

    def _new_fleet(self):
        """The nodes' SSH servers: paramiko servers answering the lab's command set (the real
        backend overrides this with real sshds)."""
        from .sshd import SSHFleet
        return SSHFleet(self.state, self.client_public, self.faults)

    def _start_nodes(self, config_prefix: str = "kolla-lab-") -> None:
        """The SSH nodes, then the client configuration that points at them (both backends)."""
        self._ssh = self._new_fleet()
        self._ssh.start()
        self.ports = dict(self._ssh.ports)
        if self._given_dir:
            self.config_dir = self._given_dir
            self.config_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._tmp = tempfile.mkdtemp(prefix=config_prefix)
            self.config_dir = Path(self._tmp)
        self._write_config()

    def stop(self) -> None:
        if self._ssh:
            self._ssh.stop()
            self._ssh = None
        if self._http:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- counters ---------------------------------------------------------------------------
    def request_count(self) -> int:
        return sum(self.api.counts.values()) if self.api else 0

    def request_counts(self) -> dict[str, int]:
        base = {"identity": 0, "compute": 0, "network": 0, "image": 0}
        if self.api:
            base.update(self.api.counts)
        return base

    def reset_request_count(self) -> None:
        if self.api:
            with self.api.count_lock:
                self.api.counts.clear()

    # --- client configuration ----------------------------------------------------------------
    def _write(self, name: str, text: str, mode: int = 0o644) -> Path:
        path = self.config_dir / name
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        return path

    def _write_known_hosts(self) -> None:
        """known_hosts as an operator's would be; a node with the ``host_key: unknown`` fault is
        left out (never recorded), so its key is unknown to every client."""
        if self.config_dir is None or self._ssh is None:
            return
        lines = []
        for name in self.state.nodes:
            if self.faults.node(name).get("host_key") == "unknown":
                continue
            host_pub = self._ssh.host_public(name)
            lines.append(f"[127.0.0.1]:{self.ports[name]} {host_pub}")
            lines.append(f"{name} {host_pub}")
        self._write("known_hosts", "\n".join(lines) + "\n")

    def _write_config(self) -> None:
        st = self.state
        admin = next(iter(st.cloud.users.values()))
        project = st.cloud.project()
        import yaml
        clouds = {"clouds": {CLOUD_NAME: {
            "auth": {"auth_url": self.api.base + "/v3", "username": admin["name"], "password": admin["password"],
                     "project_name": project["name"], "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": st.cloud.region, "interface": "public", "identity_api_version": 3}}}
        self._write("clouds.yaml", yaml.safe_dump(clouds, sort_keys=False), 0o600)
        key = self._write("id_ed25519", self.client_private, 0o600)
        self._write("id_ed25519.pub", self.client_public + "\n", 0o644)
        known = self.config_dir / "known_hosts"
        cfg = []
        for name, node in st.nodes.items():
            port = self.ports[name]
            cfg += [f"Host {name}", "    HostName 127.0.0.1", f"    Port {port}", f"    User {node.ssh_user}",
                    f"    IdentityFile {key.resolve()}", "    IdentitiesOnly yes",
                    f"    UserKnownHostsFile {known.resolve()}", "    StrictHostKeyChecking yes",
                    f"    HostKeyAlias {name}", "    CheckHostIP no", "    LogLevel ERROR", ""]
        self._write_known_hosts()
        self._write("ssh_config", "# kolla-lab: nodes of scenario %s (127.0.0.1 only)\n" % self.name + "\n".join(cfg))
        inv = st.deploy.read("/etc/kolla/multinode") or ""
        self._write("inventory", inv)
