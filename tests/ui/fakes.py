"""Services for UI tests: the real engine and runbook over the test playbooks and probes, a
cloud reader that answers from a list, a fixed clock, and an apply that changes the test probes'
state and then proves the fix with the engine's own verify_walk, the walk production takes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from screens.app import WizardApp
from wizard.environment import EnvItem, Environment
from screens.services import Services
from wizard.context import Context, Settings

from . import fake_probes

PLAYBOOKS = Path(__file__).parent / "playbooks"
FIXED_NOW = datetime(2025, 3, 14, 9, 26, 53)
FIXED_STARTED = "2025-03-14T09:26:53+00:00"

SERVERS = [
    {"id": "5b1d9c2e-0000-4000-8000-000000000001", "name": "web-1", "status": "ERROR"},
    {"id": "77aa0f10-0000-4000-8000-000000000002", "name": "db-1", "status": "ACTIVE"},
    {"id": "91c3e5d4-0000-4000-8000-000000000003", "name": "cache-1", "status": "ACTIVE"},
]
NETWORKS = [
    {"id": "2f6b0c1d-0000-4000-8000-000000000010", "name": "public", "status": "ACTIVE"},
    {"id": "3a7c1d2e-0000-4000-8000-000000000011", "name": "private-net", "status": "ACTIVE"},
]


class ListCloud:
    """Answers the CloudReader methods the screens use from fixed lists."""

    request_count = 0

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail

    def _give(self, items):
        if self.fail is not None:
            raise self.fail
        return [dict(i) for i in items]

    def servers(self):
        return self._give(SERVERS)

    def networks(self):
        return self._give(NETWORKS)

    def floating_ips(self):
        return self._give([])

    def routers(self):
        return self._give([])

    def refresh(self) -> None:
        pass


@dataclass
class ApplyResult:
    status: str
    message: str
    backup: str | None = None
    remedy: str = ""

    finding: str = ""

    def to_dict(self) -> dict[str, Any]:   # the keys wizard.remedies.apply.ApplyResult.to_dict has
        out = {"remedy": self.remedy, "finding": self.finding, "status": self.status,
               "result": f"{self.status}: {self.message}"}
        if self.backup:
            out["backup"] = self.backup
        return out


def fake_apply(ctx, engine, finding, remedy, *, dry_run=False, emit=lambda _l: None):
    for action in remedy.actions:
        emit(f"{type(action).__name__}: {getattr(action, 'path', None) or getattr(action, 'argv', '')}")
    fake_probes.STATE["bridge_mappings"] = "physnet1:br-ex"
    walk = engine.verify_walk(finding.tree, finding.step, finding.id, facts=finding.facts)  # the production proof
    if walk.first is not None and not walk.again:
        return ApplyResult("verified", f"re-ran {finding.step}: {walk.first.observations[0]}",
                           backup="/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini.bak-20250314",
                           remedy=remedy.id, finding=finding.id)
    return ApplyResult("rolled-back", "the probe still sees the fault; the backup was restored", remedy=remedy.id,
                       finding=finding.id)


def fixed_environment() -> Environment:
    return Environment(
        items=[
            EnvItem("Cloud", "homelab (from --os-cloud / OS_CLOUD)", "found"),
            EnvItem("clouds.yaml", "homelab, other", "found"),
            EnvItem("Kolla config", "/etc/kolla on deploy host deploy", "later", "read over SSH when a step needs it"),
            EnvItem("Inventory", "/etc/kolla/multinode on deploy host deploy", "later", "read over SSH when a step needs it"),
            EnvItem("ssh_config", "/home/op/.ssh/config", "missing", "pass --ssh-config PATH"),
        ],
        clouds=["homelab", "other"],
        cloud="homelab",
    )


def make_services(tmp_path: Path, *, cloud: Any = None, apply=fake_apply, settings_error: Exception | None = None,
                  demo: bool = False, answers: dict[str, str] | None = None, environment: bool = True,
                  **overrides) -> Services:
    from wizard import playbook

    fake_probes.reset_state()
    settings = Settings(os_cloud="homelab", deploy_host="deploy", answers=dict(answers or {}))

    def make_settings():
        if settings_error is not None:
            raise settings_error
        return settings, None

    def make_engine(trees, ctx, answerer, cancel):
        from wizard.engine import Engine
        engine = Engine(trees, ctx, answerer=answerer, cancel=cancel)
        engine.report.started = FIXED_STARTED   # fixed, so snapshots do not change
        return engine

    services = Services(
        make_settings=make_settings,
        demo=demo,
        scenario="seed-homelab" if demo else None,
        load_trees=lambda: playbook.load_all([PLAYBOOKS]),
        make_context=lambda s: Context(s, cloud=cloud if cloud is not None else ListCloud()),
        make_engine=overrides.pop("make_engine", make_engine),
        apply_remedy=apply,
        runbook_dir=overrides.pop("runbook_dir", tmp_path),
        now=lambda: FIXED_NOW,
        theme="textual-dark",
        **overrides,
    )
    if environment:
        services.describe = lambda *_a: fixed_environment()
    return services


def make_app(tmp_path: Path, **kwargs) -> WizardApp:
    app = WizardApp(make_services(tmp_path, **kwargs))
    app.animation_level = "none"
    return app
