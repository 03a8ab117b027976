"""Text from the cloud, the guests and the operator's files is hostile: a tenant can put ESC sequences
in a network name (OSC 52 writes the clipboard, OSC 0 the window title, CSI 2J wipes the screen), a
guest can print them on its console. Control characters never reach a terminal or a file.

``clean`` makes any text inert: every C0 control but newline and tab, DEL, every C1 control, the
bidirectional overrides (Trojan Source) and the Unicode line separators become a visible escape
(``\\x1b``, ``\\u202e``); CRLF and lone CR become a newline (a CR would let a line overwrite itself).
It is linear in the length of the text (one character class, no backtracking).

``clean_data`` does the same to every string (keys too) of a JSON-like structure: the cloud reader
runs every API answer through it. ``shown`` is the gate every output goes through: the redaction
pass, then ``clean`` (redaction first: a secret must not be split by an escape)."""
from __future__ import annotations

import re
from typing import Any

# C0 but \t and \n, DEL, C1, the bidi embeddings/overrides/isolates, LRM/RLM/ALM, line/paragraph
# separators, the BOM / zero-width no-break space met inside text, and lone surrogates (bytes that
# were not UTF-8, kept by surrogateescape: they cannot even be encoded for a terminal).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """The text with every control character but newline and tab made visible and inert."""
    if not text:
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_visible, text)


def has_control(text: str) -> bool:
    """True if a control character other than newline and tab is in text (what tests assert)."""
    return bool(_CONTROL.search(text))


def one_line(text: str) -> str:
    """Clean and on one line (a name inside a sentence, a table cell)."""
    return " ".join(clean(text).replace("\t", " ").split("\n"))


def clean_data(data: Any) -> Any:
    """Every string (mapping keys included) of a JSON-like structure cleaned; other values kept."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, dict):
        return {clean_data(k) if isinstance(k, str) else k: clean_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [clean_data(v) for v in data]
    if isinstance(data, tuple):
        return tuple(clean_data(v) for v in data)
    return data


def shown(text: str) -> str:
    """The one gate for output: secrets masked, then control characters made inert."""
    from .redact import redact
    return clean(redact(text))


def shown_data(data: Any) -> Any:
    from .redact import redact_data
    return clean_data(redact_data(data))


class SafeStream:
    """A text stream whose every write passes ``shown``: the CLI puts stdout and stderr behind it so
    nothing (a report, a warning, a --debug log line, a traceback) reaches the terminal or a pipe raw."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(shown(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
