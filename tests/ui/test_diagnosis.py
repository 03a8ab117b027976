"""Diagnosis screen: live step states from the engine, ask steps through a modal, cancel, errors."""
from __future__ import annotations

from screens.finding import FindingScreen
from screens.modals import AskModal
from wizard.errors import ConfigError

from . import fake_probes
from .fakes import make_app
from .helpers import diagnosis_screen, notifications, settle, to_finished_diagnosis, to_symptoms


def _states(screen) -> dict[str, str]:
    return {step: view.status for (_tree, step), view in screen.steps.items()}


async def _wait_for_modal(app, pilot, kind):
    for _ in range(40):
        if isinstance(app.screen, kind):
            return app.screen
        await pilot.pause(0.05)
    raise AssertionError(f"no {kind.__name__}; screen is {app.screen}")


async def test_ask_step_shows_the_command_and_the_answer_decides_the_branch(tmp_path):
    messages: list = []
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        modal = await _wait_for_modal(app, pilot, AskModal)
        screen = diagnosis_screen(app)
        # Live state while the engine thread waits for the operator.
        assert _states(screen) == {"server-fault": "ok", "port-binding": "ok", "agent-alive": "running",
                                   "agent-logs": "waiting", "bridge-mapping": "waiting"}
        assert modal.asked.command == "ssh compute1 docker ps --filter name=neutron_openvswitch_agent"
        assert "SSH connection refused" in modal.asked.reason
        assert any("SSH connection refused" in n for n in notifications(messages))
        choices = modal.query_one("#ask-choices")
        assert choices.get_option_at_index(0).id == "alive"
        await pilot.press("enter")                     # "It is listed and Up"
        await settle(app, pilot, rounds=5)
        assert screen.finished
        assert _states(screen) == {"server-fault": "ok", "port-binding": "ok", "agent-alive": "ok",
                                   "agent-logs": "skipped", "bridge-mapping": "fault"}
        assert [f.id for f in app.session.report.findings] == ["bridge-mapping-missing"]
        bar = screen.query_one("#diagnosis-progress")
        assert bar.progress == bar.total == 5
        log_text = "\n".join(screen.transcript)
        assert "bridge_mappings = physnet2:br-ex2" in log_text
        assert "→ fine: alive (from your answer)" in log_text
        # The evidence that decided the branch.
        evidence = str(screen.query_one("#diagnosis-evidence").content)
        assert "Outcome: fault: missing" in evidence and "no bridge for physnet1" in evidence
        # Enter on the finding opens it.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        assert app.screen.finding.id == "bridge-mapping-missing"


async def test_other_answer_walks_the_other_branch(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await _wait_for_modal(app, pilot, AskModal)
        await pilot.press("down", "enter")             # "It is missing or Restarting"
        await settle(app, pilot, rounds=5)
        screen = diagnosis_screen(app)
        assert _states(screen)["agent-logs"] == "fault"
        assert _states(screen)["bridge-mapping"] == "skipped"
        assert [f.id for f in app.session.report.findings] == ["agent-dead"]


async def test_cancel_while_asked_stops_the_walk(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await _wait_for_modal(app, pilot, AskModal)
        diagnosis_screen(app).action_cancel()
        await settle(app, pilot, rounds=5)
        screen = diagnosis_screen(app)
        assert app.screen is screen
        assert screen.finished and app.session.report.cancelled
        assert "Cancelled" in str(screen.query_one("#diagnosis-status").content)
        assert app.session.report.findings == []


async def test_skipping_the_question_leaves_the_step_unknown(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await _wait_for_modal(app, pilot, AskModal)
        await pilot.press("escape")
        await settle(app, pilot, rounds=5)
        screen = diagnosis_screen(app)
        assert _states(screen)["agent-alive"] == "unknown"
        assert str(screen.query_one("#diagnosis-status").content).startswith("Unexplained")   # never "no fault"


async def test_engine_failure_shows_an_error_panel_not_a_traceback(tmp_path):
    messages: list = []

    def broken_engine(trees, ctx, answerer, cancel):
        raise ConfigError("/etc/kolla/globals.yml:12", "could not find expected ':'", "fix the YAML")

    app = make_app(tmp_path, make_engine=broken_engine)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await settle(app, pilot, rounds=4)
        screen = diagnosis_screen(app)
        panel = screen.query_one("#diagnosis-error")
        assert panel.display
        assert "/etc/kolla/globals.yml:12: could not find expected ':' (fix the YAML)" in str(panel.content)
        assert any("globals.yml:12" in n for n in notifications(messages))
        assert app.is_running


async def test_unexpected_probe_bug_is_a_problem_line_not_a_crash(tmp_path, monkeypatch):
    def boom(ctx, args, emit):
        raise ZeroDivisionError("division by zero")

    from wizard.probes.registry import _REGISTRY, ProbeSpec
    spec = _REGISTRY["ui_port_binding"]
    monkeypatch.setitem(_REGISTRY, "ui_port_binding", ProbeSpec(spec.name, boom, spec.outcomes, spec.summary,
                                                                 spec.requires, spec.args))
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await settle(app, pilot, rounds=5)
        screen = diagnosis_screen(app)
        assert screen.finished
        assert _states(screen)["port-binding"] == "unknown"
        log_text = "\n".join(screen.transcript)
        assert "ZeroDivisionError" in log_text


async def test_triage_continues_in_the_tree_it_routes_to(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_finished_diagnosis(app, pilot, symptom_index=3)
        screen = diagnosis_screen(app)
        trees = {tree for (tree, _step) in screen.steps}
        assert trees == {"triage", "max-retries"}
        assert [f.id for f in app.session.report.findings] == ["bridge-mapping-missing"]
        fake_probes.reset_state()


async def test_an_unconcluded_diagnosis_never_says_no_fault(tmp_path):
    """Defect 4: a step that could not be checked leaves the tree '?'; the status must not say
    'no fault found' (the CLI says UNKNOWN, exit 3)."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await _wait_for_modal(app, pilot, AskModal)
        await pilot.press("escape")                    # "I can't tell"
        await settle(app, pilot, rounds=5)
        screen = diagnosis_screen(app)
        assert screen.finished and app.session.report.exit_code() == 3
        status = str(screen.query_one("#diagnosis-status").content)
        assert "no fault" not in status.lower(), status
        assert status.startswith("Unexplained"), status


async def test_the_log_wraps_so_conclusions_are_not_cut(tmp_path):
    """Defect 10: no line of the diagnosis log runs past the pane's edge."""
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        log = diagnosis_screen(app).query_one("#diagnosis-output")
        assert any(len(line) > log.scrollable_content_region.width for line in diagnosis_screen(app).transcript)
        await pilot.pause()
        assert log.virtual_size.width <= log.scrollable_content_region.width, \
            (log.virtual_size, log.scrollable_content_region)
        await pilot.resize_terminal(60, 24)            # narrower: wrapped again, still nothing cut
        await settle(app, pilot)
        assert log.virtual_size.width <= log.scrollable_content_region.width


async def test_the_focused_pane_is_visible_and_findings_are_counted(tmp_path):
    """Defect 11: tab through the panes; the focused one's border differs from its unfocused look."""
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        screen = diagnosis_screen(app)
        for selector in ("#diagnosis-steps", "#diagnosis-evidence-box", "#diagnosis-output", "#diagnosis-findings"):
            widget = screen.query_one(selector)
            screen.set_focus(None)
            await pilot.pause()
            before = widget.styles.border_top
            widget.focus()
            await pilot.pause()
            assert screen.focused is widget, selector
            assert widget.styles.border_top != before, f"{selector}: focus does not show"
        box = screen.query_one("#diagnosis-findings")
        assert box.border_title.startswith(f"{len(app.session.report.findings)} finding")


async def test_outcomes_are_words_not_ids(tmp_path):
    """Defect 20: the log and the evidence pane say what an outcome means, not its id."""
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        screen = diagnosis_screen(app)
        text = "\n".join(screen.transcript)
        assert "(ok)" not in text and "(fault)" not in text and "binding-failed" not in text, text
        assert "→ fine: binding failed" in text


async def test_batched_walk_shows_every_events_line_in_order(tmp_path, monkeypatch):
    """The screen applies the worker's events in batches (one repaint per batch): after the walk,
    the log still holds a line for every event, in the engine's order, and every step's mark."""
    from screens.diagnosis import DiagnosisScreen
    from wizard import events as ev

    posted: list = []
    post = DiagnosisScreen._post_event

    def recording(self, event):
        posted.append(event)
        post(self, event)

    monkeypatch.setattr(DiagnosisScreen, "_post_event", recording)
    app = make_app(tmp_path)
    log_when_asked: list[list[str]] = []

    class RecordingAskModal(AskModal):
        def __init__(self, asked):
            log_when_asked.append(list(diagnosis_screen(app).transcript))
            super().__init__(asked)

    monkeypatch.setattr("screens.diagnosis.AskModal", RecordingAskModal)
    async with app.run_test(size=(100, 30)) as pilot:
        await to_symptoms(app, pilot)
        await pilot.press("d")
        await _wait_for_modal(app, pilot, AskModal)
        screen = diagnosis_screen(app)
        # The step's question is in the log when its dialog opens, though its batch may not be due.
        assert len(log_when_asked) == 1 and log_when_asked[0][-2].startswith("  ? ")
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
        assert screen.finished
        needles = []
        for event in posted:
            if isinstance(event, ev.TreeStarted):
                needles.append(f"== {event.title}")
            elif isinstance(event, ev.StepStarted):
                needles.append(f"▶ {event.title}  [{event.probe}]")
            elif isinstance(event, ev.Output):
                needles.append(f"  {event.line}")
            elif isinstance(event, ev.Asked):
                needles += [f"  ? {event.question}", f"    $ {event.command}"]
            elif isinstance(event, ev.StepOutcome):
                needles.append("  → ")
            elif isinstance(event, ev.FindingRaised):
                needles.append(f"  ✘ finding {event.finding.id}: ")
            elif isinstance(event, ev.TreeDone):
                needles.append("== ")
        assert sum(isinstance(e, ev.Output) for e in posted) >= 1 and isinstance(posted[-1], ev.Done)
        log = screen.query_one("#diagnosis-output").plain_lines
        assert log == screen.transcript
        at = 0
        for needle in needles:
            found = next((i for i in range(at, len(log)) if log[i].startswith(needle)), None)
            assert found is not None, f"no line {needle!r} after line {at} of the log:\n" + "\n".join(log)
            at = found + 1
        # Every step the engine reported carries its final mark in the steps list.
        steps = screen.query_one("#diagnosis-steps")
        outcomes = {(e.tree, e.step): e.status for e in posted if isinstance(e, ev.StepOutcome)}
        assert outcomes
        for (tree, step), status in outcomes.items():
            assert screen.steps[(tree, step)].status == status
            prompt = str(steps.get_option(f"{tree}/{step}").prompt)
            assert prompt == str(screen._label(screen.steps[(tree, step)]))
        bar = screen.query_one("#diagnosis-progress")
        assert bar.progress == bar.total == 5
