"""What one diagnosis runs against: the cloud, the nodes, the deploy host and the Kolla model.

Everything is built lazily: nothing connects before a probe asks for it, so the TUI draws its
first screen without network work and a missing piece (no SSH access, no inventory) only
affects the steps that need it."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import WizardError
from .evidence import ProbeUnavailable
from .i18n import t


@dataclass
class Settings:
    os_cloud: str | None = None
    inventory: str | None = None              # on the deploy host; default <kolla_config_dir>/multinode
    kolla_config_dir: str = "/etc/kolla"
    deploy_host: str | None = None            # None: this machine; else an ssh_config Host alias
    ssh_config: str | None = None
    known_hosts: list[str] = field(default_factory=list)
    operator_ip: str | None = None            # where the operator connects from (for SG checks)
    server: str | None = None
    api_timeout: float = 20.0
    ssh_timeout: float = 10.0
    max_parallel: int = 32
    answers: dict[str, str] = field(default_factory=dict)
    # Kolla's own templates for the "expected" view: None = auto (found on this machine), "off",
    # or the venv/prefix where kolla-ansible is installed (--kolla-ansible).
    kolla_ansible: str | None = None
    kolla_oracle_timeout: float = 30.0


class Context:
    def __init__(self, settings: Settings, *, cloud: Any = None, nodes: Any = None, deploy: Any = None) -> None:
        self.settings = settings
        self._cloud = cloud
        self._nodes = nodes
        self._deploy = deploy
        self._kolla: Any = None
        self._kolla_error: WizardError | None = None
        self._oracle: Any = None
        self._lock = threading.RLock()
        self.facts: dict[str, Any] = {}
        self.answers: dict[str, str] = dict(settings.answers)
        self.target: dict[str, Any] = {"server": settings.server} if settings.server else {}
        self._problems: list[str] = []
        # What this diagnosis read from the nodes (wizard/readings/memo.py): remedy builders take
        # the walk's readings instead of reading again; refresh() forgets them.
        from .readings.memo import Readings
        self.readings = Readings()

    @property
    def problems(self) -> list[str]:
        """One line per broken input met so far. The Kolla model keeps finding problems after it
        loads (an override INI is parsed when a host's expected config is computed), so its list
        is folded in on every read; appending to the returned list records a problem."""
        model = self._kolla
        for problem in list(getattr(model, "problems", []) or []) if model is not None else []:
            text = problem.one_line() if hasattr(problem, "one_line") else str(problem)
            if text not in self._problems:
                self._problems.append(text)
        return self._problems

    # -- the cloud ------------------------------------------------------------------------
    @property
    def cloud(self):
        with self._lock:
            if self._cloud is None:
                from .cloud import connect_from_config
                self._cloud = connect_from_config(self.settings.os_cloud, api_timeout=self.settings.api_timeout)
            return self._cloud

    # -- nodes over SSH -------------------------------------------------------------------
    @property
    def nodes(self):
        with self._lock:
            if self._nodes is None:
                from .transport.ssh import SSHPool
                self._nodes = SSHPool(
                    ssh_config=self.settings.ssh_config,
                    known_hosts=self.settings.known_hosts or None,
                    connect_timeout=self.settings.ssh_timeout,
                    command_timeout=self.settings.ssh_timeout,
                    max_parallel=self.settings.max_parallel,
                )
            return self._nodes

    def node(self, host: str):
        """The transport to an inventory host, connecting the way the inventory says
        (ansible_host/user/port/become); ``ansible_connection=local`` means this machine."""
        try:
            host_vars = self.kolla.connection_vars(host)
        except (WizardError, ProbeUnavailable):
            host_vars = {}
        if str(host_vars.get("ansible_connection", "")) == "local" and not self.settings.deploy_host:
            from .transport.local import LocalTransport
            return LocalTransport(host)
        return self.nodes.transport_for(host, host_vars)

    # -- the deploy host (/etc/kolla, the inventory, kolla-ansible) -----------------------
    @property
    def deploy(self):
        with self._lock:
            if self._deploy is None:
                if self.settings.deploy_host:
                    self._deploy = self.nodes.transport(self.settings.deploy_host)
                else:
                    from .transport.local import LocalTransport
                    self._deploy = LocalTransport()
            return self._deploy

    @property
    def kolla(self):
        """The Kolla configuration model, read once from the deploy host."""
        with self._lock:
            if self._kolla is None and self._kolla_error is None:
                from .kolla.model import KollaModel
                try:
                    from .readings.memo import RememberingReader
                    self._kolla = KollaModel.load(RememberingReader(self.deploy, self.readings),
                                                  config_dir=self.settings.kolla_config_dir,
                                                  inventory_path=self.settings.inventory,
                                                  kolla_ansible_prefix=self._local_kolla_ansible_prefix())
                    for problem in getattr(self._kolla, "problems", []):
                        text = problem.one_line() if hasattr(problem, "one_line") else str(problem)
                        if text not in self.problems:
                            self.problems.append(text)
                except WizardError as exc:
                    self._kolla_error = exc
                    # Probes that can do without the model swallow this; the operator must still
                    # learn why (e.g. the deploy host is unreachable), once.
                    text = t("Kolla configuration not read: {error}", error=exc.one_line())
                    if text not in self.problems:
                        self.problems.append(text)
            if self._kolla_error is not None:
                raise ProbeUnavailable(self._kolla_error.one_line())
            return self._kolla

    def _local_kolla_ansible_prefix(self) -> str | None:
        """On the deploy host itself, the kolla-ansible the oracle uses (e.g. a venv found through
        PATH) also gives the model Kolla's own group_vars; a remote deploy host's model reads
        that host's files only."""
        if self.settings.deploy_host:
            return None
        found = self.kolla_oracle.kolla_ansible
        return str(found.prefix) if found is not None else None

    @property
    def kolla_oracle(self):
        """Kolla's own templates (where kolla-ansible is installed here), rendered lazily and at
        most once per host per diagnosis; see wizard/kolla/oracle.py."""
        with self._lock:
            if self._oracle is None:
                from .kolla.oracle import KollaOracle
                self._oracle = KollaOracle(self.settings.kolla_ansible, timeout=self.settings.kolla_oracle_timeout)
            return self._oracle

    def refresh(self) -> None:
        """Forget what was read (after a fix), so verification sees fresh state."""
        with self._lock:
            if self._cloud is not None:
                self._cloud.refresh()
            self.readings.clear()
            self._kolla = None
            self._kolla_error = None
            self._oracle = None   # a fix changed the configuration: render again if asked

    def close(self) -> None:
        cloud = getattr(self, "_cloud", None)
        if cloud is not None and hasattr(cloud, "close"):
            cloud.close()
        if self._nodes is not None:
            try:
                self._nodes.close()
            except Exception:
                pass
