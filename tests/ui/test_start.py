"""Start screen: draws before any cloud work, shows what was found and missing, survives errors."""
from __future__ import annotations

import subprocess
import sys
import threading

from screens.app import WizardApp
from screens.start import StartScreen
from screens.symptom import SymptomScreen
from wizard.errors import ConfigError

from .fakes import make_app, make_services
from .helpers import notifications, settle


async def test_first_screen_draws_before_settings_are_ready(tmp_path):
    gate = threading.Event()
    services = make_services(tmp_path)
    real = services.make_settings

    def slow_settings():
        gate.wait(10)        # like starting the lab: the UI must not wait for it
        return real()

    services.make_settings = slow_settings
    app = WizardApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert "Reading the settings" in str(app.screen.query_one("#start-env").content)
        assert app.screen.query_one("#start-continue").disabled
        await pilot.press("enter")               # not ready: stays put
        assert isinstance(app.screen, StartScreen)
        gate.set()
        await settle(app, pilot)
        assert not app.screen.query_one("#start-continue").disabled


async def test_found_and_missing_are_shown_and_enter_continues(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = str(app.screen.query_one("#start-env").content)
        assert "✔ Cloud: homelab" in text
        assert "✘ ssh_config: /home/op/.ssh/config" in text and "pass --ssh-config PATH" in text
        assert app.screen.query_one("#start-cloud").value == "homelab"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SymptomScreen)


async def test_picking_another_cloud_changes_the_settings(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#start-cloud").value = "other"
        await pilot.pause()
        assert app.session.settings.os_cloud == "other"


async def test_demo_says_what_the_lab_is(tmp_path):
    app = make_app(tmp_path, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lab_line = str(app.screen.query_one("#start-lab").content)
        assert "seed-homelab" in lab_line and "127.0.0.1" in lab_line and "nothing real is touched" in lab_line


async def test_broken_settings_give_one_line_and_recheck(tmp_path):
    messages: list = []
    app = make_app(tmp_path, settings_error=ConfigError("/home/op/clouds.yaml:3", "mapping values are not allowed here",
                                                        "fix the YAML"))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        panel = app.screen.query_one("#start-error")
        assert panel.display
        assert "/home/op/clouds.yaml:3: mapping values are not allowed here (fix the YAML)" in str(panel.content)
        assert "Traceback" not in str(panel.content)
        assert any("clouds.yaml:3" in n for n in notifications(messages))
        assert app.screen.query_one("#start-continue").disabled
        # Fixed: r reads everything again.
        app.services.make_settings = make_services(tmp_path).make_settings
        await pilot.press("r")
        await settle(app, pilot)
        assert not app.screen.query_one("#start-error").display
        assert not app.screen.query_one("#start-continue").disabled


def test_importing_the_app_loads_no_cloud_or_ssh_library():
    code = ("import sys, screens.app, screens.start, screens.symptom, screens.diagnosis, screens.finding, "
            "screens.runbook, screens.learn; "
            "bad = [m for m in ('openstack', 'paramiko', 'keystoneauth1') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_quit_stops_the_lab(tmp_path):
    stopped = []

    class Lab:
        cloud_name = "kolla-lab"

        def stop(self):
            stopped.append(True)

    services = make_services(tmp_path)
    settings, _ = services.make_settings()
    services.make_settings = lambda: (settings, Lab())
    app = WizardApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.query_one("#start-cloud").disabled     # the lab is the cloud
        await pilot.press("ctrl+q")
    assert stopped == [True]


async def test_continue_stays_in_the_footer_when_the_cloud_dropdown_has_focus(tmp_path):
    from textual.widgets._footer import FooterKey
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#start-cloud").focus()
        await pilot.pause()
        shown = {k.description: k.key for k in app.screen.query(FooterKey)}
        assert "Continue" in shown, shown
        await pilot.press(shown["Continue"])
        await settle(app, pilot)
        assert isinstance(app.screen, SymptomScreen)


def test_an_absent_optional_ssh_config_is_not_marked_missing(tmp_path, monkeypatch):
    from wizard.context import Settings
    from wizard.environment import describe
    monkeypatch.setenv("HOME", str(tmp_path))          # no ~/.ssh/config here
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))
    env = describe(Settings(os_cloud=None, deploy_host="deploy"))
    item = next(i for i in env.items if i.label == "ssh_config")
    assert item.state != "missing", item


def test_start_screen_reads_os_client_config_file_like_the_diagnosis(tmp_path, monkeypatch):
    """Issue 20, defect 6: the Start screen listed no cloud from OS_CLIENT_CONFIG_FILE while the next
    screen used it. Both now read clouds.yaml through wizard.cloud.cloud_names."""
    from openstack.config import loader

    from wizard.context import Settings
    from wizard.environment import describe
    clouds = tmp_path / "elsewhere.yaml"
    clouds.write_text("clouds:\n  homelab:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n", encoding="utf-8")
    monkeypatch.setattr(loader, "CONFIG_FILES", [str(tmp_path / "absent" / "clouds.yaml")])
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    for var in ("OS_CLOUD", "OS_AUTH_URL"):
        monkeypatch.delenv(var, raising=False)
    env = describe(Settings(os_cloud=None))
    assert env.clouds == ["homelab"] and env.cloud == "homelab"
