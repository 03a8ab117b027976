"""Typed dialogs: answer an ask step, confirm one remedy, read an error."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from .widgets.command import CommandBlock
from .widgets.diff import DiffView


def describe_action(action: Any) -> str:
    """One line per thing apply will do (the wording is the engine's, capitalised here)."""
    from wizard.remedies.actions import describe_action as describe
    text = describe(action)
    return text[:1].upper() + text[1:]


class AskModal(ModalScreen["str | None"]):
    """The probe could not run here: show the exact command, take what the operator saw."""

    BINDINGS = [Binding("escape", "skip", "Skip", id="ask.skip", tooltip="Leave this step unchecked")]

    def __init__(self, asked: Any) -> None:
        super().__init__()
        self.asked = asked

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-dialog", classes="dialog"):
            yield Label("This step needs your eyes", classes="dialog-title")
            if self.asked.reason:
                yield Static(f"The probe could not run: {self.asked.reason}", classes="reason", markup=False)
            yield Static(self.asked.question, classes="question", markup=False)
            yield Label("Run this where you can, then pick what you saw:", classes="hint")
            yield CommandBlock(self.asked.command, id="ask-command")
            yield OptionList(*[Option(text, id=key) for key, text in self.asked.choices.items()], id="ask-choices")
            with Horizontal(classes="buttons"):
                yield Button("I can't tell (skip)", id="ask-skip")

    def on_mount(self) -> None:
        self.query_one("#ask-choices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ask-skip":
            self.dismiss(None)

    def action_skip(self) -> None:
        self.dismiss(None)


class ConfirmApply(ModalScreen[bool]):
    """Shows exactly what applying one remedy changes. Nothing changes without Apply."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel", tooltip="Change nothing"),
        Binding("y", "apply", "Apply", id="confirm.apply", tooltip="Apply exactly what is shown"),
    ]

    def __init__(self, remedy: Any) -> None:
        super().__init__()
        self.remedy = remedy

    def compose(self) -> ComposeResult:
        from .finding import safe_remedy
        r = safe_remedy(self.remedy, self.app.services.redact)
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(f"Apply: {r.title}?", classes="dialog-title", markup=False)
            with VerticalScroll(id="confirm-body"):
                kind = "Durable fix" if r.durable else "Quick fix (lost on the next deploy/reconfigure)"
                yield Static(kind, classes="durable" if r.durable else "quick")
                if r.warning:
                    yield Static(f"Warning: {r.warning}", classes="warning", markup=False)
                actions = list(r.actions or [])
                if actions:
                    yield Label("What will happen, in order:", classes="hint")
                    for i, action in enumerate(actions, 1):
                        yield Static(f"{i}. {self.app.services.redact(describe_action(action))}", classes="action",
                                     markup=False)
                if r.diff:
                    where = f" on {r.host}" if r.host else ""
                    yield Label(f"Change to {r.path}{where}:", classes="hint", markup=False)
                    yield DiffView(r.diff)
                if r.command:
                    where = f" on {r.host}" if r.host else ""
                    yield Label(f"Commands{where}:", classes="hint", markup=False)
                    yield CommandBlock(r.command)
                if not actions:
                    yield Static("This remedy has nothing the wizard can apply; run it yourself.",
                                 classes="warning")
                yield Static("Afterwards the probe that found the fault runs again to prove the fix.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="confirm-apply", variant="error", disabled=not actions)
                yield Button("Cancel", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-apply")

    def action_apply(self) -> None:
        if not self.query_one("#confirm-apply", Button).disabled:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "close", "Close", id="error.close", tooltip="Close this message")]

    def __init__(self, title: str, message: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.message, classes="message", markup=False)
            if self.hint:
                yield Static(self.hint, classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Close", id="error-close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
