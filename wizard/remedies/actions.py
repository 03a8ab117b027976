"""What applying a remedy does, as data. ``wizard.remedies.apply`` executes these in order,
only after the operator said yes to that one remedy.

- ``FileEdit``: replace a file on a host (``None`` = the deploy host) with new content. The
  apply step refuses if the file changed since the diff was shown (``expected_sha256``), takes a
  backup, writes atomically under a lock, and restores the backup on a failed verification.
- ``NodeCommand``: run an argv on a host (e.g. ``docker restart neutron_openvswitch_agent``).
- ``CloudCall``: one openstacksdk operation from the table registered with ``cloud_op``
  (e.g. ``create_router``); ``params`` are plain values, ``undo`` names the inverse op."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable
from ..i18n import t


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class FileEdit:
    host: str | None
    path: str
    expected_sha256: str
    new_content: str
    # Checks the new content still parses (e.g. YAML/INI) before anything is written.
    validate: str = "text"          # text | yaml | ini


@dataclass
class NodeCommand:
    host: str | None
    argv: list[str]
    sudo: bool = False
    timeout: float = 300.0
    # What takes this command back when the fix is rolled back; derived from argv when left None
    # (see undo_for), so every remedy that creates an OVS bridge or port also removes it.
    undo: list[str] | None = None
    # What this command changes that no restored file takes back (a kolla-ansible run leaves the
    # bridge it created and the NIC it plugged): lines for the operator, "on HOST: command".
    manual_undo: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.undo is None:
            self.undo = undo_for(self.argv)


def undo_for(argv: list[str]) -> list[str] | None:
    """The inverse of a command that creates something, or None. Only plain ``ovs-vsctl add-br`` /
    ``add-port`` (any prefix, e.g. ``docker exec openvswitch_vswitchd``) are undone: they fail when
    the bridge or port exists, so if they ran, the wizard created it. ``--may-exist`` creations may
    have found it there already, so they are left alone."""
    if "ovs-vsctl" not in argv:
        return None
    at = argv.index("ovs-vsctl")
    prefix, rest = argv[:at + 1], argv[at + 1:]
    if any(a.startswith("--") for a in rest):
        return None
    if len(rest) == 2 and rest[0] == "add-br":
        return [*prefix, "--if-exists", "del-br", rest[1]]
    if len(rest) == 3 and rest[0] == "add-port":
        return [*prefix, "--if-exists", "del-port", rest[1], rest[2]]
    return None


@dataclass
class CloudCall:
    op: str
    params: dict[str, Any] = field(default_factory=dict)
    describe: str = ""


# op name -> function(conn, **params) -> dict (what was created, for undo)
CLOUD_OPS: dict[str, Callable[..., Any]] = {}


def cloud_op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        CLOUD_OPS[name] = func
        return func
    return register


def describe_action(action: Any) -> str:
    """One line saying what applying this action does (the dry run, the TUI's confirmation)."""
    import shlex

    host = getattr(action, "host", None) or t("the deploy host")
    if isinstance(action, FileEdit):
        return t("write {path} on {host} (a backup is taken first; restored if verification fails)", path=action.path, host=host)
    if isinstance(action, NodeCommand):
        undo = t(" (undone with `{undo}` if verification fails)", undo=shlex.join(action.undo)) if action.undo else ""
        return t("run on {host}: {command}{undo}", host=host,
                 command=("sudo " if action.sudo else "") + shlex.join(action.argv), undo=undo)
    if isinstance(action, CloudCall):
        if action.describe:
            return t("cloud API: {call}", call=action.describe)
        params = ", ".join(f"{k}={v!r}" for k, v in (action.params or {}).items())
        return t("cloud API: {call}", call=f"{action.op}({params})")
    return str(action)
