"""Issue 20, defects 21-23: a finding never disappears silently on a re-diagnosis; the palette's
Screenshot says where it went or why not; the new floating IP is shown after the router fix."""
from __future__ import annotations

import pytest

from screens.diagnosis import DiagnosisScreen
from screens.finding import FindingScreen
from screens.modals import ConfirmApply
from screens.symptom import SymptomScreen

from .fakes import make_app
from .helpers import diagnosis_screen, notifications, settle, to_finished_diagnosis


async def _rediagnose(app, pilot) -> DiagnosisScreen:
    await pilot.press("escape")                   # back to the symptoms
    await settle(app, pilot)
    assert isinstance(app.screen, SymptomScreen)
    await pilot.press("d")
    await settle(app, pilot, rounds=5)
    screen = diagnosis_screen(app)
    for _ in range(50):
        if screen.finished:
            break
        await settle(app, pilot)
    assert screen.finished
    return screen


async def test_a_finding_the_new_walk_did_not_reach_is_named_not_dropped(tmp_path):
    messages: list = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await to_finished_diagnosis(app, pilot)
        assert [f.id for f in app.session.report.findings] == ["bridge-mapping-missing"]
        app.session.settings.answers["agent-alive"] = "dead"     # this time the walk goes elsewhere
        screen = await _rediagnose(app, pilot)
        assert "bridge-mapping-missing" not in [f.id for f in app.session.report.findings]
        said = "\n".join(screen.transcript)
        assert "bridge-mapping-missing: NOT re-checked" in said, said
        assert any("bridge-mapping-missing: NOT re-checked" in n for n in notifications(messages))


async def test_a_verified_fix_is_why_a_finding_is_gone(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmApply)
        await pilot.press("y")
        await settle(app, pilot, rounds=5)
        assert isinstance(app.screen, FindingScreen)
        assert app.session.applied[-1]["finding"] == "bridge-mapping-missing"
        assert app.session.applied[-1]["status"] == "verified"
        await pilot.press("escape")
        await settle(app, pilot)
        screen = await _rediagnose(app, pilot)
        assert any("bridge-mapping-missing: fixed (verified) earlier in this session." in line
                   for line in screen.transcript), screen.transcript
        assert app.session.applied, "the changes made earlier in the session are kept for the runbook"


async def test_after_a_verified_fix_the_summary_says_fixed_and_the_runbook_keeps_it(tmp_path):
    """Issue 20, defect 16: back on the diagnosis after a verified fix, the tree, the status line and
    the findings box say fixed, not fault; so does the runbook's summary; and a runbook exported after
    a re-diagnosis still lists the change made earlier in the session (each backup once)."""
    from screens.runbook import RunbookScreen
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot, rounds=5)
        assert app.session.applied[-1]["status"] == "verified"
        await pilot.press("escape")
        await settle(app, pilot)
        screen = diagnosis_screen(app)
        assert app.screen is screen
        status = str(screen.query_one("#diagnosis-status").render())
        assert "fixed and verified" in status and "fault" not in status, status
        tree = screen.query_one("#diagnosis-steps").get_option_at_index(0).prompt
        assert str(tree).startswith("✔"), tree
        listed = str(screen.query_one("#diagnosis-findings").get_option_at_index(0).prompt)
        assert listed.startswith("✔") and "fixed, verified" in listed, listed
        markdown = app.services.to_markdown(app.session.report, list(app.session.applied))
        summary = markdown.split("## Summary")[1].split("## Finding")[0]
        assert "FAULT" not in summary and "| fixed |" in summary, summary
        await _rediagnose(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, RunbookScreen)
        changes = app.screen.markdown.split("## Changes applied")[1]
        assert "`bridge-mapping-agent-ini`: verified" in changes, changes
        assert "['" not in changes and changes.count("openvswitch_agent.ini.bak") == 1, changes


async def test_r_walks_the_tree_again_after_a_fix_and_c_never_stops_a_walk(tmp_path):
    """Scorecard, keys: after a verified fix, r on the diagnosis walks the same symptom again (no
    esc, esc, d); stopping a walk is s, since c is Continue on the screen just before it."""
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot)
        first = diagnosis_screen(app)
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a", "y")
        await settle(app, pilot, rounds=5)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is first and "r walks it again" in str(first.query_one("#diagnosis-status").render())
        await pilot.press("r")
        await settle(app, pilot, rounds=5)
        again = diagnosis_screen(app)
        assert again is not first and first not in app.screen_stack
        assert not again.report or not again.report.cancelled
        for _ in range(50):
            if again.finished:
                break
            await settle(app, pilot)
        assert again.finished and not again.report.cancelled
        assert any("fixed (verified) earlier in this session" in line for line in again.transcript), again.transcript
    bindings = {b.key: b.action for b in DiagnosisScreen.BINDINGS}
    assert bindings.get("s") == "cancel" and "c" not in bindings


async def test_palette_screenshot_says_where_it_went(tmp_path):
    messages: list = []
    shots = tmp_path / "not-yet" / "there"
    app = make_app(tmp_path, runbook_dir=shots)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await pilot.press(*"screenshot")
        await settle(app, pilot)
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.05)
            if any("Screenshot saved" in n for n in notifications(messages)):
                break
        saved = [n for n in notifications(messages) if "Screenshot saved" in n]
        assert saved and str(shots) in saved[0]
        assert list(shots.glob("*.svg"))


async def test_palette_screenshot_says_why_not(tmp_path):
    messages: list = []
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = make_app(tmp_path, runbook_dir=blocker / "shots")
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(app, pilot)
        app.action_save_screenshot()
        await pilot.pause()
        said = notifications(messages)
        assert any(str(blocker) in n and "Not a directory" in n for n in said), said
