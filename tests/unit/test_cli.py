"""The CLI's contract: help, exit codes, one-line errors without tracebacks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env=None, cwd=None):
    import os
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "kolla_wizard", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd or ROOT, env=full_env)


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    for word in ("diagnose", "lab", "playbooks", "--demo", "--os-cloud", "--inventory", "--kolla-config-dir"):
        assert word in result.stdout


def test_help_and_readme_say_the_same_real_backend_setup():
    """Issue 20, defect 25: --help named tools/real-tier/build-venvs.sh (the venvs only), the README
    `bash .ci/real-tier-deps` as root (packages and venvs); both now say the one that works."""
    import re
    from pathlib import Path
    from wizard.cli import build_parser
    backend = next(a for a in build_parser()._actions if "--lab-backend" in a.option_strings).help
    readme = re.sub(r"\s+", " ", (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8"))
    setup = "needs root and `bash .ci/real-tier-deps` once"
    assert setup in backend and setup in readme, backend
    assert "build-venvs" not in backend
    for service in ("Keystone", "Neutron", "Nova", "Placement", "RabbitMQ"):
        assert service in backend and service in readme.split("The **real** backend")[1][:400], service


def test_diagnose_help_lists_symptoms_and_formats():
    result = run("diagnose", "--help")
    assert result.returncode == 0
    for word in ("max-retries", "fip-404", "ssh-refused", "--format", "--output", "--server", "--apply", "--dry-run"):
        assert word in result.stdout


def test_usage_error_exits_2():
    result = run("diagnose", "--symptom", "nonsense")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_shipped_playbooks_check_ok():
    result = run("playbooks", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok  ") >= 4


def test_broken_playbook_check_exits_2_with_file_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nsymptom: s\nstart: a\nsteps:\n  a:\n    title: A\n    why: w\n    probe: no_such_probe\n"
                   "    branches: {}\nfindings: {}\n", encoding="utf-8")
    result = run("playbooks", "check", str(bad))
    assert result.returncode == 2
    assert f"ERR {bad}:9: step a: unknown probe 'no_such_probe'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_remedy_fails_the_check_with_file_line(tmp_path):
    shipped = (ROOT / "playbooks" / "no-valid-host.yaml").read_text(encoding="utf-8")
    assert "remedies: [check-scheduling]" in shipped
    bad = tmp_path / "no-valid-host.yaml"
    bad.write_text(shipped.replace("remedies: [check-scheduling]", "remedies: [placement-check]"), encoding="utf-8")
    line = 1 + bad.read_text(encoding="utf-8").split("remedies: [placement-check]")[0].count("\n")
    result = run("playbooks", "check", str(bad))
    assert result.returncode == 2
    assert f"ERR {bad}:{line}: finding " in result.stdout and "unknown remedy 'placement-check'" in result.stdout


def test_one_remedy_id_in_the_playbook_the_list_and_apply():
    """The id a playbook lists is the id `playbooks list` shows and the one a run offers (--apply)."""
    import re
    listed = run("playbooks", "list").stdout
    remedy_ids = set(re.findall(r"^remedy (\S+):", listed, re.M))
    for tree in (ROOT / "playbooks").glob("*.yaml"):
        for ids in re.findall(r"remedies: \[([^\]]*)\]", tree.read_text(encoding="utf-8")):
            for rid in filter(None, (i.strip() for i in ids.split(","))):
                assert rid in remedy_ids, f"{tree.name}: {rid}"
    assert "enable-provider-networks" in remedy_ids and "provider-networks-durable" not in listed


def test_broken_clouds_yaml_is_one_line_exit_2(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  mine:\n    auth: [\n", encoding="utf-8")
    result = run("diagnose", "--os-cloud", "mine", "--symptom", "fip-404",
                 env={"OS_CLIENT_CONFIG_FILE": str(clouds)}, cwd=tmp_path)
    assert result.returncode == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kolla-wizard: {clouds}:4: YAML syntax error")
    assert "Traceback" not in result.stderr


def test_clouds_yaml_of_wrong_type(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  - one\n  - two\n", encoding="utf-8")
    result = run("diagnose", "--os-cloud", "one", env={"OS_CLIENT_CONFIG_FILE": str(clouds)}, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{clouds}:1: 'clouds' must be a mapping" in result.stderr


def test_no_cloud_at_all_gets_the_start_screens_hint(tmp_path):
    """Issue 20, defect 5: not "cloud None cannot be used (MissingRequiredOptions ...)"."""
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "kolla_wizard", "diagnose", "--symptom", "fip-404"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert "cloud None" not in lines[0] and "MissingRequiredOptions" not in lines[0]
    for word in ("~/.config/openstack/", "--os-cloud NAME", "OS_CLOUD", "--demo"):
        assert word in lines[0], lines[0]


def test_answer_needs_step_equals_outcome():
    result = run("diagnose", "--answer", "nonsense", "--symptom", "fip-404")
    assert result.returncode == 2
    assert "expected STEP=OUTCOME" in result.stderr


def test_python_m_wizard_is_the_same_command():
    # `python -m wizard` stays a launcher alias of kolla-wizard (the composition root).
    result = subprocess.run([sys.executable, "-m", "wizard", "diagnose", "--help"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "--symptom" in result.stdout and "--demo" in result.stdout


def test_a_reader_that_goes_away_stops_the_output_quietly():
    """`kolla-wizard playbooks list | head -1`: the pipe closes before the output is written. Like
    any Unix filter the command stops, without an 'internal error' line or Python's 'Exception
    ignored' at exit, and its status says a pipe broke (128 + SIGPIPE)."""
    proc = subprocess.Popen([sys.executable, "-m", "kolla_wizard", "playbooks", "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == ""
