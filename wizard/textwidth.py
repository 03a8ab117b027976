"""Display width of text in a terminal: an East Asian wide or fullwidth character (Hangul, CJK)
takes two columns, a combining mark none. ``len()`` counts characters, so padding or wrapping
Korean by it overflows an 80-column terminal by up to twice the width."""
from __future__ import annotations

import re
import unicodedata


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns ``text`` takes on one terminal line."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def pad(text: str, columns: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``columns`` display columns (``<`` left, ``>`` right)."""
    room = max(0, columns - width(text))
    return " " * room + text if align == ">" else text + " " * room


def truncate(text: str, columns: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``columns`` display columns, ``ellipsis`` marking the cut."""
    if width(text) <= columns:
        return text
    room = columns - width(ellipsis)
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def _split_long(word: str, columns: int) -> list[str]:
    pieces, current, used = [], [], 0
    for ch in word:
        w = char_width(ch)
        if current and used + w > columns:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += w
    if current:
        pieces.append("".join(current))
    return pieces


def wrap(text: str, columns: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """Greedy word wrap by display width (whitespace collapsed, as ``textwrap.wrap``); a word
    wider than a line is broken between characters."""
    lines: list[str] = []
    indent = initial_indent
    line, used = "", 0
    for word in re.split(r"\s+", text.strip()):
        if not word:
            continue
        room = max(1, columns - width(indent))
        w = width(word)
        if line and used + 1 + w <= room:
            line, used = f"{line} {word}", used + 1 + w
            continue
        if line:
            lines.append(indent + line)
            indent = subsequent_indent
            room = max(1, columns - width(indent))
        if w <= room:
            line, used = word, w
            continue
        pieces = _split_long(word, room)
        for piece in pieces[:-1]:
            lines.append(indent + piece)
            indent = subsequent_indent
        line = pieces[-1]
        used = width(line)
    if line:
        lines.append(indent + line)
    return lines
