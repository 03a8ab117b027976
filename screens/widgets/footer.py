"""Textual's Footer with each key's description and tooltip in the current language.

Bindings keep their English description (it is the catalog key, and keymap files never see it);
the footer is composed again whenever the bindings are refreshed, which a language switch does."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from ..i18n import t


class Footer(TextualFooter):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if widget.description:
                    widget.description = t(widget.description)
                tooltip = widget.tooltip
                if isinstance(tooltip, str) and tooltip:
                    widget.tooltip = t(tooltip)
            yield widget
