"""Runbook screen: Markdown preview of the session, saved to the path shown; palette entry."""
from __future__ import annotations

from pathlib import Path

from screens.runbook import RunbookScreen

from .fakes import make_app
from .helpers import notifications, settle, to_finished_diagnosis


async def test_preview_and_save_to_the_path_shown(tmp_path):
    messages: list = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        expected = tmp_path / "20250314-092653-max-retries.md"
        assert screen.query_one("#runbook-path").value == str(expected)
        assert "## Finding `bridge-mapping-missing`" in screen.markdown
        assert "Not saved yet" in str(screen.query_one("#runbook-status").content)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert expected.read_text() == screen.markdown
        assert f"Saved to {expected}" == str(screen.query_one("#runbook-status").content)
        assert any(str(expected) in n for n in notifications(messages))
        assert app.session.saved_runbook == str(expected)


async def test_applied_fixes_are_in_the_runbook(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        app.session.applied.append({"remedy": "bridge-mapping-agent-ini", "result": "verified: ok",
                                    "backup": "/etc/x.bak"})
        app.action_runbook()
        await settle(app, pilot)
        assert "## Changes applied" in app.screen.markdown
        assert "`bridge-mapping-agent-ini`: verified: ok (backup: `/etc/x.bak`)" in app.screen.markdown


async def test_unwritable_path_is_reported_and_nothing_crashes(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        app.screen.query_one("#runbook-path").value = str(blocker / "sub" / "runbook.md")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        status = str(app.screen.query_one("#runbook-status").content)
        assert status.startswith("Not saved:") and "Change the path above" in status
        assert app.is_running and app.session.saved_runbook is None


async def test_reachable_from_the_command_palette(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Export runbook", "Jump to symptom", "Finding: bridge-mapping-missing"} <= set(titles)
        assert any(t.startswith("Learn: ") for t in titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"export runbook")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, RunbookScreen)
        # ... and "Jump to symptom" goes back to the symptom list.
        next(c for c in app.get_system_commands(app.screen) if c.title == "Jump to symptom").callback()
        await settle(app, pilot)
        from screens.symptom import SymptomScreen
        assert isinstance(app.screen, SymptomScreen)


async def test_before_any_diagnosis_the_runbook_says_so(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        assert "No diagnosis has run yet" in app.screen.markdown
        assert app.screen.query_one("#runbook-save").disabled
        assert not list(Path(tmp_path).glob("*.md"))


def test_the_runbook_is_not_saved_into_the_current_directory_by_default(tmp_path, monkeypatch):
    """Issue 20, defect 25: a known place, overridable, never the cwd by accident."""
    from screens.services import Services
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOLLA_WIZARD_RUNBOOK_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Services(make_settings=lambda: (None, None)).runbook_dir == tmp_path / "home" / "kolla-wizard-runbooks"
    monkeypatch.setenv("KOLLA_WIZARD_RUNBOOK_DIR", str(tmp_path / "books"))
    assert Services(make_settings=lambda: (None, None)).runbook_dir == tmp_path / "books"


async def test_copy_says_what_was_done_not_copied(tmp_path):
    """Issue 20, defect 25: OSC 52 cannot tell whether the terminal took the text, so the runbook's
    copy says it was sent and what to do when nothing pastes (as the command blocks do)."""
    messages: list = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        assert app.clipboard == app.screen.markdown
        said = [n for n in notifications(messages) if "clipboard" in n]
        assert said and all("copied" not in n.lower() for n in said), said
        assert "OSC 52" in said[-1] and "ctrl+s" in said[-1]


async def test_no_notification_outstays_a_few_seconds(tmp_path):
    """Issue 20, defect 25: a toast stayed 30 s. Through a walk, a verified apply, the runbook's copy
    and save, every notification's lifetime is at most 8 s (the long ones carry a list to read)."""
    from textual.notifications import Notify
    messages: list = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot, rounds=5)
        await pilot.press("e")
        await settle(app, pilot)
        await pilot.press("c", "ctrl+s")
        await settle(app, pilot)
    lifetimes = [m.notification.timeout for m in messages if isinstance(m, Notify)]
    assert len(lifetimes) >= 3 and max(lifetimes) <= 8, lifetimes
