"""Where the real tier's cached virtual environments live (built by tools/real-tier/build-venvs.sh)."""
from __future__ import annotations

import os
from pathlib import Path

BUILD_HINT = "build them with: bash tools/real-tier/build-venvs.sh (CI: .ci/real-tier-deps)"


class RealTierUnavailable(RuntimeError):
    """The cached venvs or system packages the real tier needs are absent (one line, with the fix)."""


def real_tier_home() -> Path:
    return Path(os.environ.get("KOLLA_WIZARD_REAL_TIER_HOME") or Path.home() / ".cache/kolla-wizard/real-tier")


def venv(name: str) -> Path:
    path = real_tier_home() / f"venv-{name}"
    if not (path / ".stamp").is_file() or not (path / "bin" / "python").exists():
        raise RealTierUnavailable(f"real tier: {path} is absent; {BUILD_HINT}")
    return path


def missing_system_tools() -> list[str]:
    tools = ["/usr/sbin/sshd", "/usr/sbin/ovsdb-server", "/usr/bin/ovs-vsctl", "/usr/bin/ovsdb-tool",
             "/usr/bin/unshare", "/usr/bin/ssh-keygen"]
    return [tool for tool in tools if not os.path.exists(tool)]
