"""Diagnosis: the tree as it is walked, live. Renders engine events; decides nothing itself."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from .i18n import t
from .messages import AnswerNeeded, EngineEventsWaiting
from .modals import AskModal
from .widgets.footer import Footer
from .widgets.wraplog import WrapLog
from .wording import on_screen

STATE_MARK = {
    "waiting": ("○", "$text-muted"),
    "running": ("▶", "$text-accent"),
    "ok": ("✔", "$text-success"),
    "fault": ("✘", "$text-error"),
    "unknown": ("?", "$text-warning"),
    "skipped": ("–", "$text-muted"),
}
SEVERITY_STYLE = {"critical": "$text-error", "warning": "$text-warning", "info": "$text-primary"}
# What a step's status means, in words (the outcome id after it is the probe's, shown as words too).
# English, the catalog key: said through t().
STATUS_WORDS = {"ok": "fine", "fault": "fault", "unknown": "could not tell", "skipped": "not needed",
                "running": "running", "waiting": "waiting"}
# The worker's events are applied in batches, at most one batch (and so one repaint) per this many
# seconds while the walk runs; the last batch (the walk's Done) at once. Rendering each event as it
# came cost more CPU than the walk itself and held back the probes and the in-process lab.
BATCH_SECONDS = 0.1


def outcome_words(outcome: str) -> str:
    """A probe outcome id as words: 'excluded-despite-attempt' -> 'excluded despite attempt'."""
    return str(outcome).replace("-", " ").replace("_", " ")


@dataclass
class StepView:
    tree: str
    step: str
    title: str
    status: str = "waiting"
    why: str = ""
    probe: str = ""
    outcome: str = ""
    via: str = ""
    note: str = ""
    observations: list[str] = field(default_factory=list)
    host: str | None = None
    asked: Any = None


def _tr(text: Any) -> str:
    from wizard.i18n import tr
    return tr(text)


class DiagnosisScreen(Screen):
    HELP = ("**Diagnosis:** the decision tree as it is walked. Left: the steps (✔ ok, ✘ fault, ? could "
            "not tell, – not needed, ▶ running). Right: what the selected step saw, and the probes' log. "
            "Bottom: the findings.\n\n`tab` moves between the panes (the focused one has a bright "
            "border); ↑↓ scroll it.\n\n**Next:** `f` opens the highlighted finding (↑↓ in the findings "
            "list picks another); `e` exports the runbook; `s` stops a running diagnosis; `r` walks it again once it is done; `esc` goes back "
            "to the symptoms.")
    BINDINGS = [
        Binding("f", "findings", "Findings", id="diagnosis.findings", tooltip="Open the findings"),
        # s, not c: c is Continue on the start screen just before, and Copy elsewhere.
        Binding("s", "cancel", "Stop", id="diagnosis.cancel", tooltip="Stop the diagnosis after the current step"),
        Binding("r", "again", "Again", id="diagnosis.again",
                tooltip="Walk the tree again (after a fix: prove it from the start)"),
        Binding("e", "app.runbook", "Runbook", id="diagnosis.runbook", tooltip="Preview and save the runbook"),
        Binding("escape", "back", "Back", id="diagnosis.back", tooltip="Back to the symptoms (cancels a running diagnosis)"),
    ]

    def __init__(self, symptom: str, target: dict[str, str]) -> None:
        super().__init__()
        self.symptom = symptom
        self.target = dict(target)
        self.cancel_event = threading.Event()
        self.steps: dict[tuple[str, str], StepView] = {}
        self.tree_titles: dict[str, str] = {}
        self.current: tuple[str, str] | None = None
        self.follow = True     # the evidence panel follows the running step
        self.finished = False
        self.report: Any = None
        self.engine: Any = None
        self.total_steps = 0
        self.transcript: list[str] = []
        self.gone: list[str] = []          # last run's findings this run did not raise, and why   # the log's lines as written (the widget holds them wrapped)
        self.said: Callable[[], str] = lambda: ""   # the status line, said again after a language switch
        self.error = ""                    # why the worker stopped, shown in the error panel
        self._pending: list[Any] = []      # engine events the worker posted, not yet applied
        self._pending_lock = threading.Lock()
        self._wake_posted = False          # an EngineEventsWaiting is on its way to the UI
        self._flush_timer: Any = None
        self._last_flush = 0.0
        self._show_later: StepView | None = None   # the evidence panel, drawn once per batch
        self._shown: tuple = ()            # what the evidence panel shows: not drawn twice

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="diagnosis-body"):
            with Horizontal(id="diagnosis-top"):
                yield Label("", id="diagnosis-status", markup=False)
                yield ProgressBar(total=None, show_eta=False, id="diagnosis-progress")
            with Horizontal(id="diagnosis-main"):
                yield OptionList(id="diagnosis-steps")
                with Vertical(id="diagnosis-right"):
                    with VerticalScroll(id="diagnosis-evidence-box"):
                        yield Static("", id="diagnosis-evidence")
                    # RichLog wraps: a conclusion is never cut at the pane's edge.
                    yield WrapLog(max_lines=5000, id="diagnosis-output")
            yield Static("", id="diagnosis-error", classes="error-panel", markup=False)
            yield OptionList(id="diagnosis-findings")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._titles()
        self.query_one("#diagnosis-error").display = False
        self.query_one("#diagnosis-findings").display = False
        what = ", ".join(f"{k} {v}" for k, v in self.target.items())
        self._status(lambda: t("Starting: {symptom} ({what})…", symptom=self.symptom,
                               what=what or t("chosen by the wizard")))
        self.run_engine()

    def _titles(self) -> None:
        self.sub_title = t("Diagnosis")
        self.query_one("#diagnosis-steps").border_title = t("Steps")
        self.query_one("#diagnosis-evidence-box").border_title = t("What the step saw")
        self.query_one("#diagnosis-output").border_title = t("Log")
        if self.report is not None:
            self.query_one("#diagnosis-findings").border_title = t(
                "{count} finding(s): ↑↓ choose, f or enter opens", count=len(self.report.findings))

    async def retranslate(self) -> None:
        """After a language switch: the titles, the status line, the error and the selected step's
        panel in the new language, in place (the steps, the findings and the log stay as written)."""
        self._titles()
        self._status(self.said)
        self._show_error()
        self._shown = ()
        steps = self.query_one("#diagnosis-steps", OptionList)
        if steps.highlighted is not None:
            tree, _, step = (steps.get_option_at_index(steps.highlighted).id or "").partition("/")
            if (tree, step) in self.steps:
                self._show(self.steps[(tree, step)])

    def on_unmount(self) -> None:
        self.cancel_event.set()

    # -- the one worker that drives the engine --------------------------------------------
    @work(thread=True, exit_on_error=False, group="diagnosis", exclusive=True)
    def run_engine(self) -> None:
        app = self.app
        services = app.services
        session = app.session
        old = session.ctx
        ctx = services.make_context(session.settings)
        if old is not None and old is not ctx:
            old.close()
        ctx.target = dict(self.target)
        if "server" in self.target:
            ctx.settings.server = self.target["server"]
        session.ctx = ctx
        engine = services.make_engine(session.trees, ctx, self._answer, self.cancel_event)
        session.engine = engine
        for event in engine.run([self.symptom]):
            self._post_event(event)

    def _post_event(self, event: Any) -> None:
        """From the worker: queue the event; wake the UI once per batch, not once per event."""
        with self._pending_lock:
            self._pending.append(event)
            if self._wake_posted:
                return
            self._wake_posted = True
        self.post_message(EngineEventsWaiting())

    def _answer(self, asked: Any) -> str | None:
        """Called from the engine's thread: ask the UI, then wait (cancellable) for the answer."""
        reply: queue.Queue[str | None] = queue.Queue()
        self.post_message(AnswerNeeded(asked, reply))
        while not self.cancel_event.is_set():
            try:
                return reply.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    @on(AnswerNeeded)
    def _ask(self, message: AnswerNeeded) -> None:
        self._flush()                      # the step's question is in the log before the dialog
        self._status(lambda: t("Waiting for your answer: {question}", question=message.asked.question))
        self.app.push_screen(AskModal(message.asked), callback=message.reply.put)

    # -- rendering events -----------------------------------------------------------------
    @on(EngineEventsWaiting)
    def _events_waiting(self, _message: EngineEventsWaiting) -> None:
        with self._pending_lock:
            last = bool(self._pending) and type(self._pending[-1]).__name__ == "Done"
        wait = self._last_flush + BATCH_SECONDS - time.monotonic()
        if last or wait <= 0:
            self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        """Apply every queued event in one batch: one repaint, the evidence panel drawn once."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        with self._pending_lock:
            events, self._pending = self._pending, []
            self._wake_posted = False
        self._last_flush = time.monotonic()
        if not events:
            return
        with self.app.batch_update():
            for event in events:
                self._apply(event)
            if self._show_later is not None:
                view, self._show_later = self._show_later, None
                self._show(view)
            if not self.finished:          # Done filled the bar itself
                self._progress()

    def _apply(self, event: Any) -> None:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def _on_TreeStarted(self, ev: Any) -> None:
        steps = self.query_one("#diagnosis-steps", OptionList)
        self.tree_titles[ev.tree] = ev.title
        steps.add_option(Option(Content.styled(ev.title, "bold"), id=f"tree:{ev.tree}", disabled=True))
        spec = self.app.session.trees.get(ev.tree)
        for sid in ev.steps:
            title = sid.replace("-", " ")
            if spec is not None and sid in spec.steps:
                raw = _tr(spec.steps[sid].title)
                title = raw if "{" not in raw else title
            view = StepView(ev.tree, sid, title)
            self.steps[(ev.tree, sid)] = view
            steps.add_option(Option(self._label(view), id=self._key(view)))
        self.total_steps += len(ev.steps)
        self._log(f"== {ev.title}")

    def _on_StepStarted(self, ev: Any) -> None:
        view = self._view(ev.tree, ev.step, ev.title)
        view.title, view.why, view.probe, view.status = ev.title, ev.why, ev.probe, "running"
        self._relabel(view)
        self.current = (ev.tree, ev.step)
        self._status(lambda: t("Checking: {title}", title=ev.title))
        self._log(f"▶ {ev.title}  [{ev.probe}]")
        if self.follow:
            self._select(view)

    def _on_Output(self, ev: Any) -> None:
        self._log(f"  {ev.line}")

    def _on_EvidenceSeen(self, ev: Any) -> None:
        view = self._view(ev.tree, ev.step)
        view.observations = list(ev.evidence.observations)
        view.host = ev.evidence.host
        view.outcome = ev.evidence.outcome
        self._show_later = view

    def _on_Asked(self, ev: Any) -> None:
        view = self._view(ev.tree, ev.step)
        view.asked = ev
        self._log(f"  ? {ev.question}")
        self._log(f"    $ {ev.command}")

    def _on_StepOutcome(self, ev: Any) -> None:
        view = self._view(ev.tree, ev.step)
        view.status, view.outcome, view.via, view.note = ev.status, ev.outcome, ev.via, ev.note
        if ev.via == "answer" and view.asked is not None:
            view.observations.append(t("You ran `{command}` and saw: {choice}", command=view.asked.command,
                                       choice=view.asked.choices.get(ev.outcome, ev.outcome)))
        self._relabel(view)
        self._log(f"  → {t(STATUS_WORDS.get(ev.status, ev.status))}: {outcome_words(ev.outcome)}"
                  + (t(" (from your answer)") if ev.via == "answer" else ""))
        if self.follow:
            self._show_later = view

    def _on_Problem(self, ev: Any) -> None:
        text = self.app.services.redact(ev.message)
        self._log(f"  ! {text}")
        self.app.notify(text, title=ev.where, severity="warning", timeout=6, markup=False)

    def _on_FindingRaised(self, ev: Any) -> None:
        f = ev.finding
        self._log("  ✘ " + t("finding {id}: {title}", id=f.id, title=f.title))

    def _on_TreeDone(self, ev: Any) -> None:
        for (tree, _sid), view in self.steps.items():
            if tree == ev.tree and view.status == "waiting":
                view.status = "skipped"
                self._relabel(view)
        if ev.tree in self.tree_titles:
            mark = {"fault": "✘", "ok": "✔", "unknown": "?", "unexplained": "✘?", "cancelled": "–"}.get(ev.result, "•")
            style = {"fault": "$text-error", "ok": "$text-success"}.get(ev.result, "$text-warning")
            self.query_one("#diagnosis-steps", OptionList).replace_option_prompt(
                f"tree:{ev.tree}", Content.assemble((mark + " ", style), (self.tree_titles[ev.tree], "bold")))
        result = {"ok": t("no fault on this path"), "fault": t("fault found"), "unknown": t("could not conclude"),
                  "cancelled": t("cancelled")}.get(ev.result, ev.result)
        self._log(f"== {result}" + (f": {ev.message}" if ev.message else ""))

    def _on_Done(self, ev: Any) -> None:
        self.finished = True
        self.report = ev.report
        session = self.app.session
        self.gone = self._no_longer_found(session.report, ev.report, session.applied)
        session.report = ev.report
        session.symptom = self.symptom
        # session.applied is kept: the runbook of this session lists every change made in it.
        findings = list(ev.report.findings)
        bar = self.query_one("#diagnosis-progress", ProgressBar)
        bar.update(total=max(self.total_steps, 1), progress=max(self.total_steps, 1))
        if ev.report.cancelled:
            self._status(lambda: t("Cancelled. What was checked is in the runbook (e)."))
        elif ev.report.unexplained:
            trees = ", ".join(tree.title for tree in ev.report.unexplained)
            self._status(lambda: t("Done: the symptom stands and no check explains it ({trees}); {count} finding(s). "
                                   "e exports what was ruled out and what to run next.",
                                   trees=trees, count=len(findings)))
        elif findings:
            self._status(lambda: t("Done: {count} finding(s). f opens, e exports.", count=len(findings)))
        elif ev.report.exit_code() == 3:
            # The engine could not conclude (a step it could not check): never "no fault".
            why = next((tree.message for tree in ev.report.trees if tree.result == "unknown" and tree.message), "")
            self._status(lambda: t("Unexplained: the diagnosis could not conclude ({why}). e: what was ruled out "
                                   "and what to run next.", why=why) if why else
                         t("Unexplained: the diagnosis could not conclude. e: what was ruled out and what to run next."))
        else:
            self._status(lambda: t("Done: no fault found on the paths walked. e exports."))
        for line in self.gone:
            self._log(f"  ! {line}")
        if self.gone:
            self.app.notify("\n".join(self.gone), title=t("Findings from the last run"), severity="warning", timeout=8,
                            markup=False)
        box = self.query_one("#diagnosis-findings", OptionList)
        box.clear_options()
        for i, f in enumerate(findings):
            style = SEVERITY_STYLE.get(f.severity, "$text")
            box.add_option(Option(Content.assemble(("✘ ", style), (f.id, "bold"), ": ",
                                                   self.app.services.redact(f.title)), id=str(i)))
        box.display = bool(findings)
        self._titles()
        if findings:
            box.highlighted = 0
            box.focus()
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        # Back from a finding whose fix was applied and verified (Report.record_fix): say so here
        # too; the trees, the status line and the findings box must not still say 'fault'.
        fixed = dict(getattr(self.report, "fixed", None) or {}) if self.finished else {}
        if not fixed:
            return
        steps = self.query_one("#diagnosis-steps", OptionList)
        for tree in self.report.trees:
            if tree.tree in self.tree_titles and tree.result == "fixed":
                steps.replace_option_prompt(f"tree:{tree.tree}", Content.assemble(
                    ("✔ ", "$text-success"), (self.tree_titles[tree.tree], "bold")))
        box = self.query_one("#diagnosis-findings", OptionList)
        for i, f in enumerate(self.report.findings):
            if f.id in fixed:
                box.replace_option_prompt(str(i), Content.assemble(
                    ("✔ ", "$text-success"), (f.id, "bold"), ": ", self.app.services.redact(f.title),
                    (t(" (fixed, verified)"), "$text-success")))
        standing = len(self.report.open_findings)
        self._status(lambda: t("Done: {count} finding(s) still stand, {fixed} fixed and verified. f opens, e exports.",
                               count=standing, fixed=len(fixed)) if standing else
                     t("Done: each finding fixed and verified in this session ({fixed}). r walks it again, e exports.",
                       fixed=len(fixed)))

    @staticmethod
    def _no_longer_found(before: Any, after: Any, applied: list[dict[str, Any]]) -> list[str]:
        """Findings of the previous run that this run does not raise, and why, from the two reports:
        a finding never just disappears (issue 20, defect 22)."""
        if before is None:
            return []
        now = {f.id for f in after.findings}
        verified = {a.get("finding") for a in applied if str(a.get("status", "")).startswith("verified")}
        ran = {(s.tree, s.step): s for s in after.steps}
        lines = []
        for f in before.findings:
            if f.id in now:
                continue
            step = ran.get((f.tree, f.step))
            if f.id in verified:
                lines.append(t("{id}: fixed (verified) earlier in this session.", id=f.id))
            elif step is not None and step.status == "ok":
                lines.append(t("{id}: its check ({step}) passes now.", id=f.id, step=f.step))
            elif (f.tree, f.step) not in ran or step.status in ("waiting", "skipped"):
                lines.append(t("{id}: NOT re-checked: this walk did not reach {step}, so it may still stand "
                               "(diagnose its symptom again to check it).", id=f.id, step=f.step))
            else:
                lines.append(t("{id}: its check ({step}) could not tell this time.", id=f.id, step=f.step))
        return lines

    # -- helpers --------------------------------------------------------------------------
    def _view(self, tree: str, step: str, title: str = "") -> StepView:
        key = (tree, step)
        if key not in self.steps:
            self.steps[key] = StepView(tree, step, title or step)
            self.query_one("#diagnosis-steps", OptionList).add_option(
                Option(self._label(self.steps[key]), id=self._key(self.steps[key])))
        return self.steps[key]

    @staticmethod
    def _key(view: StepView) -> str:
        return f"{view.tree}/{view.step}"

    @staticmethod
    def _label(view: StepView) -> Content:
        mark, style = STATE_MARK.get(view.status, ("•", "$text"))
        return Content.assemble("  ", (mark, style), " ", view.title)

    def _relabel(self, view: StepView) -> None:
        self.query_one("#diagnosis-steps", OptionList).replace_option_prompt(self._key(view), self._label(view))

    def _select(self, view: StepView) -> None:
        steps = self.query_one("#diagnosis-steps", OptionList)
        steps.highlighted = steps.get_option_index(self._key(view))
        self._show_later = view

    def _show(self, view: StepView) -> None:
        shown = (view.tree, view.step, view.status, view.title, view.why, view.outcome, view.via, view.host,
                 tuple(view.observations), view.note)
        if shown == self._shown:           # e.g. the highlight that follows the running step
            return
        self._shown = shown
        mark, style = STATE_MARK.get(view.status, ("•", "$text"))
        parts: list[Content] = [Content.assemble((mark + " ", style), (view.title, "bold"))]
        if view.why:
            parts.append(Content.styled(view.why, "italic $text-muted"))
        if view.outcome:
            how = t(" (from your answer)") if view.via == "answer" else ""
            said = t(STATUS_WORDS.get(view.status, view.status))
            parts.append(Content.assemble((t("Outcome: "), "bold"), (f"{said}: {outcome_words(view.outcome)}", style),
                                          how))
        if view.host:
            parts.append(Content.assemble((t("Host: "), "bold"), view.host))
        if view.observations:
            parts.append(Content.styled(t("What was seen:"), "bold"))
            parts.extend(Content(f"• {on_screen(line)}") for line in view.observations)
        if view.note:
            parts.append(Content.styled(view.note, "$text-warning"))
        text = Content("\n").join(parts)
        safe = self.app.services.redact(text.plain)
        if safe != text.plain:            # a secret in what was seen: show the masked plain text
            text = Content(safe)
        self.query_one("#diagnosis-evidence", Static).update(text)

    @on(OptionList.OptionHighlighted, "#diagnosis-steps")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        tree, _, step = (event.option.id or "").partition("/")
        key = (tree, step)
        if key in self.steps:
            # While the walk runs the panel follows the running step; afterwards it shows
            # whichever step the operator moves to.
            self._show(self.steps[key])

    def _progress(self) -> None:
        done = sum(1 for v in self.steps.values() if v.status not in ("waiting", "running"))
        bar = self.query_one("#diagnosis-progress", ProgressBar)
        bar.update(total=max(self.total_steps, 1), progress=done)

    def _status(self, say: Callable[[], str]) -> None:
        """``say`` gives the line in the current language; a language switch calls it again."""
        self.said = say
        self.query_one("#diagnosis-status", Label).update(say(), layout=False)   # one line, 1fr wide

    def _log(self, line: str) -> None:
        safe = on_screen(self.app.services.redact(line))
        self.transcript.append(safe)
        self.query_one("#diagnosis-output", WrapLog).write_line(safe)

    # -- errors ---------------------------------------------------------------------------
    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "diagnosis":
            return
        self._flush()                      # what the walk reported before it stopped
        if event.state == WorkerState.ERROR:
            message = self.app.one_line(event.worker.error)
            self.error = message
            self._show_error()
            self._status(lambda: t("Stopped by an error."))
            self.app.notify(message, title=t("Diagnosis stopped"), severity="error", markup=False)
        elif event.state == WorkerState.CANCELLED and not self.finished:
            self._status(lambda: t("Cancelled."))

    def _show_error(self) -> None:
        if self.error:
            panel = self.query_one("#diagnosis-error", Static)
            panel.update(t("The diagnosis stopped: {message}\nFix what the line names, then press escape and "
                           "start again. What was checked so far is kept in the log above.", message=self.error))
            panel.display = True

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return not self.finished
        if action == "again":
            return self.finished
        if action == "findings":
            return bool(self.finished and self.report is not None and self.report.findings)
        return True

    @on(OptionList.OptionSelected, "#diagnosis-findings")
    def _finding_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_finding(self.report.findings[int(event.option.id or 0)])

    def action_findings(self) -> None:
        if self.report is None or not self.report.findings:
            return
        box = self.query_one("#diagnosis-findings", OptionList)
        index = box.highlighted or 0
        self.app.open_finding(self.report.findings[index])

    def action_cancel(self) -> None:
        if not self.finished:
            self.cancel_event.set()
            self._status(lambda: t("Cancelling after the current step…"))
            if isinstance(self.app.screen, AskModal):
                self.app.screen.dismiss(None)

    def action_again(self) -> None:
        if self.finished:
            # A new walk of the same symptom and instance; it names what the last run found and no
            # longer does (fixed and verified, its check passes, not reached).
            self.app.switch_screen(DiagnosisScreen(self.symptom, self.target))

    def action_back(self) -> None:
        self.cancel_event.set()
        self.app.pop_screen()
