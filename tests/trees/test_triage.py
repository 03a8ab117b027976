"""triage tree: one look at the cloud routes to the trees that apply, for every combination."""
from __future__ import annotations

import pytest

from tests.trees.network_support import conn, diagnose, steps
from kolla_lab import Lab


def routed(report) -> list[str]:
    return [t.tree for t in report.trees]


@pytest.fixture
def fresh():
    with Lab("seed-homelab") as lab:
        lab.start()
        yield lab


def test_seed_routes_to_all_three_trees_and_they_find_the_report_s_faults(fresh):
    report = diagnose(fresh, ["triage"])
    assert steps(report, "triage") == [("keystone", "answers"), ("overview", "build-and-network")]
    assert routed(report) == ["triage", "max-retries", "fip-404", "ssh-refused"]
    ids = {f.id for f in report.findings}
    assert {"no-router", "fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"} <= ids
    overview = next(s for s in report.steps if s.step == "overview").observations
    assert any("rocky-vm1 is ERROR: Exceeded maximum number of retries" in o for o in overview)


def test_build_failures_only(fresh):
    c = conn(fresh)
    c.compute.delete_server(c.compute.find_server("rocky-vm2", ignore_missing=False))
    report = diagnose(fresh, ["triage"])
    assert steps(report, "triage") == [("keystone", "answers"), ("overview", "build-failures")]
    assert routed(report) == ["triage", "max-retries"]


def test_build_and_access(fresh):
    c = conn(fresh)
    router = c.network.create_router(name="r1", external_gateway_info={
        "network_id": c.network.find_network("public1", ignore_missing=False).id})
    c.network.add_interface_to_router(router, subnet=c.network.find_subnet("demo-subnet", ignore_missing=False).id)
    report = diagnose(fresh, ["triage"])
    assert steps(report, "triage") == [("keystone", "answers"), ("overview", "build-and-access")]
    assert routed(report) == ["triage", "max-retries", "ssh-refused"]


@pytest.mark.parametrize("scenario,outcome,trees", [
    ("healthy", "access-only", ["triage", "ssh-refused"]),
    ("router-no-gateway", "network-gaps", ["triage", "fip-404", "ssh-refused"]),
    ("compute-disabled", "no-host", ["triage", "no-valid-host"]),
    ("placement-no-room", "no-host-and-access", ["triage", "no-valid-host", "ssh-refused"]),
    ("scheduler-not-consuming", "no-host", ["triage", "no-valid-host"]),
    ("compute-not-consuming", "no-host", ["triage", "no-valid-host"]),
])
def test_scenarios_route(scenario, outcome, trees):
    with Lab(scenario) as lab:
        lab.start()
        report = diagnose(lab, ["triage"])
    assert steps(report, "triage") == [("keystone", "answers"), ("overview", outcome)]
    assert routed(report) == trees
    if scenario == "healthy":
        assert report.findings == []
    if trees[1] == "no-valid-host":     # the direct route reaches the tree's own finding
        no_host = [f.id for f in report.findings if f.tree == "no-valid-host"]
        assert no_host == {"compute-disabled": ["compute-service-disabled"],
                           "placement-no-room": ["placement-no-room"],
                           "scheduler-not-consuming": ["scheduler-not-consuming"],
                           "compute-not-consuming": ["compute-not-consuming"]}[scenario]


def test_quiet_cloud_is_ok(fresh):
    c = conn(fresh)
    for s in list(c.compute.servers()):
        c.compute.delete_server(s)
    report = diagnose(fresh, ["triage"])
    assert steps(report, "triage") == [("keystone", "answers"), ("overview", "nothing")]
    assert routed(report) == ["triage"]
    assert report.trees[0].result == "ok" and report.findings == []
