"""Which value of a variable wins on a host, and why: every place that sets it, in Ansible's real
precedence order (lowest first), with globals.yml and friends on top as extra vars."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .defaults import ansible_bool, builtin_default
from .inventory import Inventory, VarDef
from .release import Release
from ..i18n import t

# Levels, lowest to highest (Ansible's documented order, as Kolla relies on it).
ROLE_DEFAULT = "role default"
INVENTORY_FILE_GROUP = "inventory file group var"
INVENTORY_GROUP_VARS_ALL = "inventory group_vars/all"
KOLLA_DEFAULT = "Kolla default (playbook group_vars/all)"
INVENTORY_GROUP_VARS = "inventory group_vars/<group>"
INVENTORY_FILE_HOST = "inventory file host var"
INVENTORY_HOST_VARS = "inventory host_vars/<host>"
EXTRA_VARS = "extra vars"

SECRET_SHOWN_AS = "<secret from passwords.yml>"
_SIMPLE_REFERENCE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*bool\s*)?\}\}\s*$")


@dataclass(frozen=True)
class Source:
    level: str
    place: str          # "file:line" (or a description for the built-in table)
    value: Any          # as written there; SECRET_SHOWN_AS for passwords.yml
    won: bool = False
    label: str = ""     # e.g. "[compute:vars]", "globals.yml", "group_vars/compute"

    def describe(self) -> str:
        if not self.label:
            return t("at {place}", place=self.place)
        return t("{label} at {place}", label=_label_words(self.label), place=self.place)


@dataclass
class Resolution:
    var: str
    host: str
    value: Any                               # the evaluated value (secret: SECRET_SHOWN_AS)
    sources: list[Source] = field(default_factory=list)   # lowest first; exactly one has won=True
    evaluated: bool = True                   # False: a Jinja expression we do not evaluate
    secret: bool = False
    depends: dict[str, "Resolution"] = field(default_factory=dict)

    @property
    def winner(self) -> Source | None:
        return next((s for s in self.sources if s.won), None)

    @property
    def defined(self) -> bool:
        return self.winner is not None

    def as_bool(self) -> bool:
        return ansible_bool(self.value)

    def explain(self) -> str:
        """One plain sentence: the value, where it comes from, and what it beat."""
        winner = self.winner
        if winner is None:
            return t("{var} is not set anywhere for {host}", var=self.var, host=self.host)
        shown = SECRET_SHOWN_AS if self.secret else _show(self.value)
        text = t("{var} is {value} for {host}: {winner}", var=self.var, value=shown, host=self.host,
                 winner=_winner_words(winner))
        if not self.evaluated:
            text += t(" (a Jinja expression the wizard does not evaluate)")
        losers = [s for s in self.sources if not s.won and _show(s.value) != _show(winner.value)]
        if losers:
            parts = [t("{label} at {place} ({value})", label=_label_words(s.label or s.level), place=s.place,
                       value=_show(s.value)) for s in losers]
            text += (t("; {parts} loses to it", parts=', '.join(parts)) if len(parts) == 1 else
                     t("; {parts} lose to it", parts=', '.join(parts)))
            if any(s.level == INVENTORY_FILE_GROUP for s in losers) and winner.level == KOLLA_DEFAULT:
                text += t(" (Kolla's group_vars/all beats [group:vars] in the inventory file; put it in "
                          "inventory group_vars/<group> or on the host line instead)")
        return text


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def _winner_words(source: Source) -> str:
    if source.level == KOLLA_DEFAULT:
        return t("Kolla's default at {place}", place=source.place)
    if source.level == EXTRA_VARS:
        return t("{label} at {place} (extra vars always win)", label=source.label, place=source.place)
    return t("{label} at {place} ({level})", label=_label_words(source.label or source.level), place=source.place,
             level=_label_words(source.level))


# Labels and levels that are the wizard's words (the others are file and group names, shown as they are).
_WORDS = {"Kolla's group_vars/all", ROLE_DEFAULT, INVENTORY_FILE_GROUP, INVENTORY_GROUP_VARS_ALL, KOLLA_DEFAULT,
          INVENTORY_GROUP_VARS, INVENTORY_FILE_HOST, INVENTORY_HOST_VARS, EXTRA_VARS}


def _label_words(label: str) -> str:
    return t(label) if label in _WORDS else label


@dataclass
class ExtraVarsFile:
    label: str                  # "globals.yml", "globals.d/10-net.yml", "passwords.yml"
    values: dict[str, VarDef]
    secret: bool = False


@dataclass
class VariableLayers:
    """Everything that can set a variable, already parsed."""

    inventory: Inventory
    release: Release
    role_defaults: dict[str, VarDef] = field(default_factory=dict)
    inventory_group_vars: dict[str, dict[str, VarDef]] = field(default_factory=dict)  # group_vars/<g>
    inventory_host_vars: dict[str, dict[str, VarDef]] = field(default_factory=dict)   # host_vars/<h>
    kolla_defaults: dict[str, VarDef] = field(default_factory=dict)  # installed group_vars/all
    kolla_defaults_installed: bool = False
    extra_vars: list[ExtraVarsFile] = field(default_factory=list)     # in command-line order


class VariableResolver:
    def __init__(self, layers: VariableLayers) -> None:
        self.layers = layers
        self._cache: dict[tuple[str, str], Resolution] = {}

    def sources(self, var: str, host: str) -> list[Source]:
        """Every place that sets ``var`` for ``host``, lowest precedence first (not yet judged)."""
        layers, inventory = self.layers, self.layers.inventory
        found: list[Source] = []

        def add(level: str, definition: VarDef | None, label: str = "") -> None:
            if definition is not None:
                found.append(Source(level, definition.where, definition.value, label=label))

        builtin = builtin_default(var, layers.release)
        if var in layers.role_defaults:
            add(ROLE_DEFAULT, layers.role_defaults.get(var), "role default")
        elif builtin is not None and builtin.role and var not in layers.kolla_defaults:
            # A role default (e.g. neutron_agents_wrappers): below every inventory setting.
            value = _builtin_shown(builtin, layers.release)
            found.append(Source(ROLE_DEFAULT, builtin.place(layers.release), value, label="role default"))
        groups = self._ordered_groups(host)
        for group in groups:
            add(INVENTORY_FILE_GROUP, inventory.group_vars(group).get(var), f"[{group}:vars]")
        add(INVENTORY_GROUP_VARS_ALL, layers.inventory_group_vars.get("all", {}).get(var), "group_vars/all")
        kolla = layers.kolla_defaults.get(var)
        if kolla is not None:
            add(KOLLA_DEFAULT, kolla, "Kolla's group_vars/all")
        else:
            if builtin is not None and not builtin.role:
                value = _builtin_shown(builtin, layers.release)
                found.append(Source(KOLLA_DEFAULT, builtin.place(layers.release), value,
                                    label="Kolla's group_vars/all"))
        for group in groups:
            if group != "all":
                add(INVENTORY_GROUP_VARS, layers.inventory_group_vars.get(group, {}).get(var),
                    f"group_vars/{group}")
        add(INVENTORY_FILE_HOST, inventory.host_vars(host).get(var), f"host line for {host}")
        add(INVENTORY_HOST_VARS, layers.inventory_host_vars.get(host, {}).get(var), f"host_vars/{host}")
        for extra in layers.extra_vars:
            definition = extra.values.get(var)
            if definition is not None:
                shown = SECRET_SHOWN_AS if extra.secret else definition.value
                found.append(Source(EXTRA_VARS, definition.where, shown, label=extra.label))
        return found

    def _ordered_groups(self, host: str) -> list[str]:
        # Ansible merges group vars by depth (parents before children), then by name.
        inventory = self.layers.inventory
        groups = [g for g in inventory.groups_of(host) if g != "all"]
        return ["all"] + sorted(groups, key=lambda g: (inventory.depth(g), g))

    def resolve(self, var: str, host: str, _stack: tuple[str, ...] = ()) -> Resolution:
        key = (var, host)
        if key in self._cache:
            return self._cache[key]
        found = self.sources(var, host)
        if not found:
            resolution = Resolution(var, host, None, [])
        else:
            found[-1] = Source(found[-1].level, found[-1].place, found[-1].value, True, found[-1].label)
            resolution = self._evaluate(var, host, found, _stack)
        if not _stack:
            self._cache[key] = resolution
        return resolution

    def _evaluate(self, var: str, host: str, found: list[Source], stack: tuple[str, ...]) -> Resolution:
        winner = found[-1]
        is_secret = winner.level == EXTRA_VARS and winner.value == SECRET_SHOWN_AS and any(
            e.secret and var in e.values for e in self.layers.extra_vars)
        resolution = Resolution(var, host, winner.value, found, secret=is_secret)
        if is_secret or var in stack:
            resolution.evaluated = not (var in stack)
            return resolution
        inner_stack = stack + (var,)

        def lookup(name: str) -> Any:
            dependency = self.resolve(name, host, inner_stack)
            resolution.depends[name] = dependency
            return dependency.value

        builtin = builtin_default(var, self.layers.release)
        value = winner.value
        if builtin is not None and builtin.evaluate is not None \
                and (winner.level == KOLLA_DEFAULT or (winner.level == ROLE_DEFAULT and builtin.role)) \
                and (not self.layers.kolla_defaults_installed or _is_template(value)):
            # Kolla's own expression: evaluate it the way the template would.
            resolution.value = builtin.evaluate(lookup, self.layers.release)
            return resolution
        if isinstance(value, str):
            reference = _SIMPLE_REFERENCE.match(value)
            if reference:
                target = lookup(reference.group(1))
                resolution.value = ansible_bool(target) if reference.group(2) else target
                resolution.evaluated = resolution.depends[reference.group(1)].evaluated
            elif _is_template(value):
                resolution.evaluated = False
        return resolution


def _builtin_shown(builtin: Any, release: Any) -> Any:
    """What the built-in table says Kolla's file holds at this release: a literal that changed form
    between releases ("no" up to 2025.2, false after) is shown as that release writes it, so the
    chain never says 'false' where the resolved value says 'no'; an expression is shown as written."""
    if builtin.evaluate is None:
        return builtin.value
    if _is_template(builtin.expression):
        return builtin.expression
    try:
        return builtin.evaluate(lambda _name: None, release)
    except Exception:
        return builtin.expression


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)
