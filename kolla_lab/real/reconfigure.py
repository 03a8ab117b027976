"""The real backend's renderer for the lab's ``kolla-ansible reconfigure|deploy|genconfig``: the
targets' openvswitch_agent.ini from kolla-ansible's own templates (one ansible run for all targets),
with what the operator has on the deploy node now: /etc/kolla (globals.yml, globals.d, passwords.yml,
config/ overrides), the inventory they passed with ``-i`` and the group_vars/host_vars beside it,
and their ``-e`` variables. Installed as ``state.ovs_agent_renderer`` by RealLab.start()."""
from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path

from ..reconfigure import RenderFailed
from . import kolla as kolla_render

KOLLA_DIR = "/etc/kolla"


def _copy_tree(node, remote: str, local: Path) -> None:
    """Copy the deploy node's ``remote`` directory (through the node API) to ``local``."""
    for name in node.listdir(remote) or []:
        path = posixpath.join(remote, name)
        if node.is_dir(path):
            _copy_tree(node, path, local / name)
            continue
        text = node.read(path)
        if text is not None:
            local.mkdir(parents=True, exist_ok=True)
            (local / name).write_text(text)


def _local(root: Path, remote: str) -> Path:
    return root / remote.lstrip("/")


def render_with_kolla(state, deploy, kc, inventory: str, extra: dict, hosts: dict[str, str]) -> dict[str, str]:
    """Same contract as reconfigure.embedded_ovs_agent_renderer; raises RenderFailed with
    kolla-ansible's own first error line."""
    with tempfile.TemporaryDirectory(prefix="kolla-lab-reconfigure-") as tmp:
        root = Path(tmp)
        kolla_dir = _local(root, KOLLA_DIR)
        kolla_dir.mkdir(parents=True)
        _copy_tree(deploy, KOLLA_DIR, kolla_dir)
        inventory_path = posixpath.normpath(posixpath.join("/", inventory))
        inventory_file = _local(root, inventory_path)
        if not inventory_file.is_file():          # outside /etc/kolla: it and its vars folders
            inventory_file.parent.mkdir(parents=True, exist_ok=True)
            inventory_file.write_text(deploy.read(inventory) or "")
            for sub in ("group_vars", "host_vars"):
                folder = posixpath.join(posixpath.dirname(inventory_path), sub)
                if deploy.is_dir(folder):
                    _copy_tree(deploy, folder, inventory_file.parent / sub)
        try:
            return kolla_render.render_ovs_agent_ini(kolla_dir, hosts, extra, inventory_file=inventory_file)
        except kolla_render.RenderFailed as failed:
            raise RenderFailed(failed.line, failed.returncode) from None
