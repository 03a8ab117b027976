"""What the Start screen (and anyone else) shows before a diagnosis: where the cloud, the inventory and the Kolla config come from,
and which of them were found. Read-only checks of local files and clouds.yaml; no network."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .i18n import t


@dataclass
class EnvItem:
    label: str
    value: str
    state: str            # found | missing | later | info
    hint: str = ""

    @property
    def shown_label(self) -> str:
        """The label in the current language (``label`` itself stays English: code matches on it)."""
        labels = {"Cloud": t("Cloud"), "Kolla config": t("Kolla config"), "Inventory": t("Inventory")}
        return labels.get(self.label, self.label)


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
        return [], t("clouds.yaml cannot be read: {error}", error=first)


def _local(label: str, path: str | None, hint: str) -> EnvItem:
    if not path:
        return EnvItem(label, t("(not set)"), "missing", hint)
    p = Path(os.path.expanduser(path))
    return EnvItem(label, str(p), "found" if p.exists() else "missing", "" if p.exists() else hint)


def describe(settings: Any, lab: Any = None, scenario: str | None = None) -> Environment:
    env = Environment()
    names, problem = _clouds_yaml()
    env.clouds = names
    if lab is not None:
        env.cloud = getattr(lab, "cloud_name", settings.os_cloud)
        env.items.append(EnvItem("Cloud", t("embedded lab {scenario} (clouds.yaml entry {cloud})", scenario=scenario,
                                            cloud=env.cloud) if scenario else
                                 t("embedded lab (clouds.yaml entry {cloud})", cloud=env.cloud), "found"))
    elif settings.os_cloud:
        env.cloud = settings.os_cloud
        ok = settings.os_cloud in names
        env.items.append(EnvItem("Cloud", t("{cloud} (from --os-cloud / OS_CLOUD)", cloud=settings.os_cloud),
                                 "found" if ok else "missing",
                                 "" if ok else problem or t("no entry {cloud} in clouds.yaml; pick one below",
                                                            cloud=repr(settings.os_cloud))))
    elif os.environ.get("OS_AUTH_URL"):
        env.items.append(EnvItem("Cloud", t("OS_* environment variables (OS_AUTH_URL is set)"), "found"))
    elif names:
        env.cloud = names[0]
        env.items.append(EnvItem("Cloud", t("{cloud} (first clouds.yaml entry)", cloud=names[0]), "info",
                                 t("set OS_CLOUD or pick another entry below")))
    else:
        from .cloud import no_cloud_hint
        env.items.append(EnvItem("Cloud", t("(none)"), "missing", problem or no_cloud_hint()))
    if names and lab is None:
        env.items.append(EnvItem("clouds.yaml", ", ".join(names), "found"))
    inventory = settings.inventory or f"{settings.kolla_config_dir.rstrip('/')}/multinode"
    if settings.deploy_host:
        later = t("read over SSH when a step needs it")
        env.items.append(EnvItem("Kolla config", t("{path} on deploy host {host}", path=settings.kolla_config_dir,
                                                   host=settings.deploy_host), "later", later))
        env.items.append(EnvItem("Inventory", t("{path} on deploy host {host}", path=inventory,
                                                host=settings.deploy_host), "later", later))
    else:
        env.items.append(_local("Kolla config", settings.kolla_config_dir,
                                t("not on this machine: run on the deploy host or pass --deploy-host")))
        env.items.append(_local("Inventory", inventory, t("pass --inventory PATH")))
    if settings.ssh_config:
        env.items.append(_local("ssh_config", settings.ssh_config, t("pass --ssh-config PATH")))
    elif Path(os.path.expanduser("~/.ssh/config")).exists():
        env.items.append(_local("ssh_config", "~/.ssh/config", ""))
    else:   # optional: its absence is not a problem to mark in red
        env.items.append(EnvItem("ssh_config", t("none (~/.ssh/config is optional)"), "info",
                                 t("nodes are reached with default SSH settings")))
    for kh in settings.known_hosts or []:
        env.items.append(_local("known_hosts", kh, t("node host keys are verified against this file")))
    return env
