"""A unified diff with added lines green and removed lines red (theme colours, not hex)."""
from __future__ import annotations

from pygments.token import Token
from textual.highlight import HighlightTheme, highlight
from textual.app import ComposeResult
from textual.containers import HorizontalScroll
from textual.widgets import Static


class DiffTheme(HighlightTheme):
    # The default theme has no Generic.Inserted/Deleted styles, so diffs would stay plain.
    STYLES = {
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$text-success",
        Token.Generic.Deleted: "$text-error",
        Token.Generic.Subheading: "$text-accent",
        Token.Generic.Heading: "$text-primary bold",
    }


class DiffView(HorizontalScroll):
    """Long lines scroll sideways instead of wrapping: a wrapped diff line has no +/- in front of its
    second half, which reads as context (issue 20, defect 25)."""

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        width: 1fr;
        height: auto;
        scrollbar-size-horizontal: 1;
    }
    DiffView > .diff-text {
        width: auto;
        padding: 0 1;
        text-wrap: nowrap;
    }
    """

    def __init__(self, diff: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.diff = diff
        self.can_focus = False     # a tab stop per diff would bury the Apply buttons; the mouse scrolls it

    @property
    def content(self):
        """The highlighted diff (what tests and callers read, as with a Static)."""
        return self.query_one(".diff-text", Static).content

    def compose(self) -> ComposeResult:
        yield Static(highlight(self.diff.rstrip("\n"), language="diff", theme=DiffTheme), classes="diff-text")
