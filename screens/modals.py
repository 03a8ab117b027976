"""Typed dialogs: answer an ask step, confirm one remedy, read an error, read the help.

Every dialog has its own Footer: the footer of the screen behind stays hidden under it, so the keys
shown are always the keys that act (a dialog never shows 'y Copy cmd' while its own y applies).
Long text scrolls inside the dialog; the buttons stay on screen at any terminal size."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from .i18n import current_language, t
from .widgets.command import CommandBlock
from .widgets.diff import DiffView
from .widgets.footer import Footer


def describe_action(action: Any) -> str:
    """One line per thing apply will do (the wording is the engine's, capitalised here in English;
    a Korean line may begin with a host's name, which keeps its case)."""
    from wizard.remedies.actions import describe_action as describe
    text = describe(action)
    return text[:1].upper() + text[1:] if current_language() == "en" else text


def plain_title(remedy: Any) -> str:
    """The remedy's title without a leading 'Durable: '/'Quick: ' (the badge already says which),
    in English or as wizard/locale says them in Korean."""
    title = str(remedy.title)
    for prefix in ("Durable: ", "Quick: ", "영구 조치: ", "임시 조치: "):
        if title.startswith(prefix):
            return title[len(prefix):][:1].upper() + title[len(prefix):][1:]
    return title


# Rows a dialog needs outside its scrolling body: the footer, the dialog's border, its heading,
# the button row with its margin, and one row of air above and below.
_DIALOG_ROWS = 1 + 2 + 2 + 4 + 2


class ScrollingDialog(ModalScreen):
    """A dialog whose body (#dialog-body) scrolls and never pushes the buttons off screen."""

    # A modal screen hides the app's own bindings, so help is bound here again.
    BINDINGS = [Binding("question_mark,f1", "app.help", "Help", id="dialog.help",
                        tooltip="What this dialog is and its keys")]

    #: rows taken by fixed parts beyond the common ones (e.g. the ask dialog's choice list)
    extra_rows = 0

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.height)

    def on_mount(self) -> None:
        self._fit(self.app.size.height)

    def _fit(self, height: int) -> None:
        for body in self.query("#dialog-body"):
            body.styles.max_height = max(3, height - _DIALOG_ROWS - self.extra_rows)

    def action_scroll_body(self, rows: int) -> None:
        body = self.query_one("#dialog-body", VerticalScroll)
        if abs(rows) == 1:
            body.scroll_relative(y=rows, animate=False)
        else:
            body.scroll_relative(y=body.scrollable_content_region.height * (1 if rows > 0 else -1), animate=False)


SCROLL_BINDINGS = [
    Binding("down", "scroll_body(1)", "Scroll", key_display="↑↓", id="dialog.scroll-down",
            tooltip="Scroll the text of this dialog"),
    Binding("up", "scroll_body(-1)", "Scroll up", show=False, id="dialog.scroll-up"),
    Binding("pagedown", "scroll_body(2)", "Page down", show=False, id="dialog.page-down"),
    Binding("pageup", "scroll_body(-2)", "Page up", show=False, id="dialog.page-up"),
]


class AskModal(ScrollingDialog):
    """The probe could not run here: show the exact command, take what the operator saw."""

    HELP = ("**This step needs your eyes.** The probe could not run from here (no SSH access, not "
            "admin, a node down...). Run the command shown where you can, then pick what you saw. "
            "Nothing is concluded from a guess: *I can't tell* leaves the step unchecked and the "
            "diagnosis says so.")
    BINDINGS = [
        Binding("escape", "skip", "Skip", id="ask.skip", tooltip="Leave this step unchecked"),
        Binding("c", "copy", "Copy cmd", id="ask.copy", tooltip="Copy the command to run"),
    ]
    def __init__(self, asked: Any) -> None:
        super().__init__()
        self.asked = asked
        # the choice list (its options and border, at most 8 rows) and its margin
        self.extra_rows = min(8, len(asked.choices) + 2) + 1

    def compose(self) -> ComposeResult:
        redact = self.app.services.redact
        with Vertical(id="ask-dialog", classes="dialog"):
            yield Label(t("This step needs your eyes"), classes="dialog-title")
            with VerticalScroll(id="dialog-body", can_focus=False):
                # The question and the command first: the reason is the least needed at 80x24.
                yield Static(redact(self.asked.question), classes="question", markup=False)
                yield Label(t("Run this where you can, then pick what you saw:"), classes="hint")
                yield CommandBlock(redact(self.asked.command), copy_text=self.asked.command, id="ask-command",
                                   focusable=False)
                if self.asked.reason:
                    yield Static(t("Why you are asked: the probe could not run: {reason}",
                                   reason=redact(self.asked.reason)), classes="reason", markup=False)
            yield OptionList(*[Option(redact(text), id=key) for key, text in self.asked.choices.items()],
                             id="ask-choices")
            with Horizontal(classes="buttons"):
                yield Button(t("I can't tell (skip)"), id="ask-skip")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#ask-choices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ask-skip":
            self.dismiss(None)

    def action_copy(self) -> None:
        self.query_one(CommandBlock).copy()

    def action_skip(self) -> None:
        self.dismiss(None)


class ConfirmApply(ScrollingDialog):
    """Shows exactly what applying one remedy changes. Nothing changes without Apply."""

    HELP = ("**Confirm one fix.** Everything the wizard will do is listed in order: each file it "
            "writes (a backup is taken first), each command it runs, and where. Read it (↑↓ scroll), "
            "then press **y** or the Apply button to do exactly this, or **n**/**esc** to change "
            "nothing. Where a wrong choice loses data (the host a Galera recovery bootstraps from), type "
            "the name shown: Apply and enter work only once it matches. Afterwards the wizard walks the "
            "tree again from the step that found the fault; if the fault is still there, the files are "
            "restored from their backups.")
    BINDINGS = [
        Binding("y", "apply", "Apply", id="confirm.apply", tooltip="Apply exactly what is shown"),
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel", tooltip="Change nothing"),
        *SCROLL_BINDINGS,
    ]

    def __init__(self, remedy: Any) -> None:
        super().__init__()
        self.remedy = remedy
        # A remedy where a wrong choice loses data (Remedy.confirm: the Galera bootstrap host) is
        # applied only once its name is typed; the field stays on screen outside the scrolling body.
        self.needs_typed = bool(getattr(remedy, "confirm", None))
        if self.needs_typed:
            self.extra_rows = 4

    def compose(self) -> ComposeResult:
        from .finding import safe_remedy
        r = safe_remedy(self.remedy, self.app.services.redact)
        actions = list(r.actions or [])
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(t("Apply this durable fix?") if r.durable else t("Apply this quick fix?"),
                        classes="dialog-title")
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Static(plain_title(r), classes="remedy-title", markup=False)
                if not r.durable:
                    yield Static(t("Quick: {lasts}", lasts=r.lasts) if r.lasts else
                                 t("Quick: lost on the next kolla-ansible deploy/reconfigure of this host."),
                                 classes="quick", markup=False)
                if r.warning:
                    yield Static(t("Warning: {warning}", warning=r.warning), classes="warning", markup=False)
                if actions:
                    yield Label(t("What will happen, in order:"), classes="hint")
                    for i, action in enumerate(actions, 1):
                        yield Static(f"{i}. {self.app.services.redact(describe_action(action))}", classes="action",
                                     markup=False)
                if r.diff:
                    yield Static(t("Change to {path} on {host}:", path=r.path, host=r.host) if r.host
                                 else t("Change to {path}:", path=r.path), classes="hint", markup=False)
                    yield DiffView(r.diff)
                if r.command:
                    yield Static(t("Commands on {host}:", host=r.host) if r.host else t("Commands:"),
                                 classes="hint", markup=False)
                    yield CommandBlock(r.command, copy_text=self.remedy.command, focusable=False)
                if not actions:
                    yield Static(t("This remedy has nothing the wizard can apply; run it yourself."),
                                 classes="warning")
                yield Static(t("Afterwards the wizard walks the tree again from the step that found the fault "
                               "to prove the fix."), classes="hint")
            if self.needs_typed:
                yield Label(t("Type {name} to apply (enter applies once it matches):", name=r.confirm),
                            id="confirm-typed-label", classes="typed", markup=False)
                yield Input(placeholder=r.confirm, id="confirm-typed", compact=False)
            with Horizontal(classes="buttons"):
                yield Button(t("Apply"), id="confirm-apply", variant="error", disabled=not actions or self.needs_typed)
                yield Button(t("Cancel"), id="confirm-cancel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#confirm-typed" if self.needs_typed else "#confirm-cancel").focus()

    @property
    def typed(self) -> str:
        return self.query_one("#confirm-typed", Input).value.strip() if self.needs_typed else ""

    def _matches(self) -> bool:
        return not self.needs_typed or self.typed == self.remedy.confirm

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-apply", Button).disabled = not (self.remedy.actions and self._matches())
        self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply" and self.needs_typed:
            return False     # y is a letter of the typed name here: only enter or the button apply
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm-apply":
            self.action_apply()
        else:
            self.dismiss(False)

    def action_apply(self) -> None:
        """Dismissed with True, or with the typed text where the remedy asks for one."""
        if not self.query_one("#confirm-apply", Button).disabled and self._matches():
            self.dismiss(self.typed if self.needs_typed else True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorModal(ScrollingDialog):
    HELP = "**Something went wrong.** The message names the file, host or option; fix it and try again."
    BINDINGS = [Binding("escape,enter", "close", "Close", id="error.close", tooltip="Close this message"),
                *SCROLL_BINDINGS]

    def __init__(self, title: str, message: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Static(self.message, classes="message", markup=False)
                if self.hint:
                    yield Static(self.hint, classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("Close"), id="error-close", variant="primary")
        yield Footer(compact=True, show_command_palette=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpModal(ScrollingDialog):
    """What the screen behind is, its keys (as the keymap has them now), and where to go next."""

    BINDINGS = [Binding("escape", "close", "Close", id="help.close", tooltip="Close the help"),
                Binding("question_mark,f1,q", "close", "Close", id="help.close-too", show=False),
                *SCROLL_BINDINGS]

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.title_text = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Markdown(self.markdown, id="help-text", open_links=False)
            with Horizontal(classes="buttons"):
                yield Button(t("Close"), id="help-close", variant="primary", compact=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#help-close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
