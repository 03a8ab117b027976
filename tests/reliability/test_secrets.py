"""Planted secrets (tests/reliability/data/planted-secrets.yaml): every passwords.yml value, an SSH
private key in passwords.yml and pasted into globals.yml, transport_url and a database connection
string in the very agent config the quick fix edits (so they sit in the diff's context lines), the
clouds.yaml password and the Keystone tokens. None may reach the JSON, text or Markdown output,
stderr, the --debug logs, or what the screen renders from the event stream."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.reliability.support import run_cli

SCENARIO = Path(__file__).parent / "data" / "planted-secrets.yaml"
TOKEN = re.compile(r"gAAAAA[0-9A-Za-z_-]{20,}")


def planted() -> list[str]:
    data = yaml.safe_load(SCENARIO.read_text())
    files = data["nodes"]["deploy"]["files"]
    secrets = []
    passwords = yaml.safe_load(files["/etc/kolla/passwords.yml"])
    for key, value in passwords.items():
        if isinstance(value, dict):
            secrets += [line.strip() for line in value["private_key"].splitlines() if "PRIVATE KEY" not in line]
        else:
            secrets.append(str(value))
    secrets += [line[2:] for line in files["/etc/kolla/globals.yml"].splitlines()
                if line.startswith("# ") and re.fullmatch(r"[A-Za-z0-9+/=]{40,}", line[2:])]
    secrets.append("Db-conn-pw-44c1a9e7")
    return sorted(set(s for s in secrets if s))


SECRETS = planted()


def leaks(text: str) -> list[str]:
    found = [s for s in SECRETS if s in text]
    found += TOKEN.findall(text)
    return found


@pytest.fixture(scope="module")
def debug_run():
    argv = [sys.executable, "-m", "wizard", "diagnose", "--lab-scenario", str(SCENARIO), "--format", "json", "--debug"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_planted_secrets_are_really_there(case):
    # The plant must be reachable, or the other tests prove nothing.
    from kolla_lab import Lab
    with Lab(str(SCENARIO)) as lab:
        ini = lab.state.nodes["compute01"].read("/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini")
        assert "Db-conn-pw-44c1a9e7" in ini and "Rmq-secret-5b1e77c2d9" in ini
        assert lab.state.deploy.read("/etc/kolla/globals.yml").count("AAAA") >= 2
        clouds = (lab.config_dir / "clouds.yaml").read_text()
        assert "Hl7-admin-Pw-3f9c2a" in clouds
    case.record("secrets", "planted: passwords.yml (6 values + SSH private key), key pasted in globals.yml, "
                "transport_url and DB connection in compute01's agent ini, clouds.yaml password, tokens",
                f"{len(SECRETS)} secret strings planted and readable in the lab")
    assert len(SECRETS) >= 10


def test_json_and_debug_logs(debug_run, case):
    report = debug_run.stdout
    assert report.lstrip().startswith("{") and '"findings"' in report
    assert "DEBUG" in debug_run.stderr and "keystoneauth" in debug_run.stderr   # the logs really were on
    found = leaks(report) + leaks(debug_run.stderr)
    case.record("secrets", "diagnose --format json --debug (stdout and every debug log line on stderr)",
                f"debug logs on, {len(found)} leaks", debug_run.returncode)
    assert found == []
    # the quick fix's diff really shows the lines around [ovs]: the credentials in them masked
    assert "rabbit://openstack:****@" in report and "mysql+pymysql://neutron:****@" in report


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown(monkeypatch, case, tmp_path, fmt):
    out = tmp_path / f"runbook.{fmt}"
    run = run_cli(monkeypatch, None, "diagnose", "--lab-scenario", str(SCENARIO), "--format", fmt, "--output", str(out))
    text = out.read_text()
    found = leaks(text) + leaks(run.err) + leaks(run.out)
    case.record("secrets", f"diagnose --format {fmt} --output FILE (file, stdout, stderr)",
                f"{len(text.splitlines())} lines written, {len(found)} leaks", run.code)
    assert run.code == 1 and "bridge-mapping-missing" in text and found == []


def test_screen_event_stream(case):
    """What the TUI renders: every event's text, through the same redaction pass the screens use."""
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis
    from kolla_lab import Lab
    from wizard.redact import redact

    shown: list[str] = []

    def collect(event) -> None:
        for value in vars(event).values():
            if isinstance(value, str):
                shown.append(value)
            elif hasattr(value, "__dict__"):
                shown.extend(str(v) for v in vars(value).values() if isinstance(v, (str, list)))

    with Lab(str(SCENARIO)) as lab:
        ctx = context(lab)
        try:
            report, _ = run_diagnosis(ctx, ["max-retries", "fip-404", "ssh-refused"], on_event=collect)
        finally:
            ctx.close()
    rendered = [redact(text) for text in shown]
    raw_with_secrets = sum(1 for text in shown if leaks(text))
    found = [s for text in rendered for s in leaks(text)]
    case.record("secrets", "every event of the engine's stream as the screens render it (redact())",
                f"{len(shown)} texts, {raw_with_secrets} carry a secret before redaction, {len(found)} after")
    assert report.findings and found == []
