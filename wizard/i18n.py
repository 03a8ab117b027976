"""Translatable text, in two shapes.

- Playbook text fields: a plain string (English) or a mapping of language code to string,
  ``{en: "...", ko: "..."}``; :func:`tr` picks the current language's form.
- Code's own text: ``t("English text with {host}", host=name)``. The English text is the key,
  verbatim, into the current language's catalog (``wizard/locale/<lang>*.yaml``, plus whatever
  :func:`register_catalog` adds, e.g. screens' own catalogs); an unknown key is shown in English.
  Fields are inserted after the lookup, so text from the cloud passed as a field is never parsed
  as a format string, and commands, config keys, paths and names stay verbatim in every language.
  The result is always ``str.format``-ed, fields or not: a literal brace in a key is ``{{``/``}}``.

The language is chosen once by the composition root (``--lang``, else the locale variables, see
:func:`language_from`) and may be switched later (the TUI's switch) with :func:`set_language`.
"""
from __future__ import annotations

import string
import threading
from pathlib import Path
from typing import Mapping, Union

Text = Union[str, Mapping[str, str]]
LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Locale variables in the order POSIX gives them precedence for messages: the first one set wins.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

_language = DEFAULT_LANGUAGE
_catalogs: dict[str, dict[str, str]] = {}     # the files' entries with the registered ones on top
_registered: dict[str, dict[str, str]] = {}   # what register_catalog was given (screens' catalogs)
_loaded = False
_lock = threading.Lock()


class CatalogError(ValueError):
    """A catalog file or mapping that is not a flat mapping of English text to translation."""


def set_language(code: str) -> None:
    global _language
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    _language = code


def current_language() -> str:
    return _language


def _language_of_locale(value: str) -> str:
    """``ko``, ``ko_KR``, ``ko_KR.UTF-8``, ``ko_KR@euro`` -> ko; anything else (C, POSIX, en_US...) -> en."""
    base = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_").split("_", 1)[0]
    return "ko" if base.strip().lower() == "ko" else DEFAULT_LANGUAGE


def language_from(cli_value: str | None, environ: Mapping[str, str]) -> str:
    """The language to speak: ``--lang`` when given, else the first of LC_ALL, LC_MESSAGES, LANG
    that is set (a Korean locale -> ko, any other -> en), else English."""
    if cli_value:
        code = cli_value.strip().lower()
        if code not in LANGUAGES:
            raise ValueError(f"unknown language {cli_value!r}: use one of {', '.join(LANGUAGES)}")
        return code
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return _language_of_locale(value)
    return DEFAULT_LANGUAGE


def tr(text: Text | None, language: str | None = None) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    lang = language or _language
    return text.get(lang) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")


def _check_entries(entries: object, origin: str) -> dict[str, str]:
    if entries is None:
        return {}
    if not isinstance(entries, Mapping):
        raise CatalogError(f"{origin}: a catalog is a mapping of English text to its translation")
    checked: dict[str, str] = {}
    for key, value in entries.items():
        if not isinstance(key, str) or not isinstance(value, (str, type(None))):
            raise CatalogError(f"{origin}: entry {key!r} is not text: both sides must be strings")
        if value:  # an empty entry is an untranslated one: the English shows
            checked[key] = value
    return checked


def read_catalog_files(language: str, directory: Path = LOCALE_DIR) -> dict[str, str]:
    """The entries of ``directory/<language>*.yaml`` merged (screens reads its own locale/ this way
    and hands the result to :func:`register_catalog`)."""
    # yamlpos: safe construction only, on libyaml's parser where installed (the pure-Python
    # safe_load took ~0.4 s for the catalogs, at every Korean start); keys stay the text written
    # (a key `no:` is the word, not False), a repeated key is an error with its file:line.
    from . import yamlpos

    merged: dict[str, str] = {}
    for path in sorted(Path(directory).glob(f"{language}*.yaml")):
        # ko.yaml, ko.probes.yaml ... but not a language whose code merely starts with ours
        if path.name.split(".", 1)[0] != language:
            continue
        text = path.read_text(encoding="utf-8")
        merged.update(_check_entries(yamlpos.load(text, str(path)), str(path)))
    return merged


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for language in LANGUAGES:
            if language == DEFAULT_LANGUAGE:
                continue
            files = read_catalog_files(language)
            # entries registered before the files were read (screens at import) stay on top
            files.update(_registered.get(language, {}))
            _catalogs[language] = files
        _loaded = True


def register_catalog(language: str, entries: Mapping[str, str]) -> None:
    """Add translations for ``language`` (English text -> translation); later entries win.
    Cheap: the catalog files are read only when text is first looked up in another language."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")
    checked = _check_entries(entries, f"catalog for {language}")
    with _lock:
        _registered.setdefault(language, {}).update(checked)
        if _loaded:
            _catalogs.setdefault(language, {}).update(checked)


def catalog(language: str) -> Mapping[str, str]:
    """Every translation known for ``language`` (read-only view, for tests and tools)."""
    _ensure_loaded()
    return dict(_catalogs.get(language, {}))


def field_names(template: str) -> set[str]:
    """The placeholder names of a format string (``"{host} has {n}"`` -> {"host", "n"})."""
    names = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(template):
        if name is not None:
            names.add(name.split(".", 1)[0].split("[", 1)[0])
    return names


def t(english: str, /, **fields: object) -> str:
    """``english`` in the current language, with ``fields`` inserted (``str.format``).

    A translation whose placeholders do not fit the fields (a catalog slip) falls back to the
    English rather than failing in front of the operator; the catalog test catches the slip."""
    text = english
    if _language != DEFAULT_LANGUAGE:
        _ensure_loaded()
        text = _catalogs.get(_language, {}).get(english, english)
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError):
        if text is english:
            raise
        return english.format(**fields)
