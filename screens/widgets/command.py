"""A shell command in a block the operator can copy (clipboard via OSC 52)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.highlight import highlight
from textual.widgets import Button, Static


class CommandBlock(Horizontal):
    DEFAULT_CSS = """
    CommandBlock {
        height: auto;
        width: 1fr;
        background: $surface;
    }
    CommandBlock > .command-text {
        width: 1fr;
        padding: 0 1;
    }
    CommandBlock > Button {
        min-width: 8;
        width: 8;
        height: 1;
        border: none;
        margin: 0;
    }
    """

    def __init__(self, command: str, *, copy_text: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.command = command                      # as shown (redacted)
        self.copy_text = copy_text if copy_text is not None else command   # what the operator runs

    def compose(self) -> ComposeResult:
        yield Static(highlight(self.command.rstrip("\n"), language="bash"), classes="command-text")
        yield Button("Copy", classes="copy", compact=True, tooltip="Copy this command to the clipboard")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.copy()

    def copy(self) -> None:
        self.app.copy_to_clipboard(self.copy_text)
        self.app.notify("Command copied to the clipboard.", timeout=3)
