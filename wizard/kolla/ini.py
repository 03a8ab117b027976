"""oslo.config-style INI files (deployed agent configs and /etc/kolla/config overrides), with the
line of every value so a finding can point at it."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..i18n import t


@dataclass(frozen=True)
class IniValue:
    value: str
    where: str  # "file:line"


@dataclass
class IniFile:
    where: str
    sections: dict[str, dict[str, IniValue]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> IniValue | None:
        return self.sections.get(section, {}).get(key)


def parse_ini(text: str, where: str) -> IniFile:
    """Parse like oslo.config's iniparser: ``[section]``, ``key = value`` or ``key: value``,
    ``#``/``;`` comment lines, indented continuation lines, repeated sections merge (later key
    wins). Raises ConfigError("file:line", ...) on the first line it cannot read."""
    if "\x00" in text:
        raise ConfigError(where, t("is not a text file (contains NUL bytes)"), t("check the path"))
    parsed = IniFile(where)
    section: dict[str, IniValue] | None = None
    last_key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        place = f"{where}:{number}"
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            last_key = None if not stripped else last_key
            continue
        if line[0] in " \t" and last_key is not None and section is not None:
            # Continuation: oslo joins it to the previous value with a newline.
            previous = section[last_key]
            section[last_key] = IniValue(previous.value + "\n" + stripped, previous.where)
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]") or len(stripped) < 3:
                raise ConfigError(place, t("bad section header {stripped!r}", stripped=stripped), t("write it as [section]"))
            name = stripped[1:-1].strip()
            if not name:
                raise ConfigError(place, t("empty section name"), t("write it as [section]"))
            section = parsed.sections.setdefault(name, {})
            last_key = None
            continue
        positions = [p for p in (stripped.find("="), stripped.find(":")) if p > 0]
        if not positions:
            # Echo the first word only: the rest of a line like ``rabbit_password Secret`` is a value.
            first = stripped.split(None, 1)[0][:60]
            raise ConfigError(place, t("expected 'key = value', got a line starting {first!r} with no '='", first=first),
                              t("add '=' or comment the line out with '#'"))
        if section is None:
            raise ConfigError(place, t("key before any [section]"), t("put it under a section such as [DEFAULT] or [ovs]"))
        split_at = min(positions)
        key = stripped[:split_at].strip()
        value = stripped[split_at + 1:].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        section[key] = IniValue(value, place)
        last_key = key
    return parsed


def parse_bridge_mappings(text: str, where: str = "bridge_mappings") -> dict[str, str]:
    """``physnet1:br-ex, physnet2:br-vlan`` → {"physnet1": "br-ex", "physnet2": "br-vlan"}."""
    mappings: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        physnet, sep, bridge = item.partition(":")
        if not sep or not physnet.strip() or not bridge.strip():
            raise ConfigError(where, t("bad bridge mapping {item!r}", item=item), t("use physnet:bridge, comma-separated"))
        mappings[physnet.strip()] = bridge.strip()
    return mappings


def format_bridge_mappings(mappings: dict[str, str]) -> str:
    return ",".join(f"{physnet}:{bridge}" for physnet, bridge in mappings.items())
