"""End to end on the embedded lab, the way an operator would do it, through the real engine, probes,
remedies, apply and runbook: start, pick MaxRetriesExceeded on seed-homelab, reach
bridge-mapping-missing, apply the quick fix after confirming, see it verified, export the runbook
and find the file on disk."""
from __future__ import annotations

import os

import pytest

from screens.app import WizardApp
from screens.finding import FindingScreen
from screens.modals import AskModal, ConfirmApply
from screens.runbook import RunbookScreen
from screens.services import Services
from screens.symptom import SymptomScreen

from .helpers import click_visible, diagnosis_screen, settle

pytestmark = pytest.mark.timeout(300)


def _lab_services(tmp_path) -> Services:
    from kolla_wizard.main import settings_for_lab, start_lab
    from wizard.cli import build_parser

    args = build_parser().parse_args(["--demo"])
    labs = []

    def make_settings():
        lab = start_lab("seed-homelab")
        labs.append(lab)
        return settings_for_lab(lab, args), lab

    services = Services(make_settings=make_settings, demo=True, scenario="seed-homelab", args=args,
                        runbook_dir=tmp_path, theme="textual-dark")
    services.started_labs = labs  # type: ignore[attr-defined]
    return services


async def test_max_retries_on_the_seed_homelab(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "unused-clouds.yaml"))  # restored afterwards
    services = _lab_services(tmp_path)
    app = WizardApp(services)
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        # Start: the lab comes up in a worker; the screen says so.
        await settle(app, pilot, rounds=5)
        env = str(app.screen.query_one("#start-env").content)
        assert "embedded lab" in env, env
        await pilot.press("c")
        await settle(app, pilot, rounds=5)
        screen = app.screen
        assert isinstance(screen, SymptomScreen)
        # The instances come from the lab's Nova API; the one in ERROR is preselected.
        targets = screen.query_one("#target-list")
        assert targets.option_count > 1, str(screen.query_one("#target-status").content)
        picked = screen._chosen_target()
        assert "server" in picked
        assert screen.symptom == "max-retries"
        await pilot.press("d")
        for _ in range(120):
            await settle(app, pilot, rounds=1)
            if isinstance(app.screen, AskModal):
                pytest.fail(f"the lab left a step to ask: {app.screen.asked.question} ({app.screen.asked.reason})")
            if diagnosis_screen(app).finished:
                break
        diagnosis = diagnosis_screen(app)
        assert diagnosis.finished
        ids = [f.id for f in app.session.report.findings]
        assert "bridge-mapping-missing" in ids
        # Open that finding.
        diagnosis.query_one("#diagnosis-findings").highlighted = ids.index("bridge-mapping-missing")
        await pilot.press("f")
        await settle(app, pilot)
        finding_screen = app.screen
        assert isinstance(finding_screen, FindingScreen)
        if os.environ.get("KOLLA_WIZARD_SCREENSHOT_DIR"):  # the README's picture, from real lab data
            os.makedirs(os.environ["KOLLA_WIZARD_SCREENSHOT_DIR"], exist_ok=True)
            app.save_screenshot("finding.svg", path=os.environ["KOLLA_WIZARD_SCREENSHOT_DIR"])
        remedies = finding_screen.finding.remedies
        quick = next(i for i, r in enumerate(remedies) if not r.durable and r.actions)
        await click_visible(app, pilot, f"#apply-{quick}")
        assert isinstance(app.screen, ConfirmApply)
        assert app.screen.remedy is remedies[quick]
        await pilot.press("y")
        for _ in range(120):
            await settle(app, pilot, rounds=1)
            if not finding_screen.applying:
                break
        result = str(finding_screen.query_one(f"#result-{quick}").content)
        assert result.startswith("✔ Verified"), result
        assert app.session.applied and app.session.applied[-1]["remedy"] == remedies[quick].id
        # Export the runbook and find it on disk.
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, RunbookScreen)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        saved = app.session.saved_runbook
        assert saved and saved.startswith(str(tmp_path))
        text = open(saved, encoding="utf-8").read()
        assert "## Finding `bridge-mapping-missing`" in text
        assert "## Changes applied" in text and remedies[quick].id in text
        await pilot.press("ctrl+q")
    # Leaving the app stopped the lab.
    assert app.session.lab is None


async def test_the_router_fix_shows_the_new_floating_ip(tmp_path, monkeypatch):
    """Issue 20, defect 21: after the router fix the operator sees the floating IP it created."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "unused-clouds.yaml"))
    app = WizardApp(_lab_services(tmp_path))
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, rounds=5)
        await pilot.press("c")
        await settle(app, pilot, rounds=5)
        screen = app.screen
        screen.query_one("#symptom-list").highlighted = 2          # ssh-refused
        await settle(app, pilot, rounds=3)
        screen.query_one("#target-list").highlighted = 0           # let the wizard choose
        await pilot.press("d")
        for _ in range(120):
            await settle(app, pilot, rounds=1)
            if diagnosis_screen(app).finished:
                break
        ids = [f.id for f in app.session.report.findings]
        # The seed's rocky-vm2 has no floating IP; which finding says so is the tree's business
        # (no-router when no router joins its subnet, else fip-not-associated): both remedies allocate one.
        wanted = next((i for i in ("fip-not-associated", "no-router") if i in ids), None)
        assert wanted, ids
        diagnosis_screen(app).query_one("#diagnosis-findings").highlighted = ids.index(wanted)
        await pilot.press("f")
        await settle(app, pilot)
        finding_screen = app.screen
        assert isinstance(finding_screen, FindingScreen)
        index = next(i for i, r in enumerate(finding_screen.finding.remedies) if r.actions)
        finding_screen.query_one(f"#apply-{index}").focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmApply)
        await pilot.press("y")
        for _ in range(120):
            await settle(app, pilot, rounds=1)
            if not finding_screen.applying:
                break
        result = str(finding_screen.query_one(f"#result-{index}").content)
        assert "created: floating IP 192.168.35." in result, result
        assert any("new floating IP 192.168.35." in line
                   for line in finding_screen.query_one("#finding-apply-log").plain_lines)
        await pilot.press("ctrl+q")
