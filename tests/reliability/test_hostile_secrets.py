"""Issue 15, class 1: secrets in the forms the old line pattern missed, planted where the wizard reads
and shows them (data/hostile-secrets.yaml): every host of a multi-host transport_url in the agent ini
next to the quick fix's edit, a quoted YAML key, a flow mapping and a folded scalar in globals.yml
next to the durable fix's edit, a password in a server's user_data (which --debug's HTTP bodies
carried), an ini line without '=' (data/hostile-ini-error.yaml). The real CLI runs in every format;
none of them may show a planted value. The redaction stays linear: 1 MB adversarial lines through
the whole output gate in a subprocess with a generous deadline."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.reliability.support import assert_no_traceback, run_cli

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "hostile-secrets.yaml"
INI_ERROR = DATA / "hostile-ini-error.yaml"
PLANTED = {
    "multi-host URL, first host": "Multi-host-pw-1a",
    "multi-host URL, second host": "Multi-host-pw-2b",
    "YAML quoted key": "Quoted-key-pw-4471",
    "YAML flow mapping": "Flow-map-pw-8812",
    "YAML folded scalar (its last line)": "Folded-pw-part-two-7720",
    "user_data password (API body)": "Ud-chpasswd-5512xq",
}

USER_DATA_B64 = __import__("base64").b64encode(
    yaml.safe_load(SCENARIO.read_text())["cloud"]["servers"][0]["user_data"].encode()).decode()


def test_plants_are_really_there(case):
    data = yaml.safe_load(SCENARIO.read_text())
    text = yaml.safe_dump(data)
    for value in PLANTED.values():
        assert value in text
    assert "Ini-echo-secret-6620" in INI_ERROR.read_text()
    case.record("hostile", "planted: multi-host transport_url, quoted YAML key, flow mapping, folded scalar, "
                "user_data password, ini line without '='", f"{len(PLANTED) + 1} secret strings planted")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out: dict[str, tuple[int, str]] = {}
    mp = pytest.MonkeyPatch()
    try:
        for fmt in ("text", "json", "markdown"):
            path = tmp_path_factory.mktemp("s") / f"r.{fmt}"
            run = run_cli(mp, None, "diagnose", "--lab-scenario", str(SCENARIO), "--format", fmt, "--output", str(path))
            assert_no_traceback(run)
            out[fmt] = (run.code, path.read_text() + run.out + run.err)
    finally:
        mp.undo()
    debug = subprocess.run([sys.executable, "-m", "kolla_wizard", "diagnose", "--lab-scenario", str(SCENARIO),
                            "--format", "json", "--debug"], capture_output=True, text=True, timeout=180)
    assert "keystoneauth" in debug.stderr and "DEBUG" in debug.stderr   # the logs were really on
    out["debug"] = (debug.returncode, debug.stdout + debug.stderr)
    return out


@pytest.mark.parametrize("output", ["text", "json", "markdown", "debug"])
@pytest.mark.parametrize("form", sorted(PLANTED))
def test_planted_form_never_shown(runs, case, output, form):
    code, text = runs[output]
    value = PLANTED[form]
    assert value not in text
    if form.startswith("user_data"):   # the API carries it base64-encoded
        assert USER_DATA_B64 not in text
    shown_masked = text.count("****")
    label = "--format json --debug (stdout + every log line)" if output == "debug" else f"--format {output} --output FILE"
    case.record("hostile", f"{form} ({value[:6]}…), {label}", f"0 occurrences; {shown_masked} masks in the output", code)
    assert shown_masked


def test_diffs_show_the_masked_lines(runs, case):
    _code, text = runs["markdown"]
    # the diffs' context lines really carry each form, masked (else the rows above prove nothing)
    assert "rabbit://openstack:****@192.168.35.10:5672,openstack:****@192.168.35.12:5672//" in text
    assert "docker_custom_config: {username: kolla, password: ****}" in text
    assert '"docker_registry_password": "****"' in text
    case.record("hostile", "the fixes' diffs: context lines with the multi-host transport_url, the flow mapping, "
                "the quoted key and the folded scalar", "each shown with its value as ****", _code)


def test_debug_does_not_log_http_bodies(runs, case):
    code, text = runs["debug"]
    assert "RESP BODY: (not logged" in text and '"OS-EXT-SRV-ATTR:user_data"' not in text
    case.record("hostile", "--debug: keystoneauth request/response bodies (console output, base64 user_data)",
                "'RESP BODY: (not logged: N characters)'; request line, status and headers redacted", code)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_ini_parse_error_does_not_echo_the_value(monkeypatch, case, tmp_path, fmt):
    path = tmp_path / f"r.{fmt}"
    run = run_cli(monkeypatch, None, "diagnose", "--lab-scenario", str(INI_ERROR), "--format", fmt, "--output", str(path))
    text = path.read_text() + run.out + run.err
    line = run.first_line("with no '='")
    assert "Ini-echo-secret-6620" not in text and "rabbit_password" in line
    case.record("hostile", f"agent ini line 'rabbit_password <secret>' (no '='), --format {fmt}", line, run.code)


LINEAR = r"""
import sys, time
from wizard import runbook
from wizard.redact import register_secret
from wizard.safetext import shown
register_secret("Known-secret-value-1")
N = 1_000_000
kind = sys.argv[1]
text = {
    "url-dots": "a." * (N // 2), "spaces": " " * N, "url-scheme-runs": "a://" * (N // 4),
    "multi-host-commas": "x://" + "a,b:c," * (N // 6) + "@h", "userinfo-runs": "x://" + "u:p@," * (N // 5),
    "key-value": "password = " + "x " * (N // 2), "keyword-runs": "password" * (N // 8),
    "json-unclosed": '"password": "' + "x" * N, "json-keys": '"a":"' * (N // 5), "flow": "{" + ",a: b" * (N // 6),
    "base64": "A" * N, "pem-unclosed": "-----BEGIN " + "A " * (N // 2), "escapes": "\x1b[2J" * (N // 4),
    "markdown": "`*_[]<>" * (N // 7), "plus-runs": "+" * N,
}[kind]
shown(text)
runbook._prose(text)
print("ok")
"""
ADVERSARIAL = ["url-dots", "spaces", "url-scheme-runs", "multi-host-commas", "userinfo-runs", "key-value",
               "keyword-runs", "json-unclosed", "json-keys", "flow", "base64", "pem-unclosed", "escapes", "markdown",
               "plus-runs"]


@pytest.mark.parametrize("kind", ADVERSARIAL)
def test_redaction_is_linear_on_a_megabyte_line(case, kind):
    # A deadline, not a speed figure: a quadratic pattern takes hours on 1 MB, a linear one seconds.
    done = subprocess.run([sys.executable, "-c", LINEAR, kind], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
    case.record("hostile", f"1 MB console line of {kind} through redaction, control-character and Markdown passes",
                "finished within the 120 s deadline (linear)")
