"""The real tier: kolla-ansible's own templates, real Keystone/Neutron, OpenSSH, Open vSwitch.

Its tests carry ``@pytest.mark.real`` and skip (with the command that fixes it) only when the
cached virtual environments or system packages are absent; CI builds them through
``.ci/real-tier-deps``, so there they run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

BUILD_HINT = "build it with: bash tools/real-tier/build-venvs.sh (CI: .ci/real-tier-deps)"


def pytest_configure(config):
    config.addinivalue_line("markers", "real: the real tier (real kolla-ansible, Keystone, Neutron, sshd, OVS)")


def real_tier_home() -> Path:
    return Path(os.environ.get("KOLLA_WIZARD_REAL_TIER_HOME") or Path.home() / ".cache/kolla-wizard/real-tier")


def venv_or_skip(name: str) -> Path:
    venv = real_tier_home() / f"venv-{name}"
    if not (venv / ".stamp").is_file() or not (venv / "bin" / "python").exists():
        pytest.skip(f"real tier: {venv} is absent; {BUILD_HINT}")
    return venv


def real_stack_or_skip(*venvs: str, agents: bool = False) -> None:
    """Skip (with the command that fixes it) unless a real lab with its own RabbitMQ can start here:
    root for the nodes' namespaces, rabbitmq-server, the named venvs and, with ``agents``, what the
    real neutron-openvswitch-agents need."""
    if os.geteuid() != 0:
        pytest.skip("real lab nodes and agents need root (mount and network namespaces)")
    if not os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
        pytest.skip("real tier: rabbitmq-server is absent; install it with: bash .ci/real-tier-deps")
    if agents:
        from kolla_lab.real.ovs_agents import available
        why = available()
        if why:
            pytest.skip(f"real tier: the real OVS agents cannot run here: {why}")
    for name in venvs:
        venv_or_skip(name)
