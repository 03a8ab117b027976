"""run_app, as the CLI calls it: the first screen draws before make_settings finishes, and the lab
is stopped on the way out."""
from __future__ import annotations

import threading
import time

from screens import app as app_module
from screens.start import StartScreen

from .fakes import make_services


def test_run_app_paints_first_then_stops_the_lab(tmp_path, monkeypatch):
    events: list[str] = []
    release = threading.Event()
    settings, _ = make_services(tmp_path).make_settings()

    class Lab:
        cloud_name = "kolla-lab"

        def stop(self):
            events.append("lab stopped")

    def make_settings():
        events.append("make_settings called")
        release.wait(10)
        return settings, Lab()

    async def auto_pilot(pilot):
        app = pilot.app
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        events.append("first screen drawn")
        release.set()
        for _ in range(100):
            await pilot.pause(0.05)
            if app.session.ready:
                break
        assert app.session.lab is not None
        await pilot.press("ctrl+q")

    original_run = app_module.WizardApp.run

    def headless_run(self, **kwargs):
        self.animation_level = "none"
        return original_run(self, headless=True, size=(80, 24), auto_pilot=auto_pilot)

    monkeypatch.setattr(app_module.WizardApp, "run", headless_run)
    started = time.monotonic()
    code = app_module.run_app(make_settings, demo=True, scenario="seed-homelab", args=None)
    assert code == 0
    assert time.monotonic() - started < 60
    assert events.index("first screen drawn") < events.index("lab stopped")
    assert events.count("lab stopped") == 1
