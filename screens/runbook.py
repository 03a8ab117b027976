"""Runbook: the session as Markdown, previewed, saved to a file (path shown) or copied."""
from __future__ import annotations

import re
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Markdown, Static
from textual.worker import Worker, WorkerState

from textual.message import Message

from .i18n import t
from .widgets.footer import Footer


class RunbookSaved(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


def default_name(symptom: str | None, when) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", (symptom or "session").lower()).strip("-") or "session"
    return f"{when:%Y%m%d-%H%M%S}-{slug}.md"


class RunbookScreen(Screen):
    HELP = ("**Runbook:** everything this session checked, found and changed, as Markdown you can keep "
            "or paste into a ticket (secrets are redacted). The path at the top is where `ctrl+s` saves "
            "it (edit it first if you like); `c` copies the Markdown.\n\n**Next:** `esc` goes back.")
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="runbook.save", tooltip="Write the runbook to the path shown"),
        Binding("c", "copy", "Copy", id="runbook.copy", tooltip="Copy the Markdown to the clipboard"),
        Binding("escape", "app.pop_screen", "Back", id="runbook.back", tooltip="Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.markdown = ""

    def compose(self) -> ComposeResult:
        app = self.app
        session = app.session
        if session.report is not None:
            self.markdown = app.services.to_markdown(session.report, list(session.applied))
        else:
            self.markdown = t("# kolla-wizard runbook\n\nNo diagnosis has run yet: pick a symptom first.")
        path = session.saved_runbook or str(Path(app.services.runbook_dir) /
                                            default_name(session.symptom, app.services.now()))
        yield Header()
        with Horizontal(id="runbook-save-row"):
            yield Label(t("Save to:"), classes="field-label")
            yield Input(path, id="runbook-path")
            yield Button(t("Save"), id="runbook-save", variant="primary", compact=True,
                         disabled=session.report is None)
        yield Static("", id="runbook-status", markup=False)
        with VerticalScroll(id="runbook-preview-box"):
            yield Markdown(self.markdown, id="runbook-preview", open_links=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._say()
        self.query_one("#runbook-preview-box").focus()

    def _say(self) -> None:
        self.sub_title = t("Runbook")
        saved = self.app.session.saved_runbook
        status = self.query_one("#runbook-status", Static)
        if saved:
            status.update(t("Saved to {path}", path=saved))
        else:
            status.update(t("Not saved yet. ctrl+s writes it to the path above."))

    async def retranslate(self) -> None:
        """After a language switch: the runbook rendered again in the new language; a path being
        edited is kept."""
        path = self.query_one("#runbook-path", Input).value
        await self.recompose()
        self.query_one("#runbook-path", Input).value = path
        self._say()
        self.query_one("#runbook-preview-box").focus()

    def action_save(self) -> None:
        if self.app.session.report is None:
            self.app.notify(t("Nothing to save yet: run a diagnosis first."), severity="warning")
            return
        raw = self.query_one("#runbook-path", Input).value.strip()
        if not raw:
            self.app.notify(t("Give a file path to save to."), severity="warning")
            return
        path = str(Path(raw).expanduser().resolve())
        self.query_one("#runbook-status", Static).update(t("Saving to {path}…", path=path))
        self.save(path)

    @work(thread=True, exit_on_error=False, group="save", exclusive=True)
    def save(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.app.services.write_text(path, self.markdown)
        self.post_message(RunbookSaved(path))

    @on(RunbookSaved)
    def _saved(self, message: RunbookSaved) -> None:
        self.app.session.saved_runbook = message.path
        self.query_one("#runbook-status", Static).update(t("Saved to {path}", path=message.path))
        self.app.notify(t("Runbook saved to {path}", path=message.path), timeout=5, markup=False)

    @on(Button.Pressed, "#runbook-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted, "#runbook-path")
    def _submitted(self) -> None:
        self.action_save()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.markdown)
        # OSC 52 cannot report whether the terminal took it (as the command blocks say): never "copied".
        self.app.notify(t("Runbook sent to the clipboard (OSC 52). Nothing to paste? Your terminal ignores "
                          "OSC 52: save it with ctrl+s and open the file."), title=t("Copy"), timeout=4)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "save" and event.state == WorkerState.ERROR:
            error = event.worker.error
            message = f"{error.filename}: {error.strerror}" if isinstance(error, OSError) and error.strerror \
                else self.app.one_line(error)
            self.query_one("#runbook-status", Static).update(
                t("Not saved: {message}. Change the path above and press ctrl+s again.", message=message))
            self.app.notify(message, title=t("Runbook not saved"), severity="error")
