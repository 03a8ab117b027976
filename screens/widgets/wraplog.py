"""A plain-text log that wraps at the pane's width and wraps again when the pane is resized."""
from __future__ import annotations

from textual.events import Resize
from textual.widgets import RichLog


class WrapLog(RichLog):
    def __init__(self, *, max_lines: int = 5000, **kwargs) -> None:
        super().__init__(max_lines=max_lines, wrap=True, markup=False, highlight=False, min_width=20, **kwargs)
        self.plain_lines: list[str] = []   # as written; the widget holds them wrapped
        self._wrapped_at = 0

    def write_line(self, line: str) -> None:
        self.plain_lines.append(line)
        if self.max_lines and len(self.plain_lines) > self.max_lines:
            del self.plain_lines[:-self.max_lines]
        self.write(line)

    def on_resize(self, event: Resize) -> None:
        width = self.scrollable_content_region.width
        if self._wrapped_at and width != self._wrapped_at and self.plain_lines:
            self.clear()
            for line in self.plain_lines:
                self.write(line)
        self._wrapped_at = width
