"""The lab's ``kolla-ansible`` on the real backend renders with kolla-ansible's own templates from
what the operator has on the deploy node now (globals.yml, per-host overrides, their -e), prints
what the embedded lab prints, and fails with Kolla's own one-line error when Kolla cannot render."""
from __future__ import annotations

import pytest

from tests.trees.network_support import context
from kolla_lab import Lab
from kolla_lab.nodes import OVS_INI

from .conftest import venv_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]

OVERRIDE = "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini"
RECONFIGURE = ["kolla-ansible", "reconfigure", "-i", "/etc/kolla/multinode", "-t", "openvswitch,neutron",
               "-e", "neutron_physical_networks=physA", "--limit", "compute01"]


def _edit_and_reconfigure(lab) -> tuple[str, str, int, str]:
    """The operator's edits on the deploy node (through the lab's files), then the command over SSH."""
    deploy = lab.state.deploy
    deploy.write(OVERRIDE, "[ovs]\nof_inactivity_probe = 11\n")
    ctx = context(lab)
    try:
        done = ctx.deploy.run(RECONFIGURE, timeout=120)
    finally:
        ctx.close()
    return done.stdout, done.stderr, done.rc, lab.state.nodes["compute01"].read(OVS_INI)


def test_reconfigure_renders_with_kolla_and_matches_the_embedded_lab():
    venv_or_skip("openstack")
    venv_or_skip("kolla")
    from kolla_lab.real import RealLab
    with Lab("config-not-deployed") as embedded:
        embedded.start()
        expected = _edit_and_reconfigure(embedded)
    with RealLab("config-not-deployed") as real:
        got = _edit_and_reconfigure(real)
    assert got[2] == 0, got[1]
    # Kolla's templates took the -e variable and the per-host override (and globals.yml's
    # enable_neutron_provider_networks, which this scenario set but never deployed).
    assert "bridge_mappings = physA:br-ex" in got[3]
    assert "of_inactivity_probe = 11" in got[3]
    assert got == expected


def test_a_render_kolla_rejects_fails_in_one_line_and_changes_nothing():
    venv_or_skip("openstack")
    venv_or_skip("kolla")
    from kolla_lab.real import RealLab
    with RealLab("config-not-deployed") as real:
        before = real.state.nodes["compute01"].read(OVS_INI)
        real.state.deploy.write(OVERRIDE, "[ovs\nof_inactivity_probe = 11\n")
        ctx = context(real)
        try:
            done = ctx.deploy.run(RECONFIGURE, timeout=120)
        finally:
            ctx.close()
        assert done.rc != 0
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(("[ERROR]", "ERROR!", "fatal:")), done.stderr
        assert "Invalid section" in lines[0]
        assert real.state.nodes["compute01"].read(OVS_INI) == before
