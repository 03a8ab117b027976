import os
import subprocess
from pathlib import Path

import pytest

from kolla_lab import Lab

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def openstack_exe() -> str:
    exe = VENV_BIN / "openstack"
    return str(exe) if exe.exists() else "openstack"


@pytest.fixture(scope="module")
def seed_lab():
    with Lab("seed-homelab") as lab:
        yield lab


def osc(lab, *args, check=True):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(lab.config_dir / "clouds.yaml"))
    for k in list(env):
        if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE":
            del env[k]
    p = subprocess.run([openstack_exe(), "--os-cloud", lab.cloud_name, *args], env=env, capture_output=True,
                       text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"openstack {' '.join(args)} failed: {p.stderr}")
    return p


def ssh(lab, host, command, check=True):
    p = subprocess.run(["ssh", "-F", str(lab.config_dir / "ssh_config"), host, command], capture_output=True,
                       text=True, timeout=30)
    if check and p.returncode != 0:
        raise AssertionError(f"ssh {host} {command} -> {p.returncode}: {p.stderr}")
    return p


def sftp(lab, host, batch: str):
    p = subprocess.run(["sftp", "-q", "-b", "-", "-F", str(lab.config_dir / "ssh_config"), host], input=batch,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p
