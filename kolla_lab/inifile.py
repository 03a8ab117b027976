"""Tiny INI helpers for the lab: parse oslo.config style files and Ansible INI inventories."""
from __future__ import annotations

import re


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """oslo.config-ish: sections, key = value, # and ; comments. Later keys win."""
    out: dict[str, dict[str, str]] = {}
    section = "DEFAULT"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            out.setdefault(section, {})
            continue
        if "=" in line:
            key, _, value = line.partition("=")
            out.setdefault(section, {})[key.strip()] = value.strip()
    return out


def merge_ini(base: dict, override: dict) -> dict:
    """Kolla's merge_configs: later sources override keys, section by section."""
    merged = {s: dict(v) for s, v in base.items()}
    for section, values in override.items():
        merged.setdefault(section, {}).update(values)
    return merged


def dump_ini(data: dict[str, dict[str, str]]) -> str:
    """As Kolla's merge_configs writes a file (Python's ConfigParser.write): every section,
    the last one too, is followed by a blank line."""
    parts = []
    for section, values in data.items():
        parts.append(f"[{section}]")
        parts.extend(f"{k} = {v}" for k, v in values.items())
        parts.append("")
    return "\n".join(parts) + "\n"


def parse_mappings(value: str | None) -> dict[str, str]:
    """'physnet1:br-ex,physnet2:br-ex2' -> {'physnet1': 'br-ex', ...}"""
    result: dict[str, str] = {}
    for item in (value or "").split(","):
        item = item.strip()
        if ":" in item:
            physnet, _, bridge = item.partition(":")
            result[physnet.strip()] = bridge.strip()
    return result


_HOST_RANGE = re.compile(r"^(.*)\[(\d+):(\d+)\](.*)$")


def _kv_pairs(text: str) -> dict[str, str]:
    import shlex
    out = {}
    for token in shlex.split(text, comments=True):
        if "=" in token:
            k, _, v = token.partition("=")
            out[k] = v
    return out


class Inventory:
    """An Ansible INI inventory: groups, :children, :vars and host vars."""

    def __init__(self, text: str):
        self.hosts: dict[str, dict[str, str]] = {}
        self.direct: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}
        self.group_vars: dict[str, dict[str, str]] = {}
        kind, group = "hosts", "ungrouped"
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                name = line[1:-1]
                if name.endswith(":children"):
                    kind, group = "children", name[:-9]
                    self.children.setdefault(group, [])
                elif name.endswith(":vars"):
                    kind, group = "vars", name[:-5]
                    self.group_vars.setdefault(group, {})
                else:
                    kind, group = "hosts", name
                    self.direct.setdefault(group, [])
                continue
            if kind == "children":
                self.children[group].append(line.split()[0])
            elif kind == "vars":
                k, _, v = line.partition("=")
                self.group_vars[group][k.strip()] = v.strip().strip("'\"")
            else:
                first, _, rest = line.partition(" ")
                hostvars = _kv_pairs(rest) if rest.strip() else {}
                for host in self._expand(first):
                    self.hosts.setdefault(host, {}).update(hostvars)
                    self.direct.setdefault(group, []).append(host)

    @staticmethod
    def _expand(pattern: str) -> list[str]:
        m = _HOST_RANGE.match(pattern)
        if not m:
            return [pattern]
        pre, lo, hi, post = m.groups()
        width = len(lo)
        return [f"{pre}{i:0{width}d}{post}" for i in range(int(lo), int(hi) + 1)]

    def members(self, group: str, _seen=None) -> set[str]:
        seen = _seen or set()
        if group in seen:
            return set()
        seen.add(group)
        if group == "all":
            return set(self.hosts)
        result = set(self.direct.get(group, []))
        for child in self.children.get(group, []):
            result |= self.members(child, seen)
        return result

    def groups_of(self, host: str) -> list[str]:
        names = set(self.direct) | set(self.children)
        return sorted(g for g in names if host in self.members(g))
