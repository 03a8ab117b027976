"""argparse in the operator's language: argparse's own words (usage, option groups, -h, its error
messages) go through wizard.i18n.t like ours, and help is wrapped by display width so a Korean
line holds in the terminal (argparse wraps by ``len``, which counts a Hangul syllable as one
column though it takes two)."""
from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from . import textwidth
from .i18n import t


class HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:
            prefix = t("usage: ")
        return super().add_usage(usage, actions, groups, prefix)

    def _format_usage(self, usage, actions, groups, prefix):
        # argparse indents the usage's continuation lines by len(prefix): a Hangul prefix takes
        # more columns than that, so the continuation lines move right by the difference.
        text = super()._format_usage(usage, actions, groups, prefix)
        extra = textwidth.width(prefix or "") - len(prefix or "")
        if extra <= 0:
            return text
        lines = text.split("\n")
        return "\n".join([lines[0]] + [" " * extra + line if line.startswith(" ") else line for line in lines[1:]])

    def _split_lines(self, text, width):
        return textwidth.wrap(text, width) or [""]

    def _fill_text(self, text, width, indent):
        return "\n".join(textwidth.wrap(text, width, indent, indent))


# argparse's error messages (Python 3.10-3.13 wording), matched so the translation keeps the
# parts argparse fills in (option names, values, choices) verbatim.
_ERRORS = (
    (re.compile(r"argument (?P<arg>.+?): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)$"),
     lambda m: t("argument {arg}: invalid choice: {value} (choose from {choices})", **m.groupdict())),
    (re.compile(r"argument (?P<arg>.+?): expected one argument$"),
     lambda m: t("argument {arg}: expected one argument", **m.groupdict())),
    (re.compile(r"argument (?P<arg>.+?): invalid (?P<kind>\w+) value: (?P<value>.+)$"),
     lambda m: t("argument {arg}: invalid {kind} value: {value}", **m.groupdict())),
    (re.compile(r"argument (?P<arg>.+?): ignored explicit argument (?P<value>.+)$"),
     lambda m: t("argument {arg}: ignored explicit argument {value}", **m.groupdict())),
    (re.compile(r"argument (?P<arg>.+?): not allowed with argument (?P<other>.+)$"),
     lambda m: t("argument {arg}: not allowed with argument {other}", **m.groupdict())),
    (re.compile(r"unrecognized arguments: (?P<args>.+)$"),
     lambda m: t("unrecognized arguments: {args}", **m.groupdict())),
    (re.compile(r"the following arguments are required: (?P<args>.+)$"),
     lambda m: t("the following arguments are required: {args}", **m.groupdict())),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)$"),
     lambda m: t("ambiguous option: {option} could match {matches}", **m.groupdict())),
)


def translate_error(message: str) -> str:
    for pattern, render in _ERRORS:
        match = pattern.match(message)
        if match:
            return render(match)
    return message


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own text is translated; subparsers are of the same class."""

    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = t("positional arguments")
        self._optionals.title = t("options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=t("show this help message and exit"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, t("{prog}: error: {message}", prog=self.prog, message=translate_error(message)) + "\n")
