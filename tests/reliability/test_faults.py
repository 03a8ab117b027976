"""Faults in the cloud's API and on the nodes, through the real CLI (in-process, against the lab's
fault switches). For each: one clear line naming the endpoint or host and what to do, the
affected step ends unknown (headless: nobody to ask) with the exact command to run, the other
trees still report their findings, no traceback, and exit 3 only when nothing useful came out."""
from __future__ import annotations

import time

import pytest

from tests.reliability.support import assert_no_traceback, run_cli
from kolla_lab import Lab

SEED_FINDINGS = ["bridge-mapping-missing", "no-router", "fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"]
FAST = ("--api-timeout", "1", "--ssh-timeout", "1")


def diagnose(monkeypatch, lab, *extra: str):
    run = run_cli(monkeypatch, lab, "diagnose", "--format", "json", *FAST, *extra)
    assert_no_traceback(run)
    return run


def ids(run) -> list[str]:
    return [f["id"] for f in run.json["findings"]]


def unknown_steps(run) -> list[str]:
    return [f"{s['tree']}/{s['step']}" for s in run.json["steps"] if s["status"] == "unknown"]


# -- the cloud API ------------------------------------------------------------------------------
def test_baseline_seed_all_findings(monkeypatch, lab, case):
    run = diagnose(monkeypatch, lab)
    case.record("api", "no fault (reference run, seed-homelab, all symptoms)", f"findings: {', '.join(ids(run))}", run.code)
    assert run.code == 1 and ids(run) == SEED_FINDINGS and run.err == ""


@pytest.mark.parametrize("status", [500, 503])
def test_agents_endpoint_error_makes_one_step_unknown(monkeypatch, lab, case, status):
    lab.faults.set("network", "/v2.0/agents", status=status)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("/v2.0/agents")
    case.record("api", f"network GET /v2.0/agents answers HTTP {status}", line, run.code)
    assert f"HTTP {status}" in line and "check its logs" in line
    assert "openstack network agent list" in line            # the exact command to run instead
    assert unknown_steps(run) == ["max-retries/agent-state"]
    assert run.step("max-retries", "agent-state")["asked"]["command"].startswith("openstack network agent list")
    assert ids(run) == SEED_FINDINGS[1:] and run.code == 1


def test_servers_500_nothing_useful_exits_3(monkeypatch, lab, case):
    lab.faults.set("compute", "/v2.1/servers/detail", status=500)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("/servers/detail")
    case.record("api", "compute GET /servers/detail answers HTTP 500 (every tree starts there)", line, run.code)
    assert run.code == 3 and ids(run) == []
    assert "HTTP 500" in line and "openstack server list" in line
    assert all(t["result"] == "unknown" for t in run.json["trees"])


def test_whole_compute_service_503(monkeypatch, lab, case):
    lab.faults.set("compute", "*", status=503)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("HTTP 503")
    case.record("api", "every compute request answers HTTP 503 (haproxy: no backend)", line, run.code)
    assert run.code == 3 and "GET /servers/detail" in line


def test_slow_agents_past_the_timeout(monkeypatch, lab, case):
    lab.faults.set("network", "/v2.0/agents", delay=2.5)
    started = time.monotonic()
    run = diagnose(monkeypatch, lab)
    elapsed = time.monotonic() - started
    line = run.first_line("did not answer in time")
    case.record("api", "network GET /v2.0/agents answers after 2.5 s, --api-timeout 1", line, run.code)
    assert "/network/v2.0/agents" in line and "--api-timeout" in line
    assert unknown_steps(run) == ["max-retries/agent-state"] and run.code == 1
    assert elapsed < 10, f"one slow endpoint cost {elapsed:.1f}s"


def test_slow_keystone_nothing_useful(monkeypatch, lab, case):
    lab.faults.set("identity", "/v3/auth/tokens", delay=2.5)
    run = diagnose(monkeypatch, lab, "--symptom", "fip-404")
    line = run.first_line("did not answer in time")
    case.record("api", "Keystone POST /v3/auth/tokens answers after 2.5 s, --api-timeout 1", line, run.code)
    assert "/v3/auth/tokens" in line and run.code == 3


def test_network_endpoint_refused(monkeypatch, lab, case):
    lab.faults.set("network", refuse=True)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("cannot reach the API")
    case.record("api", "network endpoint down (catalog URL: connection refused), all symptoms", line, run.code)
    assert "/network/v2.0/" in line and "is the endpoint up" in line
    # The compute side still answered: the server is ERROR, so max-retries' symptom is confirmed
    # and nothing could explain it: "unexplained" (1), never "no fault found" (0); the other
    # trees could not conclude.
    assert run.code == 1 and ids(run) == []
    assert run.step("max-retries", "server-fault")["status"] == "ok"
    assert {t["id"]: t["result"] for t in run.json["trees"]} == {
        "max-retries": "unexplained", "fip-404": "unknown", "ssh-refused": "unknown"}


def test_network_endpoint_refused_fip_only_exits_3(monkeypatch, lab, case):
    lab.faults.set("network", refuse=True)
    run = diagnose(monkeypatch, lab, "--symptom", "fip-404")
    line = run.first_line("cannot reach the API")
    case.record("api", "network endpoint down, --symptom fip-404 (its first step needs Neutron)", line, run.code)
    assert run.code == 3 and "ConnectFailure" in line


def test_keystone_refused_names_the_auth_url(monkeypatch, lab, case):
    lab.faults.set("identity", refuse=True)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("cannot reach the API")
    case.record("api", "Keystone down (connection dropped without an answer)", line, run.code)
    assert "/v3/auth/tokens" in line and run.code == 3


def test_token_expires_mid_diagnosis_and_reauth_works(monkeypatch, lab, case):
    lab.faults.set("network", "/v2.0/ports", expire_token=True, times=1)
    before = lab.request_counts()["identity"]
    run = diagnose(monkeypatch, lab)
    fired = [f for f in lab.faults.fired if "token expired" in f]
    auths = lab.request_counts()["identity"] - before
    case.record("api", "token revoked at GET /v2.0/ports (401), then re-authentication",
                f"{len(fired)} 401 served, {auths} identity requests, findings: {', '.join(ids(run))}", run.code)
    assert fired and auths >= 2
    assert ids(run) == SEED_FINDINGS and run.json["problems"] == [] and run.code == 1


def test_403_on_admin_only_agents(monkeypatch, lab, case):
    lab.faults.set("network", "/v2.0/agents", status=403)
    run = diagnose(monkeypatch, lab)
    line = run.first_line("403")
    case.record("api", "network GET /v2.0/agents answers 403 (not admin)", line, run.code)
    assert "admin" in line and "answer" in line and run.code == 1
    assert unknown_steps(run) == ["max-retries/agent-state"]


def test_403_on_os_services(monkeypatch, lab, case):
    lab.faults.set("compute", "/v2.1/os-services", status=403)
    run = diagnose(monkeypatch, lab, "--symptom", "max-retries")
    case.record("api", "compute GET /os-services answers 403 (admin-only)",
                run.first_line("403") if "403" in run.err else f"not needed on this path; findings: {', '.join(ids(run))}",
                run.code)
    assert run.code == 1 and ids(run) == ["bridge-mapping-missing"]


def test_malformed_json_from_a_proxy(monkeypatch, lab, case):
    lab.faults.set("network", "/v2.0/agents", body='{"agents": [{"id": ')
    run = diagnose(monkeypatch, lab)
    line = run.first_line("/v2.0/agents")
    case.record("api", "network GET /v2.0/agents answers HTTP 200 with truncated JSON", line, run.code)
    assert "not valid JSON" in line and run.code == 1
    assert unknown_steps(run) == ["max-retries/agent-state"]


def test_html_error_page_instead_of_json(monkeypatch, lab, case):
    lab.faults.set("network", "/v2.0/security-groups", body="<html><body>502 Bad Gateway</body></html>")
    run = diagnose(monkeypatch, lab, "--symptom", "ssh-refused")
    line = run.first_line("security-groups")
    case.record("api", "network GET /v2.0/security-groups answers an HTML page with HTTP 200", line, run.code)
    assert "not valid JSON" in line
    assert run.code in (1, 3) and "ssh-refused/" in line


def test_wrong_shape_json_is_one_line(monkeypatch, lab, case):
    # Valid JSON of the wrong shape: the SDK trips over it; one line, the step unknown.
    lab.faults.set("network", "/v2.0/agents", body='{"agents": "maintenance"}')
    run = diagnose(monkeypatch, lab, "--symptom", "max-retries")
    line = run.first_line("/v2.0/agents")
    case.record("api", "network GET /v2.0/agents answers {\"agents\": \"maintenance\"}", line, run.code)
    assert unknown_steps(run) == ["max-retries/agent-state"] and "openstack network agent list" in line
    assert "unexpected shape" in line and "--debug" in line


def test_debug_shows_the_traceback_from_a_scenario_fault(tmp_path, case):
    """--debug through a real process, with the fault from a scenario file's faults: key."""
    import subprocess
    import sys
    scenario = tmp_path / "agents-garbage.yaml"
    scenario.write_text("name: agents-garbage\nbase: seed-homelab\nexpect: {}\nfaults:\n  api:\n"
                        "    - {service: network, path: /v2.0/agents, body: '{\"agents\": \"maintenance\"}'}\n")
    argv = [sys.executable, "-m", "wizard", "diagnose", "--lab-scenario", str(scenario), "--symptom", "max-retries",
            "--format", "json", "--api-timeout", "5"]
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    debug = subprocess.run(argv + ["--debug"], capture_output=True, text=True, timeout=120)
    line = next(l for l in quiet.stderr.splitlines() if "/v2.0/agents" in l)
    case.record("api", "scenario faults: agents answers wrong-shape JSON; with and without --debug",
                f"{line} / --debug: {'Traceback' in debug.stderr and 'traceback on stderr'}", quiet.returncode)
    assert "Traceback" not in quiet.stderr and "Traceback" in debug.stderr
    assert "AttributeError" in debug.stderr and quiet.returncode == debug.returncode


# -- the nodes over SSH -------------------------------------------------------------------------
def ssh_case(monkeypatch, lab, case, node: str, switches: dict, needle: str, what: str, *extra: str):
    lab.faults.set_node(node, **switches)
    run = diagnose(monkeypatch, lab, *extra)
    line = run.first_line(needle)
    case.record("ssh", what, line, run.code)
    return run, line


def test_ssh_auth_failure(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "compute01", {"auth": "fail"}, "refused every key",
                         "compute01 rejects the deploy host's key")
    assert line.split(": ", 2)[1] == "compute01" or "compute01:" in line
    assert "authorized_keys" in line
    assert unknown_steps(run) == ["max-retries/three-views"]
    assert ids(run) == SEED_FINDINGS[1:] and run.code == 1


def test_unknown_host_key(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "compute01", {"host_key": "unknown"}, "not in known_hosts",
                         "compute01's host key is not in known_hosts")
    assert "ssh-keyscan" in line and "SHA256:" in line and "compute01" in line
    assert ids(run) == SEED_FINDINGS[1:] and run.code == 1


def test_changed_host_key(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "compute01", {"host_key": "changed"}, "HOST KEY CHANGED",
                         "compute01 presents a different host key (rebuilt node or attack)")
    assert "ssh-keygen -R compute01" in line and "refusing to connect" in line
    assert ids(run) == SEED_FINDINGS[1:] and run.code == 1


def test_node_accepts_tcp_and_never_speaks(monkeypatch, lab, case):
    started = time.monotonic()
    run, line = ssh_case(monkeypatch, lab, case, "compute01", {"silent": True}, "no SSH greeting",
                         "compute01 accepts TCP and never speaks SSH, --ssh-timeout 1")
    assert "compute01" in line and run.code == 1
    assert time.monotonic() - started < 15


def test_node_down_connection_refused(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "compute01", {"down": True}, "connection refused",
                         "compute01's sshd port is closed")
    assert "compute01" in line and "sshd running" in line and run.code == 1


def test_controller_down_names_the_controller(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "controller", {"down": True}, "could not be searched",
                         "controller down while its neutron-server.log is needed", "--symptom", "max-retries")
    assert "controller: connection refused" in line
    # The server is ERROR and the controller could not be read: never "no fault" (0).
    assert run.code in (1, 3) and "Failed to bind port' line was found" not in run.err
    assert run.code == 3 or run.json["trees"][0]["result"] in ("unexplained", "fault")


def test_deploy_host_hung(monkeypatch, lab, case):
    started = time.monotonic()
    run, line = ssh_case(monkeypatch, lab, case, "deploy", {"silent": True}, "Kolla configuration not read",
                         "deploy host accepts TCP and never speaks (no /etc/kolla, no inventory)")
    elapsed = time.monotonic() - started
    assert "deploy:" in line and "no SSH greeting" in line
    # The cloud-only trees still conclude.
    assert "no-router" in ids(run) and run.code == 1
    assert elapsed < 12, f"a hung deploy host cost {elapsed:.1f}s (one timeout per file?)"


def test_connection_dropped_mid_command_quick_fix_stays_safe(monkeypatch, lab, case):
    lab.faults.set_node("compute01", drop="*ovs-vsctl show*")
    run = diagnose(monkeypatch, lab, "--symptom", "max-retries")
    quick = next(r for f in run.json["findings"] for r in f["remedies"] if r.get("id") == "hand-edit-bridge-mapping")
    case.record("ssh", "compute01 drops the connection in the middle of `ovs-vsctl show`",
                "quick fix: " + quick["command"].replace("\n", "; "), run.code)
    assert any("drop on docker exec openvswitch_vswitchd ovs-vsctl show" in f for f in lab.faults.fired)
    # It could not see the bridges, so it must neither assume br-ex exists (that would kill the agent)
    # nor create one with no known uplink (ports would bind with no L2 path): the quick fix is held
    # back, applies nothing, and names the commands that find the uplink.
    assert "held back" in quick["title"] and quick["warning"].startswith("Not applied")
    assert "ovs-vsctl list-ports br-ex" in quick["command"] and "add-br" not in quick["command"]
    assert run.code == 1


@pytest.fixture(scope="module")
def agent_down_lab():
    with Lab("ovs-agent-down") as lab:
        yield lab


def test_connection_dropped_during_a_probe_command(monkeypatch, agent_down_lab, case):
    lab = agent_down_lab
    lab.faults.clear()
    lab.faults.set_node("compute01", drop="docker inspect*")
    try:
        run = diagnose(monkeypatch, lab, "--symptom", "max-retries")
    finally:
        lab.faults.clear()
    line = run.first_line("connection dropped")
    case.record("ssh", "ovs-agent-down: compute01 drops the connection during `docker inspect`", line, run.code)
    assert "compute01" in line and "docker inspect neutron_openvswitch_agent" in line and "retry" in line
    assert run.code in (0, 1, 3) and unknown_steps(run)


def test_command_that_never_finishes(monkeypatch, lab, case):
    lab.faults.set_node("controller", hang="grep *", hang_seconds=5)
    run, line = ssh_case(monkeypatch, lab, case, "controller", {}, "did not finish",
                         "controller's grep of neutron-server.log hangs, --ssh-timeout 1", "--symptom", "max-retries")
    assert "controller" in line and "within 1s" in line


def test_command_prints_megabytes(monkeypatch, lab, case):
    run, line = ssh_case(monkeypatch, lab, case, "controller", {"flood": "grep *"}, "bytes",
                         "controller's grep prints 8 MB", "--symptom", "max-retries")
    assert "printed more than 4194304 bytes" in line and "controller" in line


def test_megabytes_from_hostname_on_the_deploy_host(monkeypatch, lab, case):
    lab.faults.set_node("deploy", flood="hostname*")
    run = diagnose(monkeypatch, lab, "--symptom", "ssh-refused")
    obs = [o for s in run.json["steps"] for o in s["observations"] if "Your address is unknown" in o]
    case.record("ssh", "`hostname -I` on the deploy host prints 8 MB", obs[0] if obs else "(no observation)", run.code)
    assert obs and "printed more than" in obs[0] and "--operator-ip" in obs[0]
    assert "sg-blocks-ssh" in ids(run) and run.code == 1


@pytest.fixture
def become_lab(lab):
    """The seed with ansible_become=true for every host, as many real inventories have."""
    path = "/etc/kolla/multinode"
    original = lab.state.deploy.files[path]
    lab.state.deploy.files[path] = original + "\n[all:vars]\nansible_become=true\n"
    yield lab
    lab.state.deploy.files[path] = original


def test_sudo_asks_for_a_password(monkeypatch, become_lab, case):
    run, line = ssh_case(monkeypatch, become_lab, case, "controller", {"sudo_password": True}, "sudo needs a password",
                         "ansible_become=true, controller's sudo wants a password", "--symptom", "max-retries")
    assert "controller" in line and "NOPASSWD" in line


def test_unreachable_node_in_the_runbook_too(monkeypatch, lab, case, tmp_path):
    lab.faults.set_node("compute01", down=True)
    out = tmp_path / "runbook.md"
    run = run_cli(monkeypatch, lab, "diagnose", "--format", "markdown", "--output", str(out), *FAST)
    assert_no_traceback(run)
    text = out.read_text()
    line = next(l for l in text.splitlines() if "connection refused" in l)
    case.record("ssh", "compute01 down, --format markdown --output FILE", line, run.code)
    assert "not checked" in text and "## Problems met" in text and run.code == 1
