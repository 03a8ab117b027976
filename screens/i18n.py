"""The TUI's words in the operator's language.

Screens write their text in English through ``t(...)`` (wizard.i18n: the English is the catalog
key); this module registers screens' own catalogs (``screens/locale/<lang>*.yaml``) with
wizard.i18n when screens are imported (wizard never imports screens), and holds what the language
switch needs. The composition root picks the starting language (``--lang``, else LC_ALL /
LC_MESSAGES / LANG); the app only switches it."""
from __future__ import annotations

from pathlib import Path

from wizard.i18n import (LANGUAGES, current_language, read_catalog_files, register_catalog,
                         set_language, t, tr)

__all__ = ["LANGUAGE_NAMES", "current_language", "next_language", "set_language", "t", "tr"]

LOCALE_DIR = Path(__file__).resolve().with_name("locale")
# Each language by its own name: the switch offers the other one in the words its reader knows.
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def _register_catalogs() -> None:
    for language in LANGUAGES:
        entries = read_catalog_files(language, LOCALE_DIR)
        if entries:
            register_catalog(language, entries)


def next_language(language: str | None = None) -> str:
    """The language after ``language`` (the current one by default), in LANGUAGES' order."""
    here = language or current_language()
    index = LANGUAGES.index(here) if here in LANGUAGES else -1
    return LANGUAGES[(index + 1) % len(LANGUAGES)]


_register_catalogs()
