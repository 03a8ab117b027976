"""The Kolla configuration model: globals.yml, globals.d, passwords.yml (names only), the
inventory with group_vars/host_vars beside it, Kolla's own defaults, and the /etc/kolla/config
overrides, read through the deploy host's transport. A broken file becomes one line in
``problems`` and the model carries on with what it could read."""
from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass, field
from typing import Any

from .. import yamlpos
from ..errors import ConfigError
from ..transport.base import FileMissing, TransportError
from .inventory import Inventory, VarDef, parse_inventory
from .reader import FileReader, is_dir
from .release import LATEST_KNOWN, Release
from .variables import ExtraVarsFile, Resolution, VariableLayers, VariableResolver
from ..i18n import t

# Where a pip/distro install of kolla-ansible puts its playbooks (share/kolla-ansible/ansible).
SHARE_CANDIDATES = ("/usr/local/share/kolla-ansible", "/usr/share/kolla-ansible")
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class KollaModel:
    reader: FileReader
    config_dir: str
    inventory_path: str | None
    inventory: Inventory
    release: Release
    release_source: str
    defaults_source: str                      # which kolla defaults were used, in words
    layers: VariableLayers
    problems: list[ConfigError] = field(default_factory=list)
    share_dir: str | None = None

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, reader: FileReader, config_dir: str = "/etc/kolla", inventory_path: str | None = None,
             *, release: str | Release | None = None, kolla_ansible_prefix: str | None = None) -> "KollaModel":
        """``kolla_ansible_prefix``: a venv or prefix where kolla-ansible is installed (its
        ``share/kolla-ansible`` is searched first)."""
        loader = _Loader(reader, config_dir)
        globals_vars = loader.yaml_vars(posixpath.join(config_dir, "globals.yml"), required=True)
        share_dir = loader.find_share_dir(kolla_ansible_prefix)
        chosen, release_source = _choose_release(release, globals_vars, share_dir, loader)
        extra = loader.extra_vars(globals_vars, chosen)

        inv_path = inventory_path or loader.default_inventory()
        if inv_path is not None:
            text = loader.read(inv_path, required=True)
            inventory = parse_inventory(text or "", inv_path)
            loader.problems.extend(inventory.problems)
        else:
            inventory = Inventory(posixpath.join(config_dir, "multinode"))
        layers = VariableLayers(inventory=inventory, release=chosen, extra_vars=extra)
        if inv_path is not None:
            base = posixpath.dirname(inv_path)
            layers.inventory_group_vars = loader.vars_dir(posixpath.join(base, "group_vars"))
            layers.inventory_host_vars = loader.vars_dir(posixpath.join(base, "host_vars"))
        if share_dir:
            layers.kolla_defaults = loader.kolla_defaults(share_dir)
            layers.kolla_defaults_installed = bool(layers.kolla_defaults)
            layers.role_defaults = loader.role_defaults(share_dir)
        if layers.kolla_defaults_installed:
            defaults_source = f"kolla-ansible's own defaults in {share_dir}/ansible/group_vars"
        else:
            defaults_source = (f"the wizard's built-in table of Kolla {chosen} defaults "
                               "(kolla-ansible not found on the deploy host)")
        return cls(reader, config_dir, inv_path, inventory, chosen, release_source, defaults_source,
                   layers, loader.problems, share_dir)

    # -- questions -----------------------------------------------------------------------------

    @property
    def hosts(self) -> list[str]:
        return self.inventory.hosts

    def groups_of(self, host: str) -> list[str]:
        return self.inventory.groups_of(host)

    def hosts_in(self, group: str) -> list[str]:
        return self.inventory.hosts_in(group)

    @property
    def resolver(self) -> VariableResolver:
        if not hasattr(self, "_resolver"):
            self._resolver = VariableResolver(self.layers)
        return self._resolver

    def resolve(self, var: str, host: str) -> Resolution:
        return self.resolver.resolve(var, host)

    def container_engine(self, host: str) -> str:
        value = self.resolve("kolla_container_engine", host).value
        return value if value in ("docker", "podman") else "docker"

    def connection_vars(self, host: str) -> dict[str, Any]:
        """ansible_host/user/port/become as resolved for the host (for SSHPool.transport_for)."""
        names = ("ansible_host", "ansible_user", "ansible_port", "ansible_become", "ansible_connection")
        return {n: self.resolve(n, host).value for n in names if self.resolve(n, host).defined}

    def expected_ovs(self, host: str):
        from .render import expected_ovs
        return expected_ovs(self, host)

    def read_override(self, relative: str) -> tuple[str, str] | None:
        """An /etc/kolla/config file as (path, text), or None when absent. Read errors → problems."""
        path = posixpath.join(self.config_dir, "config", relative)
        try:
            return path, self.reader.read_file(path)
        except FileMissing:
            return None
        except TransportError as exc:
            self.problems.append(ConfigError(path, f"cannot read: {exc.message}", exc.hint))
            return None


def _choose_release(explicit: str | Release | None, globals_vars: dict[str, VarDef], share_dir: str | None,
                    loader: "_Loader") -> tuple[Release, str]:
    if isinstance(explicit, Release):
        return explicit, "given"
    if explicit:
        parsed = Release.parse(explicit)
        if parsed:
            return parsed, "given"
    installed = installed_kolla_ansible_release()
    if installed:
        return installed, "installed kolla-ansible"
    declared = globals_vars.get("openstack_release")
    if declared is not None:
        parsed = Release.parse(str(declared.value))
        if parsed:
            return parsed, f"openstack_release at {declared.where}"
        loader.problems.append(ConfigError(declared.where, t("openstack_release {value!r} is not a release the wizard knows", value=declared.value), t("use a name like 2024.1")))
    if share_dir and loader.reader.exists(posixpath.join(share_dir, "ansible/group_vars/all")) \
            and is_dir(loader.reader, posixpath.join(share_dir, "ansible/group_vars/all")):
        return Release(2025, 2), "kolla-ansible layout (group_vars/all/ directory)"
    return LATEST_KNOWN, "assumed (no openstack_release, no kolla-ansible found)"


def installed_kolla_ansible_release() -> Release | None:
    """kolla-ansible installed beside the wizard (the usual deploy-host venv)."""
    from importlib import metadata
    try:
        version = metadata.version("kolla-ansible")
    except metadata.PackageNotFoundError:
        return None
    return Release.from_kolla_ansible_version(version)


class _Loader:
    def __init__(self, reader: FileReader, config_dir: str) -> None:
        self.reader = reader
        self.config_dir = config_dir
        self.problems: list[ConfigError] = []

    def read(self, path: str, *, required: bool = False) -> str | None:
        try:
            return self.reader.read_file(path)
        except FileMissing:
            if required:
                self.problems.append(ConfigError(path, t("not found"), t("check the path (--kolla-config-dir / --inventory)")))
            return None
        except TransportError as exc:
            self.problems.append(ConfigError(path, f"cannot read: {exc.message}", exc.hint))
            return None

    def listdir(self, path: str) -> list[str]:
        try:
            return self.reader.listdir(path) if self.reader.exists(path) else []
        except TransportError:
            return []

    def yaml_vars(self, path: str, *, required: bool = False, label: str | None = None) -> dict[str, VarDef]:
        text = self.read(path, required=required)
        if text is None:
            return {}
        try:
            data = yamlpos.load(text, path)
        except ConfigError as problem:
            self.problems.append(problem)
            return {}
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problems.append(ConfigError(f"{path}:1", t("must be a mapping of variable: value"),
                                             t("each line is 'name: value'")))
            return {}
        return {str(k): VarDef(v, f"{path}:{data.line_of(str(k))}") for k, v in data.items()}

    def names_only(self, path: str) -> dict[str, VarDef]:
        """passwords.yml: keep which names it sets and where, never the values."""
        values = self.yaml_vars(path)
        # The values never enter the model, but they are what the redaction pass must mask
        # wherever they show up (a log line, a command's output, a diff).
        from ..redact import register_secrets_from
        register_secrets_from({name: definition.value for name, definition in values.items()})
        return {name: VarDef(None, definition.where) for name, definition in values.items()}

    def extra_vars(self, globals_vars: dict[str, VarDef], release: Release) -> list[ExtraVarsFile]:
        globals_file = ExtraVarsFile("globals.yml", globals_vars)
        passwords = ExtraVarsFile("passwords.yml", self.names_only(posixpath.join(self.config_dir, "passwords.yml")),
                                  secret=True)
        globals_d = posixpath.join(self.config_dir, "globals.d")
        # Old bash CLI: find -name '*.yml' (directory order; we sort); new CLI: *.yml|*.yaml|*.json sorted.
        suffixes = (".yml", ".yaml", ".json") if release.has_python_cli else (".yml",)
        extra_files = [ExtraVarsFile(f"globals.d/{name}", self.yaml_vars(posixpath.join(globals_d, name)))
                       for name in self.listdir(globals_d) if name.endswith(suffixes)]
        if release.has_python_cli:
            return [globals_file, passwords, *extra_files]
        return [globals_file, *extra_files, passwords]

    def default_inventory(self) -> str | None:
        for name in ("multinode", "inventory"):
            path = posixpath.join(self.config_dir, name)
            if self.reader.exists(path):
                if name == "inventory" and is_dir(self.reader, path):
                    continue
                return path
        self.problems.append(ConfigError(posixpath.join(self.config_dir, "multinode"),
                                         t("no inventory found (tried multinode and inventory)"),
                                         t("pass --inventory with the file you give kolla-ansible -i")))
        return None

    def vars_dir(self, directory: str) -> dict[str, dict[str, VarDef]]:
        """group_vars/ or host_vars/: ``name``, ``name.yml`` or ``name/`` (all files merged, sorted)."""
        found: dict[str, dict[str, VarDef]] = {}
        for entry in self.listdir(directory):
            path = posixpath.join(directory, entry)
            name = entry
            for suffix in YAML_SUFFIXES:
                if entry.endswith(suffix):
                    name = entry[: -len(suffix)]
            if entry.startswith("."):
                continue
            if is_dir(self.reader, path):
                merged: dict[str, VarDef] = {}
                for inner in self.listdir(path):
                    if not inner.startswith("."):
                        merged.update(self.yaml_vars(posixpath.join(path, inner)))
                found.setdefault(name, {}).update(merged)
            else:
                found.setdefault(name, {}).update(self.yaml_vars(path))
        return found

    def find_share_dir(self, prefix: str | None) -> str | None:
        candidates = []
        if prefix:
            candidates.append(posixpath.join(prefix, "share/kolla-ansible"))
        candidates.append(posixpath.join(sys.prefix, "share/kolla-ansible"))
        candidates.extend(SHARE_CANDIDATES)
        for candidate in candidates:
            try:
                if self.reader.exists(posixpath.join(candidate, "ansible/group_vars")):
                    return candidate
            except TransportError:
                continue
        return None

    def kolla_defaults(self, share_dir: str) -> dict[str, VarDef]:
        group_vars = posixpath.join(share_dir, "ansible/group_vars")
        all_dir = posixpath.join(group_vars, "all")
        if self.reader.exists(all_dir) and is_dir(self.reader, all_dir):
            merged: dict[str, VarDef] = {}
            for name in self.listdir(all_dir):
                if name.endswith(YAML_SUFFIXES):
                    merged.update(self.yaml_vars(posixpath.join(all_dir, name)))
            return merged
        return self.yaml_vars(posixpath.join(group_vars, "all.yml"))

    def role_defaults(self, share_dir: str) -> dict[str, VarDef]:
        merged: dict[str, VarDef] = {}
        for role in ("openvswitch", "neutron"):
            path = posixpath.join(share_dir, "ansible/roles", role, "defaults/main.yml")
            if self.reader.exists(path):
                merged.update(self.yaml_vars(path))
        return merged
