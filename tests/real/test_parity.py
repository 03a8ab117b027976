"""Parity: every shipped scenario gives the same findings and the same remedies (modulo IDs) on the
embedded lab and on the real backend (real Keystone and Neutron, Kolla-rendered agent files, real
sshd/ovsdb nodes), and applying the durable fixes in order (the wizard's own apply path, each
verified by its probe) gives the same changes on both and leaves the same findings: none, where
the wizard can apply the durable fix. Where the backends differ, the lab is fixed, not this test."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from tests.trees.fix_support import UUID, apply_in_order, story
from tests.trees.test_seed_end_to_end import DURABLE_IN_ORDER
from wizard.playbook import trees_in_all
from kolla_lab import Lab

from .conftest import venv_or_skip

# A real lab starts in 10 to 25 s (Keystone and Neutron boot together beside one kolla-ansible
# render), depending on the machine's load.
pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]

# The cloud-down scenarios model MariaDB/RabbitMQ/keepalived, which the real backend's nodes do not run;
# their real judge is tests/real/test_real_galera.py.
ALL_SCENARIOS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "kolla_lab/scenarios").glob("*.yaml")
                       if "cloud-down:" not in p.read_text())
# KOLLA_WIZARD_PARITY=a,b narrows the walk while working on a scenario; CI walks them all (but ON_REQUEST).
SCENARIOS = [s for s in os.environ.get("KOLLA_WIZARD_PARITY", "").split(",") if s] or ALL_SCENARIOS
# KOLLA_WIZARD_PARITY_COMPUTE=nova: the real backend builds the servers with real Nova (about a minute
# more per scenario); the default, "lab", is the lab's compute API (kolla_lab/real/compute.py).
OPERATOR = ("--operator-ip", "192.168.35.5")

# The durable fixes an operator applies, in order, off the first diagnosis' screen.
DURABLE_FIXES: dict[str, list[str]] = {
    "seed-homelab": DURABLE_IN_ORDER,
    "agent-not-restarted": ["restart-ovs-agent"],
    "config-not-deployed": ["reconfigure-host"],            # the lab's kolla-ansible reconfigure
    "physnet-mismatch": ["reconfigure-host"],
    "mapped-bridge-missing": ["reconfigure-openvswitch"],
    "router-no-gateway": ["router-set-gateway"],
    "subnet-not-on-router": ["router-add-subnet"],
    "ssh-wrong-cidr": ["sg-allow-ssh"],
    "ovs-agent-down": ["start-ovs-agent"],
    "metadata-unreachable": ["metadata-repair"],
    "no-keypair": [],            # keypair-rebuild is advice (the operator rebuilds the server)
    # The unreachable instance's causes: their remedies are commands for the operator, not applied here.
    "l3-agent-down": [], "dhcp-agent-down": [], "br-ex-no-uplink": [], "external-nic-address": [],
    "mtu-too-big": [], "fip-pool-overlaps-lan": [],
    "healthy": [],
    "two-computes": DURABLE_IN_ORDER,
    "network-on-unmapped-physnet": [],
    "two-ports": [],
    "inventory-names": DURABLE_IN_ORDER,
    "gateway-on-other-external": ["router-set-gateway"],
    "sg-rule-in-other-group": ["sg-allow-ssh-join"],
    "override-maps-wrong-physnet": ["fix-override-mapping"],   # recreate-network-on-physnet is advice (move servers to public1)
    "host-name-mismatch": [],    # align-host-names creates a per-host override: advice, no file to edit yet
    "kvm-nested": ["virt-type-qemu"],
    "compute-down": ["start-nova-compute"],
    "compute-disabled": [],          # compute-service-enable is a command the operator runs
    "compute-forced-down": [],       # compute-service-up likewise
    "compute-not-in-cell": [],       # discover-hosts likewise
    "placement-no-room": ["nova-placement-override"],
    "az-compute-down": ["start-nova-compute"],
    "scheduler-not-consuming": ["start-nova-scheduler"],
    "compute-not-consuming": ["restart-nova-compute"],
}
# Scenarios the real backend cannot express yet, and why (docs/real-tier.md).
EMBEDDED_ONLY: dict[str, str] = {
    "kvm-nested": "libvirt's refusal of a KVM guest needs libvirt; the real tier's computes have none",
    # The parity walk still runs the real tier's compute stand-in, which has no service states;
    # real Nova (RealLab(compute="nova")) has them but is not in the parity walk yet.
    "compute-down": "nova-compute service states: the parity walk's compute stand-in has none (real Nova: "
                    "tests/real/test_real_nova.py)",
    "compute-disabled": "nova-compute service states: the parity walk's compute stand-in has none",
    "compute-forced-down": "nova-compute service states: the parity walk's compute stand-in has none",
    "compute-not-in-cell": "host-to-cell mappings: the parity walk's compute stand-in has no cells (real Nova: "
                           "tests/real/test_real_nova.py)",
    "compute-not-consuming": "the parity walk's compute stand-in has no RPC queues (real Nova: "
                             "tests/real/test_real_nova.py)",
    "scheduler-not-consuming": "the parity walk's compute stand-in has no nova-scheduler RPC (real Nova: "
                               "tests/real/test_real_nova.py)",
    "az-compute-down": "nova-compute service states: the parity walk's compute stand-in has none",
    "placement-no-room": "Placement: the parity walk's compute stand-in has none; real Placement judges the lab's "
                         "in tests/real/test_real_nova.py",
}
# The data-path scenarios (the unreachable tree's hops) run with the real OVS agents: only a real
# agent plugging the instance's VIF and reporting it up (update_device_up) gets real Neutron to mark
# the port ACTIVE; with the lab's rows the walk ends port-not-active (issue 13). Each such lab costs
# about 25 s more, so only these.
REAL_AGENTS = {"l3-agent-down", "dhcp-agent-down", "br-ex-no-uplink", "external-nic-address",
               "mtu-too-big", "fip-pool-overlaps-lan"}
# Same on both backends when walked (2026-11-29), left out of the default walk for CI time (60 to 70 s
# each at load 8): mtu-too-big's walk passes their step (uplink) with real agents. Name them in
# KOLLA_WIZARD_PARITY to walk them.
ON_REQUEST: dict[str, str] = {
    name: f"{name}: agrees on both backends; walked only when named in KOLLA_WIZARD_PARITY (CI time)"
    for name in ("br-ex-no-uplink", "external-nic-address")}
# network-on-unmapped-physnet was quarantined from 614bcae to bc72e7c: it failed in 3 of 6 full
# clean-clone CI runs beside a CPU burner and never outside one. The likeliest cause, two nodes handed
# the same just-closed port (one sshd answering for both, so the wizard refused a changed host key),
# was fixed in d40aeb1; it is walked again so that full CI runs judge that fix (docs/real-tier.md).

# What the fixes cannot clear: an instance that failed to build stays in ERROR until it is rebuilt
# (instance-not-active is advice), and no-keypair's durable fix is advice too.
REMAINING: dict[str, list[str]] = {
    "mapped-bridge-missing": ["instance-not-active"],
    "ovs-agent-down": ["instance-not-active"],
    "metadata-unreachable": ["metadata-unreachable"],
    "no-keypair": ["no-keypair"],
    "host-name-mismatch": ["host-name-mismatch", "instance-not-active"],
    "network-on-unmapped-physnet": ["physnet-mismatch"],
    # the unreachable instance's causes: their remedies are the operator's commands, none applied here
    "br-ex-no-uplink": ["br-ex-no-uplink"],
    "external-nic-address": ["external-nic-has-address"],
    "l3-agent-down": ["l3-agent-down"],
    "dhcp-agent-down": ["dhcp-agent-down"],
    "mtu-too-big": ["mtu-too-big"],
    "fip-pool-overlaps-lan": ["fip-pool-overlaps-lan"],
}
# metadata-repair starts the dead agent, but nothing re-readable proves it before the instance
# reboots (cloud-init asks the metadata service only at boot): applied, not proven, on both.
NOT_VERIFIED: dict[str, str] = {"metadata-unreachable": "unverified"}


def _findings_signature(report) -> list[tuple]:
    out = []
    for finding in report.findings:
        remedies = []
        for remedy in finding.remedies:
            data = remedy.to_dict()
            remedies.append(tuple(UUID.sub("<id>", str(data.get(key) or ""))
                                  for key in ("id", "kind", "durable", "command", "host", "path")))
        out.append((finding.tree, finding.id, finding.host, tuple(remedies)))
    return sorted(out)


def _walk(lab, scenario: str, expected: list | None = None,
          expected_after: list | None = None) -> tuple[list, list, list[str], str]:
    # On the real backend a diagnosis that disagrees with the embedded lab's (the first one, or the
    # one after the fixes) is read once more: real Neutron and agents beside a full CI run and a CPU
    # burner twice found nothing on network-on-unmapped-physnet (CI on f58f054: the first diagnosis;
    # 78281a0: the one after the fixes, although the first had found it), and passed alone. A second
    # disagreement fails, with every diagnosis' steps and problems in the message; a read-again that
    # then agreed is reported as a warning with what the first read said, so it is never silent.
    settled = None if expected is None else (lambda report: _findings_signature(report) == expected)
    settled_after = None if expected_after is None else (
        lambda report: [f.id for f in report.findings] == expected_after)
    run = apply_in_order(lab, trees_in_all(), DURABLE_FIXES[scenario], *OPERATOR, settled=settled,
                         settled_after=settled_after)
    said = (f"first diagnosis: {run.retried}; " if run.retried else "") + f"diagnosis: {story(run.before)}"
    said += (f"; first diagnosis after the fixes: {run.retried_after}" if run.retried_after else "") + \
        f"; diagnosis after the fixes: {story(run.after)}"
    if run.retried or run.retried_after:
        warnings.warn(f"{scenario}: the real backend's diagnosis was read again; {said}")
    return _findings_signature(run.before), run.applied_signature(), [f.id for f in run.after.findings], said


def test_every_scenario_has_a_fix_plan():
    assert sorted(DURABLE_FIXES) == ALL_SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_findings_remedies_and_fixes_on_both_backends(scenario):
    if scenario in EMBEDDED_ONLY:
        pytest.skip(EMBEDDED_ONLY[scenario])
    if scenario in ON_REQUEST and scenario not in os.environ.get("KOLLA_WIZARD_PARITY", "").split(","):
        pytest.skip(ON_REQUEST[scenario])
    venv_or_skip("openstack")
    venv_or_skip("kolla")
    from kolla_lab.real import RealLab
    if scenario in REAL_AGENTS:
        from kolla_lab.real.ovs_agents import available
        if why := available():
            pytest.skip(f"{scenario}: the real OVS agents cannot run here: {why}")
    with Lab(scenario) as embedded:
        embedded.start()
        expected = _walk(embedded, scenario)
    with RealLab(scenario, compute=os.environ.get("KOLLA_WIZARD_PARITY_COMPUTE", "lab"),
                 agents="real" if scenario in REAL_AGENTS else "lab") as real:
        assert not real.render_differences, (
            f"{scenario}: the embedded lab's Kolla reading differs from kolla-ansible's templates: "
            f"{real.render_differences}")
        got = _walk(real, scenario, expected[0], expected[2])
    findings, applied, after, said = got
    assert findings == expected[0], f"findings and remedies differ; real backend's {said}"
    assert applied == expected[1], f"the applied fixes differ; real backend's {said}"
    assert after == expected[2], f"the findings after the fixes differ; real backend's {said}"
    # ...and the durable fixes do what they say, on both.
    assert [a[1] for a in applied] == [NOT_VERIFIED.get(scenario, "verified")] * len(DURABLE_FIXES[scenario])
    assert after == REMAINING.get(scenario, [])
