"""Issue 15, class 2: a read-only diagnosis never runs code from the operator's files. The Kolla oracle
renders globals.yml (and globals.d, the inventory and its vars, the ini overrides) through Ansible on
the wizard's machine, so ``{{ lookup('pipe', ...) }}`` there would run as whoever runs the wizard.
Anything but plain ``{{ variable }}`` references is refused in one line naming file:line, and the
expected view falls back to the built-in model. With the real tier's kolla-ansible venv the refusal is
proven end to end: the lookup's marker file is never created."""
from __future__ import annotations

from pathlib import Path

import pytest

from wizard.kolla import DictReader
from wizard.kolla.oracle import OracleFailed, stage_deploy_files, unsafe_template

BASE = {"/etc/kolla/globals.yml": 'kolla_base_distro: "rocky"\nnetwork_interface: "eth0"\n',
        "/etc/kolla/multinode": "[control]\ncontroller\n[compute]\ncompute01\n"}
PAYLOADS = {
    "lookup-pipe": "x: \"{{ lookup('pipe', 'id > /tmp/pwned') }}\"",
    "query": "x: \"{{ query('fileglob', '/etc/*') }}\"",
    "filter-plugin": "x: \"{{ network_interface | community.general.json_query('a') }}\"",
    "statement": "x: \"{% for i in range(3) %}{{ i }}{% endfor %}\"",
    "attribute-walk": "x: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"",
    "whitespace-control": "x: \"{{- lookup('env', 'HOME') -}}\"",
}
WHERE = {"globals.yml": "/etc/kolla/globals.yml", "globals.d": "/etc/kolla/globals.d/extra.yml",
         "inventory host var": "/etc/kolla/multinode", "group_vars": "/etc/kolla/group_vars/all.yml"}


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_unsafe_expressions_are_refused(payload, case, tmp_path):
    files = dict(BASE)
    files["/etc/kolla/globals.yml"] += PAYLOADS[payload] + "\n"
    with pytest.raises(OracleFailed) as caught:
        stage_deploy_files(DictReader(files), "/etc/kolla", "/etc/kolla/multinode", ["compute01"], tmp_path)
    line = caught.value.one_line()
    assert line.startswith("/etc/kolla/globals.yml:3: ") and "\n" not in line
    case.record("hostile", f"globals.yml line: {PAYLOADS[payload]}", line)


@pytest.mark.parametrize("where", sorted(WHERE))
def test_every_staged_file_is_checked(where, case, tmp_path):
    files = dict(BASE)
    path = WHERE[where]
    if where == "inventory host var":
        files[path] = "[control]\ncontroller\n[compute]\ncompute01 x=\"{{ lookup('pipe', 'id') }}\"\n"
    else:
        files[path] = "x: \"{{ lookup('pipe', 'id') }}\"\n"
    with pytest.raises(OracleFailed) as caught:
        stage_deploy_files(DictReader(files), "/etc/kolla", "/etc/kolla/multinode", ["compute01"], tmp_path)
    assert caught.value.one_line().startswith(path + ":")
    case.record("hostile", f"lookup('pipe') in {where} ({path})", caught.value.one_line()[:120])


def test_plain_references_still_render(case, tmp_path):
    files = dict(BASE)
    files["/etc/kolla/globals.yml"] += 'kolla_internal_fqdn: "{{ kolla_internal_vip_address }}"\ny: "{{a.b}}"\n'
    staged = stage_deploy_files(DictReader(files), "/etc/kolla", "/etc/kolla/multinode", ["compute01"], tmp_path)
    assert (staged.config_dir / "globals.yml").is_file()
    assert unsafe_template("{{ x }} {{ y.z }} {# a comment #}") is None
    case.record("hostile", "globals.yml with plain {{ kolla_internal_vip_address }} and {{a.b}} references",
                "staged and rendered by Kolla as before")


def test_real_kolla_ansible_never_runs_the_lookup(case, tmp_path):
    from tests.real.conftest import venv_or_skip
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis
    from kolla_lab import Lab

    prefix = venv_or_skip("kolla")
    marker = tmp_path / "pwned"
    with Lab("seed-homelab") as lab:
        setup = context(lab)
        text = setup.deploy.read_file("/etc/kolla/globals.yml")
        setup.deploy.write_file_atomic("/etc/kolla/globals.yml",
                                       text + f"neutron_bridge_name: \"{{{{ lookup('pipe', 'touch {marker}') }}}}\"\n")
        setup.close()
        ctx = context(lab, "--kolla-ansible", str(prefix))
        try:
            report, _engine = run_diagnosis(ctx, ["max-retries"])
        finally:
            ctx.close()
    assert not marker.exists()
    notes = [p for p in report.problems if "lookup" in p]
    assert len(notes) == 1 and "/etc/kolla/globals.yml:" in notes[0], report.problems
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]     # the built-in model answered
    case.record("hostile", "real kolla-ansible oracle; the lab's globals.yml holds {{ lookup('pipe', 'touch FILE') }}",
                f"FILE never created; {notes[0][:150]}; findings from the built-in model")
