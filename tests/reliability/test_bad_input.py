"""Broken, empty, binary, enormous and wrongly typed inputs: clouds.yaml, globals.yml, passwords.yml,
the inventory (INI and YAML), override INIs, playbooks and lab scenarios. Each gives one line
naming the file (and line where there is one), the rest of the diagnosis goes on, no traceback."""
from __future__ import annotations

import re

import pytest

from tests.reliability.support import assert_no_traceback, run_cli

GLOBALS = "/etc/kolla/globals.yml"
PASSWORDS = "/etc/kolla/passwords.yml"
INVENTORY = "/etc/kolla/multinode"
OVERRIDE = "/etc/kolla/config/neutron/openvswitch_agent.ini"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))

DEPLOY_FILES = [
    # (id, path, content, expected in the problem line, what the matrix says)
    ("globals-syntax", GLOBALS, "kolla_base_distro: [rocky\nenable_neutron_dvr: no\n", f"{GLOBALS}:2: YAML syntax error",
     "globals.yml with an unclosed [ (YAML syntax error)"),
    ("globals-binary", GLOBALS, "\x00\x01\x02\xff garbage", f"{GLOBALS}: is not a text file",
     "globals.yml is binary garbage"),
    ("globals-list", GLOBALS, "- enable_neutron_provider_networks\n- yes\n", f"{GLOBALS}:1: must be a mapping",
     "globals.yml is a YAML list, not a mapping"),
    ("globals-enormous", GLOBALS, "kolla_base_distro: rocky\n# " + "x" * 5_000_000 + "\n", "larger than 4194304 bytes",
     "globals.yml of 5 MB"),
    ("globals-alias-bomb", GLOBALS, BOMB, f"{GLOBALS}:1: YAML aliases expand to more than",
     "globals.yml with an alias bomb (9^9 values)"),
    ("passwords-syntax", PASSWORDS, "keystone_admin_password: [oops\n", f"{PASSWORDS}:2: YAML syntax error",
     "passwords.yml with a YAML syntax error"),
    ("inventory-bad-range", INVENTORY, "[control]\ncontroller[01:xx]\n[compute]\ncompute01\n",
     f"{INVENTORY}:2: bad host range", "INI inventory with a bad host range"),
    ("inventory-binary", INVENTORY, "\x00\xff\xfe", f"{INVENTORY}: is not a text file", "inventory is binary garbage"),
    ("inventory-yaml-types", INVENTORY, "all:\n  children: [control, compute]\n",
     f"{INVENTORY}:2: children of all must be a mapping", "YAML inventory: children is a list, not a mapping"),
    ("inventory-empty", INVENTORY, "", "lists no host in [neutron-server] or [control]", "empty inventory"),
    ("override-bad-section", OVERRIDE, "[ovs\nbridge_mappings = physnet1:br-ex\n", f"{OVERRIDE}:1: bad section header",
     "override INI with a broken [section"),
    ("override-bad-mapping", OVERRIDE, "[ovs]\nbridge_mappings = :::,,,\n", f"{OVERRIDE}:2: bad bridge mapping",
     "override INI: bridge_mappings = :::,,,"),
    ("override-binary", OVERRIDE, "\x00garbage\x00", f"{OVERRIDE}: is not a text file", "override INI is binary"),
]


@pytest.fixture
def deploy_file(lab):
    node = lab.state.deploy
    saved: dict[str, str | None] = {}

    def put(path: str, text: str) -> None:
        saved.setdefault(path, node.files.get(path))
        node.files[path] = text

    yield put
    for path, text in saved.items():
        if text is None:
            node.files.pop(path, None)
        else:
            node.files[path] = text


@pytest.mark.parametrize("path,content,needle,what", [c[1:] for c in DEPLOY_FILES], ids=[c[0] for c in DEPLOY_FILES])
def test_broken_deploy_file(monkeypatch, lab, deploy_file, case, path, content, needle, what):
    deploy_file(path, content)
    run = run_cli(monkeypatch, lab, "diagnose", "--format", "json", "--ssh-timeout", "2", "--symptom", "max-retries")
    assert_no_traceback(run)
    line = run.first_line(needle)
    case.record("input", what, line, run.code)
    assert run.code in (0, 1, 3)
    for problem in run.json["problems"]:
        assert "\n" not in problem and "Traceback" not in problem
        assert "ParserError" not in problem and "<unicode string>" not in problem


def test_broken_globals_keeps_the_quick_fix(monkeypatch, lab, deploy_file, case):
    deploy_file(GLOBALS, "kolla_base_distro: [rocky\n")
    run = run_cli(monkeypatch, lab, "diagnose", "--format", "json", "--symptom", "max-retries")
    remedies = [r["id"] for f in run.json["findings"] for r in f["remedies"]]
    line = run.first_line("could not be built")
    case.record("input", "globals.yml broken: which remedies survive", f"{line} / offered: {', '.join(remedies)}", run.code)
    assert "hand-edit-bridge-mapping" in remedies and "enable-provider-networks" not in remedies
    assert f"{GLOBALS}:2" in line


# -- clouds.yaml ------------------------------------------------------------------------------
CLOUDS = [
    ("empty", b"", "Cloud mycloud was not found"),
    ("other-cloud", b"clouds:\n  othercloud: {auth: {auth_url: 'http://127.0.0.1:1/v3'}}\n", "Cloud mycloud was not found"),
    ("auth-list", b"clouds:\n  mycloud:\n    auth: [http://127.0.0.1:1/v3]\n", ":3: cloud 'mycloud': auth must be a mapping"),
    ("password-list", b"clouds:\n  mycloud:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      password: [a, b]\n", ":5: cloud 'mycloud': auth.password must be a single value"),
    ("syntax", b"clouds:\n  mycloud:\n    auth: {auth_url: http://127.0.0.1:1/v3\n", ":4: YAML syntax error"),
    ("binary", b"\xff\xfe\x00\x01clouds", "not UTF-8 text"),
    ("list-root", b"- clouds\n- mycloud\n", ":1: 'clouds' must be a mapping"),
    ("clouds-list", b"clouds: [mycloud]\n", ":1: 'clouds' must be a mapping"),
    ("cloud-string", b"clouds:\n  mycloud: http://127.0.0.1:1/v3\n", ":2: cloud 'mycloud' must be a mapping"),
    ("enormous", b"clouds: {}\n#" + b"x" * 5_100_000, "larger than 5 MB"),
    ("alias-bomb", BOMB.encode(), ":1: YAML aliases expand"),
    ("python-tag", b"clouds: !!python/object/apply:os.system ['true']\n", "not allowed"),
]


@pytest.mark.parametrize("content,needle", [c[1:] for c in CLOUDS], ids=[c[0] for c in CLOUDS])
def test_broken_clouds_yaml(monkeypatch, tmp_path, case, content, needle):
    path = tmp_path / "clouds.yaml"
    path.write_bytes(content)
    for key in [k for k in __import__("os").environ if k.startswith("OS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    run = run_cli(monkeypatch, None, "diagnose", "--os-cloud", "mycloud", "--kolla-config-dir", str(tmp_path),
                  "--api-timeout", "1")
    assert_no_traceback(run)
    line = run.err.strip().splitlines()[0]
    case.record("input", f"clouds.yaml: {case.name.split('[')[1].rstrip(']')}", line, run.code)
    assert run.code == 2, run.err
    assert str(path) in line or "clouds.yaml" in line
    assert needle in line, line
    assert len(run.err.strip().splitlines()) == 1


# -- playbooks and scenarios ----------------------------------------------------------------------
PLAYBOOKS = [
    ("empty", "", "empty"),
    ("binary", "\x00\x01\x02", "not a text file"),
    ("list-root", "- id: x\n", ":1:"),
    ("missing-keys", "id: t\ntitle: [a, list]\nstart: s\nsteps: {}\nfindings: {}\n", ":1: missing required key"),
    ("alias-bomb", BOMB, "YAML aliases expand"),
    ("deep-nesting", "[" * 3000 + "]" * 3000, "nesting too deep"),
]


@pytest.mark.parametrize("content,needle", [c[1:] for c in PLAYBOOKS], ids=[c[0] for c in PLAYBOOKS])
def test_broken_playbook_check(monkeypatch, tmp_path, case, content, needle):
    path = tmp_path / "tree.yaml"
    path.write_text(content, encoding="utf-8")
    run = run_cli(monkeypatch, None, "playbooks", "check", str(path))
    assert_no_traceback(run)
    line = next(l for l in run.out.splitlines() if l.startswith("ERR"))
    case.record("input", f"playbook: {case.name.split('[')[1].rstrip(']')}", line, run.code)
    assert run.code == 2 and str(path) in line and needle in line, line


SCENARIOS = [
    ("syntax", "name: x\nexpect: {}\nnodes: [1\n", ":4: YAML syntax error"),
    ("binary", b"\x00\xff\xfe".decode("latin-1"), ":1: not UTF-8 text"),
    ("unknown-key", "name: x\nexpect: {}\nnodes: {}\ncloud: {}\nflavour: big\n", ":5: unknown key 'flavour'"),
    ("wrong-type", "name: x\nbase: seed-homelab\nexpect: {}\nnodes:\n  compute01:\n    groups: compute\n",
     ":6: groups must be a list"),
    ("bad-fault", "name: x\nbase: seed-homelab\nexpect: {}\nfaults:\n  api:\n    - {service: dns, status: 500}\n",
     "unknown service 'dns'"),
]


@pytest.mark.parametrize("content,needle", [c[1:] for c in SCENARIOS], ids=[c[0] for c in SCENARIOS])
def test_broken_lab_scenario(monkeypatch, tmp_path, case, content, needle):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(content.encode("latin-1") if "\x00" in content else content.encode())
    run = run_cli(monkeypatch, None, "diagnose", "--lab-scenario", str(path))
    assert_no_traceback(run)
    line = run.err.strip()
    case.record("input", f"lab scenario: {case.name.split('[')[1].rstrip(']')}", line, run.code)
    assert run.code == 2 and str(path) in line and needle in line, line
    assert "internal error" not in line


def test_answer_of_the_wrong_shape(monkeypatch, case):
    run = run_cli(monkeypatch, None, "diagnose", "--answer", "agent-state", "--demo")
    line = run.err.strip()
    case.record("input", "--answer without STEP=OUTCOME", line, run.code)
    assert run.code == 2 and re.search(r"expected STEP=OUTCOME", line)
