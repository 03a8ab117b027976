"""Ansible inventories as Kolla uses them: INI (the shipped ``multinode``) and YAML. Every variable
keeps the file:line it came from; a bad line is recorded as a problem and parsing goes on."""
from __future__ import annotations

import re
import shlex
import string
from dataclasses import dataclass, field
from typing import Any

from .. import yamlpos
from ..errors import ConfigError
from ..i18n import t

MAX_RANGE_HOSTS = 10000  # compute[0:99999] in a typo must not eat the wizard's memory


@dataclass(frozen=True)
class VarDef:
    value: Any
    where: str  # "file:line"


@dataclass
class Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, VarDef] = field(default_factory=dict)
    where: str = ""


@dataclass
class Inventory:
    path: str
    groups: dict[str, Group] = field(default_factory=dict)
    host_vars_inline: dict[str, dict[str, VarDef]] = field(default_factory=dict)
    problems: list[ConfigError] = field(default_factory=list)
    # Memoised answers (membership, depth); cleared whenever the inventory changes.
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def invalidate(self) -> None:
        self._memo.clear()

    def group(self, name: str, where: str = "") -> Group:
        self._memo.clear()
        if name not in self.groups:
            self.groups[name] = Group(name, where=where)
        return self.groups[name]

    def add_host(self, group: str, host: str, where: str) -> None:
        self._memo.clear()
        members = self.group(group, where).hosts
        if host not in members:
            members.append(host)
        self.host_vars_inline.setdefault(host, {})

    @property
    def hosts(self) -> list[str]:
        return list(self.host_vars_inline)

    def hosts_in(self, group: str) -> list[str]:
        """Hosts of a group and of all its descendants; ``all`` is every host."""
        if group == "all":
            return self.hosts
        found: dict[str, None] = {}  # ordered set
        for name in self._descendants(group):
            for host in self.groups[name].hosts:
                found.setdefault(host, None)
        return list(found)

    def _descendants(self, group: str) -> list[str]:
        seen: list[str] = []
        stack = [group]
        while stack:
            name = stack.pop()
            if name in seen or name not in self.groups:
                continue
            seen.append(name)
            stack.extend(reversed(self.groups[name].children))
        return seen

    def groups_of(self, host: str) -> list[str]:
        """Every group the host belongs to, directly or through :children, plus ``all``."""
        if host not in self.host_vars_inline:
            return []
        if "membership" not in self._memo:
            membership: dict[str, set[str]] = {h: set() for h in self.host_vars_inline}
            for name in self.groups:
                if name == "all":
                    continue
                for member in self.hosts_in(name):
                    membership.setdefault(member, set()).add(name)
            self._memo["membership"] = {h: ["all"] + sorted(g) for h, g in membership.items()}
        return list(self._memo["membership"][host])

    def depth(self, group: str) -> int:
        """Distance from ``all``: Ansible applies group vars parents first, children later."""
        if group == "all":
            return 0
        depths = self._memo.setdefault("depth", {})
        if group not in depths:
            depths[group] = self._depth(group)
        return depths[group]

    def _depth(self, group: str) -> int:
        parents: dict[str, list[str]] = {g.name: [] for g in self.groups.values()}
        for g in self.groups.values():
            for child in g.children:
                parents.setdefault(child, []).append(g.name)
        best = 1
        stack, seen = [(group, 1)], set()
        while stack:
            name, level = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            best = max(best, level)
            for parent in parents.get(name, []):
                if parent != "all":
                    stack.append((parent, level + 1))
        return best

    def host_vars(self, host: str) -> dict[str, VarDef]:
        return dict(self.host_vars_inline.get(host, {}))

    def group_vars(self, group: str) -> dict[str, VarDef]:
        return dict(self.groups[group].vars) if group in self.groups else {}

    def check_cycles(self) -> None:
        for name, group in self.groups.items():
            for child in group.children:
                if name in self._descendants(child):
                    self.problems.append(ConfigError(group.where or self.path,
                                                     t("group {name} is its own descendant through {child}", name=name, child=child),
                                                     t("remove the loop from the :children sections")))
                    return


# -- INI ---------------------------------------------------------------------------------------

_RANGE = re.compile(r"\[([a-zA-Z0-9]+):([a-zA-Z0-9]+)(?::([0-9]+))?\]")


def expand_host_pattern(pattern: str, where: str) -> list[str]:
    """``compute[01:03]`` → compute01..03, ``node[a:c]`` → nodea..c, ``n[1:9:2]`` with a stride."""
    match = _RANGE.search(pattern)
    if not match:
        if "[" in pattern or "]" in pattern:
            raise ConfigError(where, t("bad host range in {pattern!r}", pattern=pattern), t("use name[01:03] or name[a:c]"))
        return [pattern]
    start, end, stride_text = match.group(1), match.group(2), match.group(3)
    stride = int(stride_text) if stride_text else 1
    if stride < 1:
        raise ConfigError(where, t("range stride must be positive in {pattern!r}", pattern=pattern))
    head, tail = pattern[:match.start()], pattern[match.end():]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        first, last = int(start), int(end)
        if last < first:
            raise ConfigError(where, t("range end before start in {pattern!r}", pattern=pattern))
        if (last - first) // stride + 1 > MAX_RANGE_HOSTS:
            raise ConfigError(where, t("range in {pattern!r} is larger than {MAX_RANGE_HOSTS} hosts", pattern=pattern, MAX_RANGE_HOSTS=MAX_RANGE_HOSTS))
        items = [str(n).zfill(width) for n in range(first, last + 1, stride)]
    elif len(start) == 1 and len(end) == 1 and start in string.ascii_letters and end in string.ascii_letters:
        if ord(end) < ord(start):
            raise ConfigError(where, t("range end before start in {pattern!r}", pattern=pattern))
        items = [chr(c) for c in range(ord(start), ord(end) + 1, stride)]
    else:
        raise ConfigError(where, t("bad host range in {pattern!r}", pattern=pattern), t("use name[01:03] or name[a:c]"))
    hosts: list[str] = []
    for item in items:
        for expanded in expand_host_pattern(head + item + tail, where):
            hosts.append(expanded)
            if len(hosts) > MAX_RANGE_HOSTS:
                raise ConfigError(where, t("ranges in {pattern!r} give more than {MAX_RANGE_HOSTS} hosts", pattern=pattern, MAX_RANGE_HOSTS=MAX_RANGE_HOSTS))
    return hosts


def ini_scalar(text: str) -> Any:
    """A value as Ansible's INI plugin reads it on a host line: quoted text stays text, bare
    integers become int, True/False become bool; everything else is a string (no eval)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text in ("True", "False"):
        return text == "True"
    return text


_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:[#;].*)?$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]:@]+$")


def _strip_inline_comment(line: str) -> str:
    # Ansible treats " #" (whitespace then hash) outside quotes as a comment on host lines.
    result, quote = [], None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "#;" and (index == 0 or line[index - 1].isspace()):
            break
        result.append(char)
    return "".join(result).rstrip()


def parse_ini_inventory(text: str, where: str) -> Inventory:
    inventory = Inventory(where)
    inventory.group("all", f"{where}:1")
    if "\x00" in text:
        inventory.problems.append(ConfigError(where, t("is not a text file (contains NUL bytes)"), t("check the path")))
        return inventory
    group_name, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        place = f"{where}:{number}"
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        try:
            header = _SECTION.match(line)
            if header:
                group_name, kind = _section(header.group(1).strip(), place)
                inventory.group(group_name, place)
                continue
            if kind == "hosts":
                _host_line(inventory, group_name, line, place)
            elif kind == "children":
                child = _strip_inline_comment(line)
                if not _NAME.match(child) or " " in child:
                    raise ConfigError(place, t("bad group name {child!r} in [{group_name}:children]", child=child, group_name=group_name))
                inventory.group(child, place)
                parent = inventory.group(group_name, place)
                if child not in parent.children:
                    parent.children.append(child)
            else:
                key, sep, value = line.partition("=")
                if not sep or not key.strip() or " " in key.strip():
                    raise ConfigError(place, t("expected 'name=value' in [{group_name}:vars], got {line!r}", group_name=group_name, line=line[:60]))
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
                inventory.group(group_name, place).vars[key.strip()] = VarDef(value, place)
        except ConfigError as problem:
            inventory.problems.append(problem)
    # Hosts that ended up only in groups are also members of "all"; nothing else to link.
    inventory.check_cycles()
    inventory.invalidate()
    return inventory


def _section(name: str, place: str) -> tuple[str, str]:
    group, sep, kind = name.partition(":")
    group = group.strip()
    if not group or not re.fullmatch(r"[A-Za-z0-9_.\-]+", group):
        raise ConfigError(place, t("bad group name [{name}]", name=name), t("group names are letters, digits, '_', '-', '.'"))
    if not sep:
        return group, "hosts"
    if kind not in ("children", "vars"):
        raise ConfigError(place, t("unknown section kind [{name}]", name=name), t("use [group], [group:children] or [group:vars]"))
    return group, kind


def _host_line(inventory: Inventory, group: str, line: str, place: str) -> None:
    line = _strip_inline_comment(line)
    try:
        words = shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise ConfigError(place, t("cannot read host line: {exc}", exc=exc), t("check the quotes")) from None
    if not words:
        return
    name, *assignments = words
    port: int | None = None
    # host:port (but not a range like node[1:3], and not IPv6)
    if ":" in name and "[" not in name and name.count(":") == 1:
        name, port_text = name.split(":")
        if not port_text.isdigit():
            raise ConfigError(place, t("bad port in host {words!r}", words=words[0]))
        port = int(port_text)
    if not name or "=" in name or not _NAME.match(name):
        raise ConfigError(place, t("bad host name {words!r}", words=words[0]))
    host_vars: dict[str, VarDef] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise ConfigError(place, t("expected name=value after the host name, got {assignment!r}", assignment=assignment),
                              t("quote values that contain spaces"))
        # shlex already removed one level of quotes; a value that was quoted stays a string.
        raw_value = assignment[len(key) + 1:]
        host_vars[key] = VarDef(ini_scalar(raw_value) if not _was_quoted(line, key) else raw_value, place)
    if port is not None:
        host_vars.setdefault("ansible_port", VarDef(port, place))
    for host in expand_host_pattern(name, place):
        inventory.add_host(group, host, place)
        inventory.host_vars_inline[host].update(host_vars)


def _was_quoted(line: str, key: str) -> bool:
    return re.search(re.escape(key) + r"=[\"']", line) is not None


# -- YAML --------------------------------------------------------------------------------------

def parse_yaml_inventory(text: str, where: str) -> Inventory:
    inventory = Inventory(where)
    inventory.group("all", f"{where}:1")
    try:
        data = yamlpos.load(text, where)
    except ConfigError as problem:
        inventory.problems.append(problem)
        return inventory
    if data is None:
        return inventory
    if not isinstance(data, dict):
        inventory.problems.append(ConfigError(f"{where}:1", t("a YAML inventory must be a mapping of groups"),
                                              t("start with 'all:'")))
        return inventory
    for name, body in data.items():
        _yaml_group(inventory, str(name), body, where, _line(data, name), depth=0)
    inventory.check_cycles()
    inventory.invalidate()
    return inventory


def _line(mapping: Any, key: Any) -> int:
    return mapping.line_of(str(key)) if isinstance(mapping, yamlpos.LDict) else 0


def _yaml_group(inventory: Inventory, name: str, body: Any, where: str, line: int, depth: int) -> None:
    place = f"{where}:{line}"
    group = inventory.group(name, place)
    if body is None:
        return
    if depth > 50:
        inventory.problems.append(ConfigError(place, t("groups nested too deep")))
        return
    if not isinstance(body, dict):
        inventory.problems.append(ConfigError(place, t("group {name} must be a mapping with hosts/children/vars", name=name)))
        return
    for key in body:
        if key not in ("hosts", "children", "vars"):
            inventory.problems.append(ConfigError(f"{where}:{_line(body, key)}",
                                                  t("unknown key {key!r} in group {name}", key=key, name=name),
                                                  t("use hosts, children or vars")))
    hosts = body.get("hosts")
    if isinstance(hosts, dict):
        for host_pattern, host_body in hosts.items():
            host_place = f"{where}:{_line(hosts, host_pattern)}"
            try:
                names = expand_host_pattern(str(host_pattern), host_place)
            except ConfigError as problem:
                inventory.problems.append(problem)
                continue
            host_vars = _yaml_vars(host_body, where, host_place, inventory, f"host {host_pattern}")
            for host in names:
                inventory.add_host(name, host, host_place)
                inventory.host_vars_inline[host].update(host_vars)
    elif hosts is not None:
        inventory.problems.append(ConfigError(f"{where}:{_line(body, 'hosts')}", t("hosts of {name} must be a mapping", name=name),
                                              t("write 'hosts:' then one 'name:' per line")))
    group.vars.update(_yaml_vars(body.get("vars"), where, f"{where}:{_line(body, 'vars')}", inventory,
                                 f"vars of {name}"))
    children = body.get("children")
    if isinstance(children, dict):
        for child, child_body in children.items():
            if str(child) not in group.children:
                group.children.append(str(child))
            _yaml_group(inventory, str(child), child_body, where, _line(children, child), depth + 1)
    elif children is not None:
        inventory.problems.append(ConfigError(f"{where}:{_line(body, 'children')}",
                                              t("children of {name} must be a mapping of groups", name=name)))


def _yaml_vars(body: Any, where: str, place: str, inventory: Inventory, what: str) -> dict[str, VarDef]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        inventory.problems.append(ConfigError(place, t("{what} must be a mapping of name: value", what=what)))
        return {}
    return {str(k): VarDef(v, f"{where}:{_line(body, k)}") for k, v in body.items()}


def parse_inventory(text: str, where: str) -> Inventory:
    """INI or YAML, decided like Ansible's plugins would: a file whose first content line is a
    YAML mapping key without '[' is tried as YAML."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line == "---" or (line.endswith(":") and not line.startswith("[") and "=" not in line):
            return parse_yaml_inventory(text, where)
        break
    return parse_ini_inventory(text, where)
