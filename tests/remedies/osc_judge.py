"""python-openstackclient as the judge of every ``openstack`` command the wizard prints.

Loads OSC's command groups without a cloud (see shared docs, real-components §3) and runs each
command's own argparse parser; a wrong option fails with OSC's real error text."""
from __future__ import annotations

import contextlib
import functools
import io
import shlex

GROUPS = ("openstack.common", "openstack.network.v2", "openstack.compute.v2", "openstack.identity.v3",
          "openstack.image.v2", "openstack.placement.v1")


@functools.lru_cache(maxsize=1)
def _shell():
    from openstackclient import shell

    app = shell.OpenStackShell()
    app.options = app.parser.parse_known_args([])[0]
    for group in GROUPS:
        app.command_manager.add_command_group(group)
    return app


class CommandRejected(AssertionError):
    pass


def parse_openstack(command: str):
    """Parse one ``openstack ...`` command line; returns the argparse namespace or raises."""
    argv = shlex.split(command)
    if not argv or argv[0] != "openstack":
        raise CommandRejected(f"not an openstack command: {command}")
    app = _shell()
    try:
        factory, name, rest = app.command_manager.find_command(argv[1:])
    except ValueError as exc:
        raise CommandRejected(f"{command}: {exc}") from None
    cmd = factory(app, None, cmd_name=name)
    parser = cmd.get_parser("openstack " + name)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return parser.parse_args(rest)
    except SystemExit:
        raise CommandRejected(f"{command}: {err.getvalue().strip()}") from None


def openstack_commands(text: str) -> list[str]:
    """Every line (or `backquoted` span) in text that is an openstack command."""
    import re

    found = []
    for span in re.findall(r"`([^`]+)`", text or ""):
        if span.startswith("openstack "):
            found.append(span)
    for line in (text or "").splitlines():
        line = line.strip().lstrip("$ ").strip()
        if line.startswith("openstack ") and "`" not in line:
            found.extend(_guarded(line) if ("||" in line or "&&" in line) else [line])
    return found


def _guarded(line: str) -> list[str]:
    """Each openstack command of a guarded line (`openstack X show N >/dev/null 2>&1 || openstack X
    create N`), redirections dropped; quoted words stay whole (shlex)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    commands, argv, skip = [], [], False
    for i, tok in enumerate(tokens):
        if skip:
            skip = False
        elif tok in ("||", "&&", ";", "|"):
            commands.append(argv)
            argv = []
        elif tok in (">", ">>", ">&", "<"):
            if argv and argv[-1].isdigit() and i > 0 and tokens[i - 1] == argv[-1]:
                argv.pop()
            skip = True
        else:
            argv.append(tok)
    commands.append(argv)
    return [shlex.join(a) for a in commands if a and a[0] == "openstack"]
