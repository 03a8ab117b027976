"""OpenStack release names and kolla-ansible versions, comparable (2024.1 < 2024.2 < master)."""
from __future__ import annotations

import re
from dataclasses import dataclass

CODENAMES = {
    "antelope": "2023.1", "bobcat": "2023.2", "caracal": "2024.1", "dalmatian": "2024.2",
    "epoxy": "2025.1", "flamingo": "2025.2", "gazpacho": "2026.1",
}
# kolla-ansible major version → release (from the tags; 18.x = 2024.1 ...).
MAJOR_TO_RELEASE = {16: "2023.1", 17: "2023.2", 18: "2024.1", 19: "2024.2", 20: "2025.1",
                    21: "2025.2", 22: "2026.1"}


@dataclass(frozen=True, order=True)
class Release:
    year: int
    cycle: int

    @classmethod
    def parse(cls, text: str | None) -> "Release | None":
        """"2024.1", "stable/2024.2", "caracal", "master" → Release; anything else → None."""
        if text is None:
            return None
        value = str(text).strip().lower().removeprefix("stable/").removeprefix("unmaintained/")
        value = CODENAMES.get(value, value)
        if value in ("master", "main", "latest"):
            return cls(9999, 1)
        match = re.fullmatch(r"(20\d\d)\.([12])(?:-eol)?", value)
        return cls(int(match.group(1)), int(match.group(2))) if match else None

    @classmethod
    def from_kolla_ansible_version(cls, version: str) -> "Release | None":
        match = re.match(r"(\d+)\.", version)
        if not match:
            return None
        major = int(match.group(1))
        if major in MAJOR_TO_RELEASE:
            return cls.parse(MAJOR_TO_RELEASE[major])
        return cls(9999, 1) if major > max(MAJOR_TO_RELEASE) else None

    def __str__(self) -> str:
        return "master" if self.year == 9999 else f"{self.year}.{self.cycle}"

    @property
    def has_python_cli(self) -> bool:
        """19.0.0 (2024.2) rewrote the CLI: action first, globals.d after passwords.yml."""
        return self >= Release(2024, 2)

    @property
    def has_physical_networks_variable(self) -> bool:
        """neutron_physical_networks arrived in 2024.2; before that physnetN is hard-coded."""
        return self >= Release(2024, 2)

    @property
    def splits_group_vars_all(self) -> bool:
        """2025.2 split ansible/group_vars/all.yml into all/*.yml."""
        return self >= Release(2025, 2)


LATEST_KNOWN = Release(2026, 1)
