"""kolla-ansible command lines in the syntax of the installed release (kolla-facts §4)."""
from __future__ import annotations

from typing import Iterable

from .model import installed_kolla_ansible_release
from .release import LATEST_KNOWN, Release


def detect_release(openstack_release: str | None = None) -> Release:
    """The installed kolla-ansible decides the CLI; else ``openstack_release`` from globals.yml;
    else the newest release the wizard knows."""
    return installed_kolla_ansible_release() or Release.parse(openstack_release) or LATEST_KNOWN


def _joined(value: str | Iterable[str] | None) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else ",".join(value)
    return text or None


def reconfigure_argv(inventory: str, tags: str | Iterable[str] | None = None,
                     limit: str | Iterable[str] | None = None,
                     release: Release | str | None = None) -> list[str]:
    """``kolla-ansible reconfigure -i INV -t TAGS --limit HOSTS`` (2024.2+, action first) or
    ``kolla-ansible -i INV -t TAGS --limit HOSTS reconfigure`` (≤ 2024.1 bash CLI). ``--limit`` is
    spelled long because the old CLI has no ``-l``. Returns argv: quote with shlex.join to show."""
    if not isinstance(release, Release):
        release = Release.parse(release) if release else detect_release()
        release = release or LATEST_KNOWN
    options = ["-i", inventory]
    tag_text, limit_text = _joined(tags), _joined(limit)
    if tag_text:
        options += ["-t", tag_text]
    if limit_text:
        options += ["--limit", limit_text]
    if release.has_python_cli:
        return ["kolla-ansible", "reconfigure", *options]
    return ["kolla-ansible", *options, "reconfigure"]
