"""The Kolla oracle's product plumbing without kolla-ansible: the --kolla-ansible flag reaches the
context, where kolla-ansible is looked for, what is copied from the deploy host (never
passwords.yml), how an ansible error becomes one line naming the operator's file, the timeout
killing the whole process group, and the embedded lab's diagnosis falling back to the built-in
model with a note. The real renders are in tests/real/test_oracle_in_product.py."""
from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.trees.network_support import context
from kolla_wizard.main import settings_for_lab
from wizard.cli import build_parser, settings_from_args
from wizard.context import Context, Settings
from wizard.diagnose import run_diagnosis
from wizard.kolla import DictReader, oracle
from wizard.kolla.oracle import (PREFIX_ENV, KollaOracle, OracleFailed, bridge_mappings_or_none,
                                 find_kolla_ansible, locate_kolla_ansible, stage_deploy_files)
from kolla_lab import Lab


# -- the flag and the setting ---------------------------------------------------------------------

def test_the_kolla_ansible_flag_reaches_the_settings_and_the_context(tmp_path):
    args = build_parser().parse_args(["diagnose", "--kolla-ansible", "/opt/kolla-venv"])
    settings = settings_from_args(args)
    assert settings.kolla_ansible == "/opt/kolla-venv"
    lab = SimpleNamespace(config_dir=tmp_path, cloud_name="lab", deploy_host="deploy")
    assert settings_for_lab(lab, args).kolla_ansible == "/opt/kolla-venv"
    assert settings_from_args(build_parser().parse_args(["diagnose"])).kolla_ansible is None   # auto
    ctx = Context(Settings(kolla_ansible="off", kolla_oracle_timeout=7.5))
    first = ctx.kolla_oracle
    assert (first.setting, first.timeout) == ("off", 7.5)
    assert ctx.kolla_oracle is first             # one oracle (one render cache) per diagnosis
    ctx.refresh()                                # after a fix the configuration changed: render again
    assert ctx.kolla_oracle is not first


# -- where kolla-ansible is -----------------------------------------------------------------------

def _fake_prefix(root: Path, version: str = "22.2.0") -> Path:
    """The layout find_kolla_ansible recognises (a pip-installed venv), without ansible in it."""
    (root / "share/kolla-ansible/ansible/roles/neutron/templates").mkdir(parents=True)
    (root / "share/kolla-ansible/ansible/roles/neutron/templates/openvswitch_agent.ini.j2").write_text("")
    (root / "bin").mkdir()
    for name in ("ansible-playbook", "python", "kolla-ansible"):
        (root / "bin" / name).write_text("#!/bin/sh\n")
    (root / f"lib/python3.12/site-packages/kolla_ansible-{version}.dist-info").mkdir(parents=True)
    return root


def test_locate_off_a_wrong_path_and_the_executable(tmp_path, monkeypatch):
    assert locate_kolla_ansible("off") == (None, "the Kolla oracle is off (--kolla-ansible off)", False)
    monkeypatch.setenv(PREFIX_ENV, "off")
    found, why, problem = locate_kolla_ansible(None)
    assert found is None and PREFIX_ENV in why and not problem
    monkeypatch.delenv(PREFIX_ENV)

    found, why, problem = locate_kolla_ansible(str(tmp_path / "nowhere"))
    assert found is None and problem
    assert why.startswith(f"--kolla-ansible {tmp_path / 'nowhere'}: no kolla-ansible") and "\n" not in why

    prefix = _fake_prefix(tmp_path / "venv")
    for given in (prefix, prefix / "bin" / "kolla-ansible"):   # the venv, or `which kolla-ansible`
        found, why, problem = locate_kolla_ansible(str(given))
        assert found is not None and found.prefix == prefix and found.version == "22.2.0"
        assert (why, problem) == ("", False)


def test_auto_uses_the_prefix_variable(tmp_path, monkeypatch):
    prefix = _fake_prefix(tmp_path / "venv", "18.8.0")
    monkeypatch.setenv(PREFIX_ENV, str(prefix))
    found, _why, _problem = locate_kolla_ansible(None)
    assert found is not None and found.prefix == prefix and str(found.release) == "2024.1"


# -- what is copied from the deploy host ----------------------------------------------------------

DEPLOY_FILES = {
    "/etc/kolla/globals.yml": "enable_neutron_provider_networks: \"no\"\n",
    "/etc/kolla/passwords.yml": "database_password: Sup3r-secret-db\n",
    "/etc/kolla/globals.d/10-net.yml": "neutron_bridge_name: br-ex\n",
    "/etc/kolla/globals.d/README": "not a vars file\n",
    "/etc/kolla/globals.d/passwords.yml": "keystone_admin_password: also-secret\n",
    "/etc/kolla/multinode": "[network]\ncontrol01\n[compute]\ncompute01\ncompute02\n",
    "/etc/kolla/group_vars/compute.yml": "computes_need_external_bridge: true\n",
    "/etc/kolla/group_vars/network/main.yml": "neutron_external_interface: eth1\n",
    "/etc/kolla/host_vars/compute01.yml": "neutron_external_interface: eth2\n",
    "/etc/kolla/host_vars/compute02.yml": "neutron_external_interface: eth3\n",
    "/etc/kolla/config/neutron/openvswitch_agent.ini": "[ovs]\nbridge_mappings = physnet1:br-ex\n",
    "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini": "[agent]\n",
    "/etc/kolla/config/neutron/compute02/openvswitch_agent.ini": "[agent]\n",
    "/etc/kolla/config/neutron/neutron.conf": "[database]\nconnection = mysql://n:Sup3r-secret-db@db/n\n",
    "/etc/kolla/config/nova.conf": "[DEFAULT]\n",
}


def test_staging_copies_only_what_the_render_reads_and_never_passwords(tmp_path):
    dest = tmp_path / "stage"
    dest.mkdir(mode=0o700)
    staged = stage_deploy_files(DictReader(DEPLOY_FILES), "/etc/kolla", "/etc/kolla/multinode", ["compute01"], dest)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == ["inventory/group_vars/compute.yml", "inventory/group_vars/network/main.yml",
                     "inventory/host_vars/compute01.yml", "inventory/multinode",
                     "kolla/config/neutron/compute01/openvswitch_agent.ini",
                     "kolla/config/neutron/openvswitch_agent.ini", "kolla/globals.d/10-net.yml", "kolla/globals.yml"]
    assert {stat.S_IMODE((dest / f).stat().st_mode) for f in files} == {0o600}
    assert not any("secret" in (dest / f).read_text() for f in files)
    assert staged.config_dir == dest / "kolla" and staged.inventory == dest / "inventory" / "multinode"
    # Messages name the operator's files, never the private copy.
    assert staged.unstage(f"bad value (at {dest}/kolla/globals.yml:3)") == "bad value (at /etc/kolla/globals.yml:3)"


def test_staging_without_globals_is_one_line(tmp_path):
    files = {k: v for k, v in DEPLOY_FILES.items() if not k.endswith("/globals.yml")}
    with pytest.raises(OracleFailed) as failure:
        stage_deploy_files(DictReader(files), "/etc/kolla", "/etc/kolla/multinode", ["compute01"], tmp_path)
    assert failure.value.one_line() == "/etc/kolla/globals.yml: not found (check --kolla-config-dir / --inventory)"


def test_no_bridge_mappings_line_is_not_an_empty_mapping():
    assert bridge_mappings_or_none("[ovs]\ndatapath_type = system\n") is None
    assert bridge_mappings_or_none("[ovs]\nbridge_mappings = \n") == {}
    assert bridge_mappings_or_none("[ovs]\nbridge_mappings = physnet1:br-ex,physnet2:br-vlan\n") == \
        {"physnet1": "br-ex", "physnet2": "br-vlan"}


# -- ansible's errors and the timeout -------------------------------------------------------------

ANSIBLE_2_19 = """\
TASK [oracle : Render openvswitch_agent.ini] ***
[ERROR]: Task failed: 'no_such_var' is undefined

Task failed.
Origin: /tmp/work/play/roles/oracle/tasks/main.yml:1:3

1 - name: Render openvswitch_agent.ini
    ^ column 3

<<< caused by >>>

'no_such_var' is undefined
Origin: /tmp/stage/kolla/globals.yml:14:23

14 enable_neutron_sriov: "{{ no_such_var }}"
                         ^ column 23

fatal: [compute01]: FAILED! => {"changed": false, "msg": "Task failed: 'no_such_var' is undefined"}
"""

ANSIBLE_2_16 = """\
ERROR! Syntax Error while loading YAML.
  did not find expected key

The error appears to be in '/tmp/stage/kolla/globals.yml': line 3, column 1, but may
be elsewhere in the file depending on the exact syntax problem.

The offending line appears to be:

database_password: leaked-if-quoted
"""


def test_an_ansible_error_is_one_line_with_the_operators_file_and_no_quoted_source():
    line = oracle._first_error(ANSIBLE_2_19, ["compute01"], {}, own_dir="/tmp/work")
    assert line == "Task failed: 'no_such_var' is undefined (at /tmp/stage/kolla/globals.yml:14)"
    line = oracle._first_error(ANSIBLE_2_16, ["compute01"], {}, own_dir="/tmp/work")
    assert line == "Syntax Error while loading YAML. (at /tmp/stage/kolla/globals.yml:3)"
    assert "leaked" not in line


def _state(pid: int) -> str | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((l.split()[1] for l in status.splitlines() if l.startswith("State:")), None)


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "worker.pid"
    argv = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]   # a forked worker, as ansible has
    started = time.monotonic()
    with pytest.raises(OracleFailed, match=r"took over 0\.5 s"):
        oracle._run_with_timeout(argv, cwd=tmp_path, env=dict(os.environ), timeout=0.5)
    assert time.monotonic() - started < 10
    worker = int(pidfile.read_text())
    for _ in range(50):
        if _state(worker) in (None, "Z"):
            break
        time.sleep(0.1)
    assert _state(worker) in (None, "Z")   # killed (a zombie until init reaps it, or gone)


# -- the diagnosis falls back to the built-in model -----------------------------------------------

def _three_views(report):
    return next(s for s in report.steps if s.step == "three-views")


def test_lab_with_a_wrong_kolla_ansible_path_falls_back_with_one_problem_line(tmp_path):
    with Lab("seed-homelab") as lab:
        ctx = context(lab, "--kolla-ansible", str(tmp_path))
        report, _engine = run_diagnosis(ctx, ["max-retries"])
        ctx.close()
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    assert ctx.kolla_oracle.renders == 0
    problems = [p for p in report.problems if "--kolla-ansible" in p]
    assert problems == [f"expected view from the built-in model, not Kolla's templates: --kolla-ansible {tmp_path}: "
                        "no kolla-ansible with ansible-playbook there (give the venv or prefix that holds "
                        "share/kolla-ansible/ansible)"]
    step = _three_views(report)
    assert any(o.startswith("Expected comes from the built-in model of Kolla 2024.2: --kolla-ansible ")
               for o in step.observations)


def test_lab_without_kolla_ansible_uses_the_built_in_model_and_says_so(monkeypatch):
    monkeypatch.delenv(PREFIX_ENV, raising=False)
    if find_kolla_ansible(None) is not None:
        pytest.skip(f"kolla-ansible is installed for {sys.executable}: auto-detection would use it")
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        report, _engine = run_diagnosis(ctx, ["max-retries"])
        ctx.close()
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    assert report.problems == []            # not having kolla-ansible here is normal, not a problem
    assert ctx.kolla_oracle.renders == 0
    assert ("Expected comes from the built-in model of Kolla 2024.2: kolla-ansible is not installed where the "
            "wizard runs; --kolla-ansible PREFIX would use Kolla's own templates.") in _three_views(report).observations


def test_the_oracle_never_raises_into_the_probe(tmp_path):
    """A deploy host that disappears mid-copy is one line and a fallback, not a traceback."""
    prefix = _fake_prefix(tmp_path / "venv")

    class Vanishing(DictReader):
        def read_file(self, path):
            if path.endswith("multinode"):
                from wizard.transport.base import HostUnreachable
                raise HostUnreachable("deploy", "connection lost", "check the deploy host")
            return super().read_file(path)

    model = SimpleNamespace(reader=Vanishing(DEPLOY_FILES), config_dir="/etc/kolla",
                            inventory_path="/etc/kolla/multinode")
    kolla = KollaOracle(str(prefix))
    view = kolla.expected(model, "compute01")
    assert not view.rendered and view.problem and "connection lost" in view.note and "\n" not in view.note
    assert kolla.expected(model, "compute02").note == view.note   # tried once per diagnosis
    assert kolla.renders == 1
