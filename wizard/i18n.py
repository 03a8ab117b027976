"""Translatable text. A playbook text field is either a plain string (English) or a mapping
of language code to string, e.g. ``{en: "...", ko: "..."}``. Only English ships today; the
shape lets a Korean translation be added without touching code."""
from __future__ import annotations

from typing import Mapping, Union

Text = Union[str, Mapping[str, str]]
DEFAULT_LANGUAGE = "en"
_language = DEFAULT_LANGUAGE


def set_language(code: str) -> None:
    global _language
    _language = code


def tr(text: Text | None, language: str | None = None) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    lang = language or _language
    return text.get(lang) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")
