"""Commands shown to the operator carry this cloud's real names, each one shell-quoted.

A command template is written with placeholders (``openstack server show {server.id}``);
every substituted value becomes exactly one shell word, whatever characters the name has
(spaces, quotes, ``;``, newlines, or a leading ``-`` that would look like an option)."""
from __future__ import annotations

import shlex
from typing import Any, Mapping

from .. import safeformat


def quote(value: Any) -> str:
    return shlex.quote(str(value))


def render_command(template: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    for literal, field, _spec, _conv in safeformat._FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        value = safeformat.lookup(values, field)
        out.append(quote("<" + field + ">" if value is None else value))
    return "".join(out)


def join(argv: list[str]) -> str:
    return shlex.join([str(a) for a in argv])


def as_root(argv: list[str]) -> str:
    """A line the operator types on a node that only root may run (systemctl, the container engine,
    /var/log/kolla): written with ``sudo`` the way the operator types it, whatever user the wizard's
    own SSH session is (its action runs with become where the inventory says so)."""
    return join(["sudo", *argv])


def option(flag: str, value: Any) -> list[str]:
    """``--flag value`` as argv, written ``--flag=value`` when the value starts with '-': argparse
    would otherwise take a key pair or flavor named ``-rf`` for an option and refuse the command."""
    text = str(value)
    return [f"{flag}={text}"] if text.startswith("-") else [flag, text]


def positional(value: Any) -> list[str]:
    """A positional argument; a value that starts with '-' goes after ``--``."""
    text = str(value)
    return ["--", text] if text.startswith("-") else [text]
