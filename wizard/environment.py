"""What the Start screen (and anyone else) shows before a diagnosis: where the cloud, the inventory and the Kolla config come from,
and which of them were found. Read-only checks of local files and clouds.yaml; no network."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EnvItem:
    label: str
    value: str
    state: str            # found | missing | later | info
    hint: str = ""


@dataclass
class Environment:
    items: list[EnvItem] = field(default_factory=list)
    clouds: list[str] = field(default_factory=list)   # clouds.yaml entries
    cloud: str | None = None                          # the one selected


def _clouds_yaml() -> tuple[list[str], str]:
    """(entry names, problem). openstacksdk reads clouds.yaml exactly as the diagnosis will."""
    from .cloud import CloudError, check_clouds_files, cloud_names
    try:
        check_clouds_files()  # file:line for a broken clouds.yaml (openstacksdk would skip it silently)
    except CloudError as exc:
        return [], exc.one_line()
    try:
        return cloud_names(), ""
    except Exception as exc:  # a broken clouds.yaml: one line, never a traceback
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [], f"clouds.yaml cannot be read: {first}"


def _local(label: str, path: str | None, hint: str) -> EnvItem:
    if not path:
        return EnvItem(label, "(not set)", "missing", hint)
    p = Path(os.path.expanduser(path))
    return EnvItem(label, str(p), "found" if p.exists() else "missing", "" if p.exists() else hint)


def describe(settings: Any, lab: Any = None, scenario: str | None = None) -> Environment:
    env = Environment()
    names, problem = _clouds_yaml()
    env.clouds = names
    if lab is not None:
        env.cloud = getattr(lab, "cloud_name", settings.os_cloud)
        env.items.append(EnvItem("Cloud", f"embedded lab {scenario or ''} (clouds.yaml entry {env.cloud})".replace("  ", " "),
                                 "found"))
    elif settings.os_cloud:
        env.cloud = settings.os_cloud
        ok = settings.os_cloud in names
        env.items.append(EnvItem("Cloud", f"{settings.os_cloud} (from --os-cloud / OS_CLOUD)", "found" if ok else "missing",
                                 "" if ok else problem or f"no entry {settings.os_cloud!r} in clouds.yaml; pick one below"))
    elif os.environ.get("OS_AUTH_URL"):
        env.items.append(EnvItem("Cloud", "OS_* environment variables (OS_AUTH_URL is set)", "found"))
    elif names:
        env.cloud = names[0]
        env.items.append(EnvItem("Cloud", f"{names[0]} (first clouds.yaml entry)", "info",
                                 "set OS_CLOUD or pick another entry below"))
    else:
        from .cloud import no_cloud_hint
        env.items.append(EnvItem("Cloud", "(none)", "missing", problem or no_cloud_hint()))
    if names and lab is None:
        env.items.append(EnvItem("clouds.yaml", ", ".join(names), "found"))
    inventory = settings.inventory or f"{settings.kolla_config_dir.rstrip('/')}/multinode"
    if settings.deploy_host:
        where = f"on deploy host {settings.deploy_host}"
        env.items.append(EnvItem("Kolla config", f"{settings.kolla_config_dir} {where}", "later",
                                 "read over SSH when a step needs it"))
        env.items.append(EnvItem("Inventory", f"{inventory} {where}", "later", "read over SSH when a step needs it"))
    else:
        env.items.append(_local("Kolla config", settings.kolla_config_dir,
                                "not on this machine: run on the deploy host or pass --deploy-host"))
        env.items.append(_local("Inventory", inventory, "pass --inventory PATH"))
    if settings.ssh_config:
        env.items.append(_local("ssh_config", settings.ssh_config, "pass --ssh-config PATH"))
    elif Path(os.path.expanduser("~/.ssh/config")).exists():
        env.items.append(_local("ssh_config", "~/.ssh/config", ""))
    else:   # optional: its absence is not a problem to mark in red
        env.items.append(EnvItem("ssh_config", "none (~/.ssh/config is optional)", "info",
                                 "nodes are reached with default SSH settings"))
    for kh in settings.known_hosts or []:
        env.items.append(_local("known_hosts", kh, "node host keys are verified against this file"))
    return env
