"""fip-404 tree against the lab over real HTTP: every shipped scenario's expected findings, every
path of the tree, the exact Neutron 404 text, and remedies that parse with python-openstackclient
and, executed through their CloudCall ops, make the floating IP work."""
from __future__ import annotations

import pytest

from tests.trees.network_support import (assert_commands_parse, conn, diagnose, finding_ids, remedy, run_calls,
                                         scenarios_expecting, steps)
from kolla_lab import Lab


@pytest.fixture(scope="module")
def seed():
    with Lab("seed-homelab") as lab:
        lab.start()
        yield lab


@pytest.fixture
def fresh():
    with Lab("seed-homelab") as lab:
        lab.start()
        yield lab


@pytest.mark.parametrize("scenario,expected", scenarios_expecting("fip-404"))
def test_scenario_expectations(scenario, expected):
    with Lab(scenario) as lab:
        lab.start()
        report = diagnose(lab, ["fip-404"])
    assert finding_ids(report, "fip-404") == expected


def test_seed_no_router_with_neutron_404_text_and_real_ids(seed):
    report = diagnose(seed, ["fip-404"])
    assert finding_ids(report) == ["no-router"]
    assert steps(report, "fip-404") == [("target", "tenant-port"), ("external-network", "found"),
                                        ("router-path", "no-router")]
    finding = report.findings[0]
    facts = finding.facts
    assert facts["server"]["name"] == "rocky-vm2"
    expected_404 = (f"External network {facts['floating_network']['id']} is not reachable from subnet "
                    f"{facts['subnet']['id']}.  Therefore, cannot associate Port {facts['port']['id']} with a "
                    "Floating IP.")
    assert expected_404 in finding.root_cause
    fix = remedy(report, "router-create")
    assert fix.durable
    lines = fix.command.splitlines()
    # Guarded (issue 20, defect 17): fip-not-associated prints the same path; a runbook followed top
    # to bottom makes one router, attached once.
    assert lines[0] == ("openstack router show router-demo-net >/dev/null 2>&1 || "
                        "openstack router create router-demo-net")
    assert lines[1] == f"openstack router set --external-gateway {facts['floating_network']['id']} router-demo-net"
    assert lines[2] == (f"openstack port list --router router-demo-net --fixed-ip subnet={facts['subnet']['id']} "
                        f"-f value -c ID | grep -q . || openstack router add subnet router-demo-net {facts['subnet']['id']}")
    assert lines[3] == (f"openstack floating ip list --port {facts['port']['id']} --network "
                        f"{facts['floating_network']['id']} -f value -c ID | grep -q . || "
                        f"openstack floating ip create --port {facts['port']['id']} "
                        f"{facts['floating_network']['id']}")
    assert [c.op for c in fix.actions] == ["create_router", "set_router_gateway", "add_router_interface",
                                           "create_floating_ip"]
    assert assert_commands_parse(report) >= 4


def test_the_real_api_gives_the_same_404_before_the_fix(seed):
    from openstack import exceptions as sdk
    report = diagnose(seed, ["fip-404"])
    facts = report.findings[0].facts
    with pytest.raises(sdk.NotFoundException) as exc:
        conn(seed).network.create_ip(floating_network_id=facts["floating_network"]["id"], port_id=facts["port"]["id"])
    assert "is not reachable from subnet" in str(exc.value)


def test_applying_router_create_fixes_it_and_undo_reverts(fresh):
    report = diagnose(fresh, ["fip-404"])
    results = run_calls(fresh, remedy(report, "router-create").actions)
    assert results[-1]["address"].startswith("192.168.35.")
    after = diagnose(fresh, ["fip-404"])
    assert finding_ids(after) == []
    assert steps(after, "fip-404") == [("target", "has-fip")]
    # Roll back in reverse order through the undo ops: the fault is back.
    from wizard.remedies.actions import CLOUD_OPS
    c = conn(fresh)
    for result in reversed(results):
        CLOUD_OPS[result["undo"]["op"]](c, **result["undo"]["params"])
    assert finding_ids(diagnose(fresh, ["fip-404"])) == ["no-router"]


def test_the_router_path_run_twice_makes_one_router_attached_once(fresh):
    """Issue 20, defect 17: no-router and fip-not-associated both build this path; apply, like the
    printed guards, reuses the router of that name and skips an interface already there."""
    report = diagnose(fresh, ["fip-404"])
    path = [a for a in remedy(report, "router-create").actions if a.op != "create_floating_ip"]
    first = run_calls(fresh, path)
    second = run_calls(fresh, path)
    c = conn(fresh)
    routers = [r for r in c.network.routers() if r.name == "router-demo-net"]
    assert len(routers) == 1 and second[0]["router_id"] == first[0]["router_id"]
    assert "undo" not in second[0] and "undo" not in second[2]       # nothing made, nothing to undo
    subnet_id = path[2].params["subnet_id"]
    attached = [p for p in c.network.ports(device_id=routers[0].id)
                if any(ip.get("subnet_id") == subnet_id for ip in p.fixed_ips or [])]
    assert len(attached) == 1


def test_the_whole_path_run_twice_allocates_one_floating_ip(fresh):
    """Issue 20: no-router's router-create and fip-not-associated's fip-associate both end with the
    floating IP; a runbook followed top to bottom (or apply run for both) allocates it once."""
    report = diagnose(fresh, ["fip-404"])
    calls = remedy(report, "router-create").actions
    first = run_calls(fresh, calls)
    second = run_calls(fresh, calls)
    port_id = calls[-1].params["port_id"]
    fips = list(conn(fresh).network.ips(port_id=port_id))
    assert len(fips) == 1 and first[-1]["fip_id"] == second[-1]["fip_id"] == fips[0].id
    assert "undo" not in second[-1] and "address" not in second[-1]   # nothing made: nothing to undo or announce


def test_router_without_gateway_then_subnet_not_on_router(fresh):
    c = conn(fresh)
    subnet = c.network.find_subnet("demo-subnet", ignore_missing=False)
    public = c.network.find_network("public1", ignore_missing=False)
    router = c.network.create_router(name="-rf")           # a hostile name: commands must use the ID
    c.network.add_interface_to_router(router, subnet=subnet.id)
    report = diagnose(fresh, ["fip-404"])
    assert finding_ids(report) == ["router-no-gateway"]
    fix = remedy(report, "router-set-gateway")
    assert fix.command.splitlines()[0] == f"openstack router set --external-gateway {public.id} {router.id}"
    assert assert_commands_parse(report) >= 1
    run_calls(fresh, fix.actions[:1])
    assert steps(diagnose(fresh, ["fip-404"]), "fip-404")[-1] == ("router-path", "path-ok")
    # Now detach the subnet: gateway but no interface.
    c.network.remove_interface_from_router(router, subnet=subnet.id)
    report = diagnose(fresh, ["fip-404"])
    assert finding_ids(report) == ["subnet-not-on-router"]
    fix = remedy(report, "router-add-subnet")
    assert fix.command.splitlines()[0] == f"openstack router add subnet {router.id} {subnet.id}"
    run_calls(fresh, fix.actions[:1])
    assert finding_ids(diagnose(fresh, ["fip-404"])) == []


def test_no_external_network_offers_to_mark_the_flat_network(fresh):
    c = conn(fresh)
    public = c.network.find_network("public1", ignore_missing=False)
    c.network.update_network(public, is_router_external=False)
    report = diagnose(fresh, ["fip-404"])
    assert finding_ids(report) == ["network-not-external"]
    fix = remedy(report, "network-set-external")
    assert fix.command == f"openstack network set --external {public.id}"
    assert assert_commands_parse(report) == 1
    run_calls(fresh, fix.actions)
    assert finding_ids(diagnose(fresh, ["fip-404"])) == ["no-router"]


def test_instance_directly_on_the_external_network(fresh):
    c = conn(fresh)
    demo = c.network.find_network("demo-net", ignore_missing=False)
    c.network.update_network(demo, is_router_external=True)   # rocky-vm2's network becomes the outside one
    report = diagnose(fresh, ["fip-404"])
    assert finding_ids(report) == ["instance-on-external-network"]
    finding = report.findings[0]
    assert "two designs" in finding.root_cause
    fix = remedy(report, "tenant-network-design")
    assert "openstack router add subnet" in fix.command
    assert assert_commands_parse(report) >= 8


def test_no_active_server_is_ok_and_unknown_server_is_not_guessed(fresh):
    report = diagnose(fresh, ["fip-404"], "--server", "no-such-vm")
    assert finding_ids(report) == []
    assert steps(report, "fip-404") == [("target", "unknown")]
    assert any("--server no-such-vm" in p for p in report.problems)
    c = conn(fresh)
    for s in list(c.compute.servers()):
        c.compute.delete_server(s)
    report = diagnose(fresh, ["fip-404"])
    assert steps(report, "fip-404") == [("target", "no-server")]
    assert report.trees[0].result == "ok"


def test_cli_json_for_seed(capsys):
    import json

    from kolla_wizard.main import main
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "fip-404", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [f["id"] for f in data["findings"]] == ["no-router"]
    assert data["findings"][0]["remedies"][0]["id"] == "router-create"


def test_learn_pages_show_this_cloud_s_namespace_nat_rules_and_cloud_init(fresh):
    from tests.trees.network_support import context
    from wizard import learn_network
    from wizard.diagnose import run_diagnosis
    ctx = context(fresh)
    report, _ = run_diagnosis(ctx, ["fip-404"])
    before = learn_network.page(ctx, "fip-nat", ctx.facts)
    assert "no router yet" in before
    results = run_calls(fresh, remedy(report, "router-create").actions)
    address, router_id = results[-1]["address"], results[0]["router_id"]
    ctx.refresh()
    run_diagnosis(ctx, ["fip-404"])
    page = learn_network.page(ctx, "fip-nat", ctx.facts)
    assert f"qrouter-{router_id}" in page
    assert f"-A neutron-l3-agent-PREROUTING -d {address}/32 -j DNAT --to-destination 10.0.0.3" in page
    assert "qg-" in page and "qr-" in page
    meta = learn_network.page(ctx, "metadata", ctx.facts)
    assert "Datasource DataSourceOpenStackLocal [net,ver=2]." in meta
    assert "[DEBUG]" not in meta  # the console shows cloud-init's WARNING and worse only
    assert "installed the key for user **rocky**" in meta
    ctx.close()
