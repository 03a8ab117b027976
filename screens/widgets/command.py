"""A shell command in a block the operator can copy (clipboard via OSC 52)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.highlight import highlight
from textual.widgets import Button, Static

from ..i18n import t


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

    def __init__(self, command: str, *, copy_text: str | None = None, focusable: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.copy_focusable = focusable   # in a dialog, tab moves between the dialog's own buttons only
        self.command = command                      # as shown (redacted)
        self.copy_text = copy_text if copy_text is not None else command   # what the operator runs

    def compose(self) -> ComposeResult:
        yield Static(highlight(self.command.rstrip("\n"), language="bash"), classes="command-text")
        button = Button(t("Copy"), classes="copy", compact=True, tooltip=t("Copy this command to the clipboard"))
        button.can_focus = self.copy_focusable
        yield button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.copy()

    def copy(self) -> None:
        self.app.copy_to_clipboard(self.copy_text)
        # OSC 52 cannot report whether the terminal accepted it: say what was done, and the way out.
        self.app.notify(t("Sent to the clipboard (OSC 52). Nothing to paste? Your terminal ignores OSC 52: "
                          "select the command with the mouse (shift+drag in most terminals)."),
                        title=t("Copy"), timeout=4)
