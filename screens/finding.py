"""Finding: the root cause in plain words, the evidence, and the remedies (apply behind a yes)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Collapsible, Header, Label, Static
from textual.worker import Worker, WorkerState

from .i18n import t
from .messages import ApplyFinished, ApplyOutput
from .modals import ConfirmApply, plain_title
from .widgets.command import CommandBlock
from .widgets.diff import DiffView
from .widgets.footer import Footer
from .widgets.wraplog import WrapLog
from .wording import on_screen, unique

# The words are English, the catalog key: said through t().
RESULT_STYLE = {
    "verified": ("✔ Verified", "$text-success"),
    "dry-run": ("• Dry run", "$text-primary"),
    "unverified": ("? Applied, not verified", "$text-warning"),
    "rolled-back": ("↺ Rolled back", "$text-warning"),
    "not-fixed": ("✘ Applied, fault remains (not rolled back)", "$text-warning"),
    "refused": ("✘ Refused", "$text-error"),
    "failed": ("✘ Failed", "$text-error"),
}


def split_cause(text: str) -> tuple[str, str]:
    """(the first sentence, the rest): the cause first, the reasoning folded below it."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch in ".!?" and depth == 0 and i + 1 < len(text) and text[i + 1] == " " \
                and text[i + 2:i + 3].isupper():
            return text[:i + 1], text[i + 2:].strip()
    return text, ""


def safe_remedy(remedy: Any, redact: Callable[[str], str]) -> Any:
    """The remedy as shown: every text through the redaction pass (apply uses the original)."""
    return replace(remedy, **{k: redact(getattr(remedy, k)) for k in ("title", "explain", "command", "diff", "warning", "lasts")
                              if getattr(remedy, k)})


class RemedyCard(Vertical):
    """One remedy: durable or quick, what it does, the diff and the commands, and Apply."""

    def __init__(self, remedy: Any, index: int) -> None:
        super().__init__(id=f"remedy-{index}", classes="remedy " + ("durable" if remedy.durable else "quick"))
        self.remedy = remedy
        self.index = index

    def compose(self) -> ComposeResult:
        r = safe_remedy(self.remedy, self.app.services.redact)
        badge = t("DURABLE FIX") if r.durable else t("QUICK FIX")
        with Horizontal(classes="remedy-head"):
            yield Label(badge, classes="badge")
            yield Label(plain_title(r), classes="remedy-title", markup=False)
        yield Static(r.explain, classes="explain", markup=False)
        if not r.durable:
            yield Static(r.lasts or t("Lost on the next kolla-ansible deploy/reconfigure: make the durable fix too."),
                         classes="quick-note", markup=False)
        if r.warning:
            yield Static(t("Warning: {warning}", warning=r.warning), classes="warning", markup=False)
        if r.diff:
            yield Label(t("Edit {path} on {host}:", path=r.path, host=r.host) if r.host
                        else t("Edit {path}:", path=r.path), classes="hint", markup=False)
            yield DiffView(r.diff)
        if r.command:
            yield Label(t("Run on {host}:", host=r.host) if r.host else t("Run:"), classes="hint", markup=False)
            yield CommandBlock(r.command, copy_text=self.remedy.command)
        with Horizontal(classes="remedy-actions"):
            if r.actions:
                yield Button(t("Apply…"), id=f"apply-{self.index}", variant="warning", compact=True,
                             tooltip=t("Shows exactly what changes and asks before doing anything"))
            else:
                # Only what the wizard can really apply gets a button; the rest is for the operator.
                yield Label(t("Run this yourself: the wizard does not apply it."), classes="manual")
            yield Label("", id=f"result-{self.index}", classes="result", markup=False)


class FindingScreen(Screen):
    HELP = ("**A finding:** one fault the diagnosis proved, on one host. The root cause comes first in "
            "one sentence; *Why* unfolds the reasoning (what Kolla would render, what is deployed, what "
            "is live; which setting wins). *Evidence* is what the probes saw.\n\n"
            "**Remedies:** a *durable* fix survives the next `kolla-ansible deploy/reconfigure`; a *quick* "
            "fix does not. `tab` moves between remedies. Only remedies the wizard can apply have an "
            "*Apply…* button; it first shows exactly what changes and asks. After applying, the wizard "
            "walks the tree again to prove the fix (and restores the backups if the fault is still there)."
            "\n\n**Next:** apply a fix, or `c` to copy its command and run it yourself; `n`/`p` go to the "
            "next/previous finding; `e` exports the runbook; `esc` goes back to the diagnosis.")
    BINDINGS = [
        Binding("a", "apply", "Apply…", id="finding.apply", tooltip="Apply the remedy under the cursor (asks first)"),
        Binding("c", "copy", "Copy cmd", id="finding.copy", tooltip="Copy the commands of the remedy under the cursor"),
        Binding("l", "learn", "Learn", id="finding.learn", tooltip="Why this happens, from your cloud's data"),
        Binding("n", "other_finding(1)", "Next", id="finding.next", key_display="n/p",
                tooltip="Next finding (p: previous)"),
        Binding("p", "other_finding(-1)", "Previous", id="finding.previous", show=False,
                tooltip="Previous finding"),
        Binding("e", "app.runbook", "Runbook", id="finding.runbook", tooltip="Preview and save the runbook"),
        Binding("escape", "app.pop_screen", "Back", id="finding.back", tooltip="Back to the diagnosis"),
    ]

    def __init__(self, finding: Any) -> None:
        super().__init__()
        self.finding = finding
        self.applying = False
        self.applying_index: int | None = None
        # Each remedy's result line (said again after a language switch) and its status class.
        self.results: dict[int, tuple[Callable[[], Any], str]] = {}

    def compose(self) -> ComposeResult:
        redact = self.app.services.redact
        f = replace(self.finding, title=redact(self.finding.title), root_cause=redact(self.finding.root_cause),
                    evidence=unique([on_screen(redact(line)) for line in self.finding.evidence]))
        yield Header()
        with VerticalScroll(id="finding-body"):
            sev_style = {"critical": "$text-error", "warning": "$text-warning"}.get(f.severity, "$text-primary")
            severity = {"critical": t("CRITICAL"), "warning": t("WARNING"), "info": t("INFO")}.get(
                f.severity, f.severity.upper())
            yield Static(Content.assemble((f"{severity} ", f"bold {sev_style}"), (f.title, "bold")),
                         id="finding-title")
            yield Static(Content.assemble((t("finding") + " ", "$text-muted"), (f.id, "$text-accent"),
                                          ("  " + t("host") + " ", "$text-muted"), f.host or "-"), id="finding-meta")
            yield Label(t("Root cause"), classes="section-title")
            cause, why = split_cause(f.root_cause)
            yield Static(cause, id="finding-cause", markup=False)
            if why:
                with Collapsible(title=t("Why: the full reasoning"), collapsed=True, id="finding-why"):
                    yield Static(why, id="finding-why-text", markup=False)
            if f.evidence:
                yield Label(t("Evidence"), classes="section-title")
                yield Static("\n".join(f"• {line}" for line in f.evidence), id="finding-evidence", markup=False)
            yield Label(t("Remedies"), classes="section-title")
            if not f.remedies:
                yield Static(t("No remedy can be built for this finding here; the runbook says what was seen."),
                             classes="hint")
            for i, remedy in enumerate(f.remedies):
                yield RemedyCard(remedy, i)
            yield WrapLog(max_lines=2000, id="finding-apply-log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = t("Finding {id}", id=self.finding.id)
        self.query_one("#finding-apply-log").display = False
        # Start at the top (root cause first); tab walks the remedies' buttons.
        self.query_one("#finding-body").focus()

    async def retranslate(self) -> None:
        """After a language switch: compose again, keeping the apply log, the results, the scroll
        position and the focus (the finding's own text stays in the language it was found in)."""
        log = self.query_one("#finding-apply-log", WrapLog)
        lines, shown = list(log.plain_lines), log.display
        scroll = self.query_one("#finding-body").scroll_y
        focused = self.focused.id if self.focused is not None else None
        await self.recompose()
        self.sub_title = t("Finding {id}", id=self.finding.id)
        log = self.query_one("#finding-apply-log", WrapLog)
        log.display = shown
        for line in lines:
            log.write_line(line)
        for index, (say, status) in list(self.results.items()):
            self._result(index, say, status)
        body = self.query_one("#finding-body")
        (self.query_one(f"#{focused}") if focused and self.query(f"#{focused}") else body).focus()
        body.scroll_to(y=scroll, animate=False)

    def _result(self, index: int, say: Callable[[], Any], status: str = "") -> None:
        """Remedy ``index``'s result line; ``say`` gives it in the current language."""
        self.results[index] = (say, status)
        label = self.query_one(f"#result-{index}", Label)
        label.update(say())
        if status:
            label.set_class(True, f"status-{status}")

    # -- which remedy the operator means ---------------------------------------------------
    def _card(self) -> RemedyCard | None:
        focused = self.focused
        while focused is not None and not isinstance(focused, RemedyCard):
            focused = focused.parent  # type: ignore[assignment]
        if isinstance(focused, RemedyCard):
            return focused
        cards = list(self.query(RemedyCard))
        return cards[0] if cards else None

    def action_copy(self) -> None:
        card = self._card()
        if card is None or not card.remedy.command:
            self.app.notify(t("This remedy has no command to copy."), severity="warning")
            return
        card.query_one(CommandBlock).copy()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "learn":
            return bool(self.finding.learn)        # no page for this finding: no key that opens another
        if action == "apply":
            card = self._card()
            return None if card is None or not card.remedy.actions else True
        if action == "copy":
            card = self._card()
            return None if card is None or not card.remedy.command else True
        if action == "other_finding":
            # Hidden, not greyed, with one finding: the footer keeps room for ? Help at 64 columns.
            return len(self.app.session.findings) >= 2
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()    # Apply…/Copy follow the remedy under the cursor

    def action_learn(self) -> None:
        if self.finding.learn:
            self.app.open_learn(self.finding.learn)

    def action_other_finding(self, step: int) -> None:
        findings = self.app.session.findings
        ids = [id(f) for f in findings]
        if len(findings) < 2:
            return
        here = ids.index(id(self.finding)) if id(self.finding) in ids else 0
        self.app.switch_screen(FindingScreen(findings[(here + step) % len(findings)]))

    def action_apply(self) -> None:
        card = self._card()
        if card is not None:
            self._confirm(card)

    @on(Button.Pressed, ".remedy-actions Button")
    def _apply_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        card = event.button.parent.parent  # remedy-actions -> RemedyCard
        if isinstance(card, RemedyCard):
            self._confirm(card)

    def _confirm(self, card: RemedyCard) -> None:
        if self.applying:
            self.app.notify(t("A remedy is being applied; wait for its result."), severity="warning")
            return
        if not card.remedy.actions:
            self.app.notify(t("The wizard cannot apply this one; copy and run it yourself."), severity="warning")
            return

        def decided(yes: bool | str | None) -> None:
            if yes:     # True, or the text typed where the remedy asks for one (Remedy.confirm)
                self._start_apply(card, yes if isinstance(yes, str) else None)

        self.app.push_screen(ConfirmApply(card.remedy), callback=decided)

    def _start_apply(self, card: RemedyCard, typed: str | None = None) -> None:
        self.applying = True
        self.applying_index = card.index
        log = self.query_one("#finding-apply-log", WrapLog)
        log.display = True
        log.write_line(t("Applying {id}…", id=card.remedy.id))
        self._result(card.index, lambda: t("applying…"))
        self.apply(card.index, typed)

    @work(thread=True, exit_on_error=False, group="apply", exclusive=True)
    def apply(self, index: int, typed: str | None = None) -> None:
        app = self.app
        session = app.session
        remedy = self.finding.remedies[index]
        more = {"typed": typed} if typed is not None else {}
        result = app.services.apply_remedy(session.ctx, session.engine, self.finding, remedy,
                                           dry_run=False, emit=lambda line: self.post_message(ApplyOutput(line)),
                                           **more)
        self.post_message(ApplyFinished(str(index), result))

    @on(ApplyOutput)
    def _output(self, message: ApplyOutput) -> None:
        self.query_one("#finding-apply-log", WrapLog).write_line(self.app.services.redact(message.line))

    @on(ApplyFinished)
    def _finished(self, message: ApplyFinished) -> None:
        self.applying = False
        index = int(message.remedy_id)
        remedy = self.finding.remedies[index]
        result = message.result
        status = str(getattr(result, "status", "failed"))
        text, style = RESULT_STYLE.get(status, (status, "$text"))
        detail = self.app.services.redact(str(getattr(result, "message", "") or ""))
        created = [str(c) for c in getattr(result, "created", None) or []]
        if created and "created:" not in detail:
            detail += t("; created: {names}", names=", ".join(self.app.services.redact(c) for c in created))
        self._result(index, lambda: Content.assemble((t(text), f"bold {style}"), ": " if detail else "", detail),
                     status)
        self.query_one("#finding-apply-log", WrapLog).write_line(f"{status}: {detail}")
        entry = result.to_dict() if hasattr(result, "to_dict") else {}
        entry.setdefault("remedy", remedy.id)
        entry.setdefault("result", f"{status}: {detail}" if detail else status)
        backup = getattr(result, "backup", None)
        if backup and "backup" not in entry:
            entry["backup"] = backup
        self.app.session.applied.append(entry)
        if status == "verified" and self.app.session.report is not None:
            self.app.session.report.record_fix(self.finding.id, detail or status, durable=remedy.durable)
        severity = "information" if status in ("verified", "dry-run") else "warning"
        self.app.notify(f"{remedy.title}: {t(text)}", severity=severity, markup=False)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "apply" and event.state == WorkerState.ERROR:
            self.applying = False
            message = self.app.one_line(event.worker.error)
            self.query_one("#finding-apply-log", WrapLog).write_line(t("failed: {message}", message=message))
            if self.applying_index is not None:
                self._result(self.applying_index,
                             lambda: Content.styled(t("✘ Failed: {message}", message=message), "$text-error"))
            self.app.notify(message, title=t("Apply failed"), severity="error")
