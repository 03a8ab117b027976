"""ssh-refused tree against the lab (openstacksdk over HTTP, the deploy node over SSH): every
shipped scenario's findings, each path of the tree, remedies judged by python-openstackclient,
and the seed homelab fixed through apply.py until nc from the deploy node reaches port 22."""
from __future__ import annotations

import base64

import pytest

from tests.trees.network_support import (assert_commands_parse, conn, context, diagnose, finding_ids, remedy,
                                         scenarios_expecting, steps)
from wizard.context import Context
from wizard.diagnose import run_diagnosis
from kolla_lab import Lab

OPERATOR = ("--operator-ip", "192.168.35.5")


@pytest.fixture(scope="module")
def seed():
    with Lab("seed-homelab") as lab:
        lab.start()
        yield lab


@pytest.fixture(scope="module")
def healthy():
    with Lab("healthy") as lab:
        lab.start()
        yield lab


@pytest.fixture
def fresh_healthy():
    with Lab("healthy") as lab:
        lab.start()
        yield lab


@pytest.mark.parametrize("scenario,expected", scenarios_expecting("ssh-refused"))
def test_scenario_expectations(scenario, expected):
    with Lab(scenario) as lab:
        lab.start()
        report = diagnose(lab, ["ssh-refused"])
    assert finding_ids(report, "ssh-refused") == expected
    assert_commands_parse(report)


def test_seed_reports_all_three_independent_problems(seed):
    report = diagnose(seed, ["ssh-refused"], *OPERATOR)
    assert finding_ids(report) == ["fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"]
    assert steps(report, "ssh-refused") == [
        ("server", "active"), ("address", "no-floating-ip"), ("sg-ssh", "blocked"), ("sg-icmp", "blocked"),
        ("keypair", "present"), ("metadata", "fetched"), ("password", "not-password"), ("login-user", "not-told")]
    sg_obs = next(s for s in report.steps if s.step == "sg-ssh").observations
    assert any("only members of security group" in o for o in sg_obs)     # remote-group semantics explained
    ssh = remedy(report, "sg-allow-ssh")
    quick = remedy(report, "sg-allow-ssh-quick")
    assert ssh.durable and not quick.durable
    # An API-created rule is not undone by kolla-ansible (issue 20, defect 13): say what is true.
    for q in (quick, remedy(report, "sg-allow-icmp-quick")):
        assert "Neutron's database until someone deletes it" in q.lasts and "reconfigure" not in q.lasts
    group_id = report.findings[1].facts["security_group"]["id"]
    assert quick.command == ("openstack security group rule create --ingress --ethertype IPv4 --protocol tcp "
                             f"--dst-port 22 --remote-ip 192.168.35.5/32 {group_id}")
    assert "--remote-ip 192.168.35.0/24 operator-access" in ssh.command
    # Followable top to bottom (issue 20, defect 17): both group fixes create the group only if missing.
    for durable in (ssh, remedy(report, "sg-allow-icmp")):
        first = durable.command.splitlines()[0]
        assert first.startswith("openstack security group show operator-access >/dev/null 2>&1 || "
                                "openstack security group create "), first
        assert durable.actions[0].op == "ensure_security_group"
    icmp = remedy(report, "sg-allow-icmp-quick")
    assert "--protocol icmp --remote-ip 192.168.35.5/32" in icmp.command and "--dst-port" not in icmp.command
    fip = remedy(report, "fip-associate")
    assert ("openstack router show router-demo-net >/dev/null 2>&1 || openstack router create router-demo-net"
            in fip.command)                                               # no router yet: it builds the path, once
    assert assert_commands_parse(report) >= 12
    assert "192.168.35.5" in report.findings[1].title


def test_sg_blocks_icmp_evidence_says_each_line_once_in_every_format(seed):
    """Issue 20: the engine raises a finding's evidence once per line (sg-ssh and sg-icmp both read
    the server's groups), so text, Markdown, JSON and the TUI all show each line once."""
    import json
    from wizard import runbook
    report = diagnose(seed, ["ssh-refused"], *OPERATOR)
    icmp = next(f for f in report.findings if f.id == "sg-blocks-icmp")
    assert len(icmp.evidence) == len(set(icmp.evidence)) and len(icmp.evidence) > 1, icmp.evidence
    shared = [line for line in icmp.evidence
              if line in next(s for s in report.steps if s.step == "sg-ssh").observations
              and line in next(s for s in report.steps if s.step == "sg-icmp").observations]
    assert shared, "the two steps share a reading (else this test proves nothing)"
    as_json = next(f for f in json.loads(runbook.to_json(report))["findings"] if f["id"] == "sg-blocks-icmp")
    assert as_json["evidence"] == icmp.evidence
    section = runbook.to_markdown(report).split("## Finding `sg-blocks-icmp`")[1].split("### Remedies")[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(set(bullets)), section


def test_seed_durable_fixes_applied_in_order_then_port_22_answers(seed):
    from wizard.remedies.apply import apply_by_id
    ctx = context(seed, *OPERATOR)
    report, engine = run_diagnosis(ctx, ["fip-404", "ssh-refused"])
    assert finding_ids(report) == ["no-router", "fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"]
    for remedy_id in ("router-create", "sg-allow-ssh", "sg-allow-icmp"):
        result = apply_by_id(ctx, engine, report, remedy_id, emit=lambda _l: None)
        assert result.status == "verified", (remedy_id, result.message)
    ctx.close()
    after = diagnose(seed, ["fip-404", "ssh-refused"], *OPERATOR)
    assert finding_ids(after) == []
    assert ("reach", "open") in steps(after, "ssh-refused")
    address = next(s for s in after.steps if s.step == "address").observations[0].split()[2]
    ctx = context(seed)
    try:
        nc = ctx.deploy.run(["nc", "-z", "-w", "3", address, "22"], timeout=15)
        ping = ctx.deploy.run(["ping", "-c", "1", "-W", "2", address], timeout=15)
    finally:
        ctx.close()
    assert nc.rc == 0 and ping.rc == 0


def test_instance_not_active(seed):
    report = diagnose(seed, ["ssh-refused"], "--server", "rocky-vm1")
    assert finding_ids(report) == ["instance-not-active"]
    assert "Exceeded maximum number of retries" in report.findings[0].root_cause
    assert "openstack server show" in remedy(report, "instance-not-active").command
    assert_commands_parse(report)


def test_wrong_login_user_only_when_told(healthy):
    report = diagnose(healthy, ["ssh-refused"], "--answer", "ssh-user=root")
    assert finding_ids(report) == ["wrong-login-user"]
    assert report.findings[0].title == "Logging in as root, but the image's user is rocky"
    assert remedy(report, "login-user").command.startswith("ssh rocky@192.168.35.")
    report = diagnose(healthy, ["ssh-refused"], "--answer", "ssh-user=rocky")
    assert finding_ids(report) == []
    assert steps(report, "ssh-refused")[-1] == ("login-user", "matches")


def test_healthy_path_through_reachability(healthy):
    report = diagnose(healthy, ["ssh-refused"])
    assert steps(report, "ssh-refused") == [
        ("server", "active"), ("address", "floating-ip"), ("reach", "open"), ("keypair", "present"),
        ("metadata", "fetched"), ("password", "not-password"), ("login-user", "not-told")]
    assert report.trees[0].result == "ok"


def test_password_login_checked_against_user_data(fresh_healthy):
    report = diagnose(fresh_healthy, ["ssh-refused"], "--answer", "ssh-auth=password")
    assert finding_ids(report) == ["password-auth-disabled"]
    fix = remedy(report, "password-user-data")
    assert "ssh_pwauth: true" in fix.diff and "--user-data ./user-data.yaml" in fix.command
    assert_commands_parse(report)
    # An instance whose user-data turns password SSH on passes.
    c = conn(fresh_healthy)
    user_data = base64.b64encode(b"#cloud-config\npassword: x\nchpasswd:\n  expire: false\nssh_pwauth: true\n").decode()
    net = c.network.find_network("demo-net", ignore_missing=False)
    image = c.image.find_image("rocky-9", ignore_missing=False)
    flavor = c.compute.find_flavor("m1.small", ignore_missing=False)
    c.compute.create_server(name="pw-vm", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}],
                            user_data=user_data, key_name="homelab-key")
    report = diagnose(fresh_healthy, ["ssh-refused"], "--server", "pw-vm", "--answer", "ssh-auth=password")
    assert ("password", "enabled") in steps(report, "ssh-refused")
    assert "password-auth-disabled" not in finding_ids(report)


def test_instance_directly_on_the_external_network_is_reached_on_its_own_address(fresh_healthy):
    c = conn(fresh_healthy)
    for fip in list(c.network.ips()):
        c.network.delete_ip(fip)
    c.network.update_network(c.network.find_network("demo-net", ignore_missing=False), is_router_external=True)
    report = diagnose(fresh_healthy, ["ssh-refused"])
    assert steps(report, "ssh-refused")[1] == ("address", "external-address")
    assert steps(report, "ssh-refused")[2][0] == "reach"


def test_reachability_falls_back_to_asking_when_the_deploy_host_is_unreachable(healthy):
    settings = context(healthy, "--answer", "reach=closed").settings
    settings.deploy_host = "no-such-host-alias"
    ctx2 = Context(settings)
    try:
        report, _ = run_diagnosis(ctx2, ["ssh-refused"])
    finally:
        ctx2.close()
    reach = next(s for s in report.steps if s.step == "reach")
    assert reach.via == "answer" and reach.asked["command"].startswith("nc -z -w 3 192.168.35.")
    assert any("taken from the operator's answer" in a for a in report.assumptions)
    assert ("sg-ssh", "allowed") in steps(report, "ssh-refused")  # 0.0.0.0/0 rules admit any address


def test_no_server_is_ok(fresh_healthy):
    c = conn(fresh_healthy)
    for s in list(c.compute.servers()):
        c.compute.delete_server(s)
    report = diagnose(fresh_healthy, ["ssh-refused"])
    assert steps(report, "ssh-refused") == [("server", "no-server")]
    assert report.trees[0].result == "ok"
