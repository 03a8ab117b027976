"""A unified diff with added lines green and removed lines red (theme colours, not hex)."""
from __future__ import annotations

from pygments.token import Token
from textual.highlight import HighlightTheme, highlight
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


class DiffView(Static):
    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        padding: 0 1;
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, diff: str, **kwargs) -> None:
        self.diff = diff
        super().__init__(highlight(diff.rstrip("\n"), language="diff", theme=DiffTheme), **kwargs)
