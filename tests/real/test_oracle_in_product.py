"""Kolla's own templates give the wizard's "expected" view in the product (issue 9, "Kolla oracle in
the product"), on the embedded lab with the oracle pointed at the real tier's kolla-ansible venv.

The lab's deploy host is an SSH node, so every render here goes the remote way: the files the
render needs are read through the deploy transport (paramiko to the lab's sshd) into a private
directory, rendered by real ansible-playbook with Kolla's merge_configs, and deleted. The same
diagnosis with ``--kolla-ansible off`` (the built-in model) is the reference: finding IDs, root
causes and remedies must not change, only the evidence says where "expected" came from."""
from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tests.trees.network_support import context, scenarios_expecting
from wizard import runbook
from wizard.context import Context
from wizard.diagnose import run_diagnosis
from wizard.kolla import oracle
from wizard.kolla.oracle import find_kolla_ansible
from kolla_lab import Lab, load_scenario

from .conftest import venv_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

GLOBALS = "/etc/kolla/globals.yml"


def _run(ctx: Context, trees=("max-retries",)):
    try:
        report, _engine = run_diagnosis(ctx, list(trees))
    finally:
        ctx.close()
    return report


def _three_views(report):
    return next(s for s in report.steps if s.step == "three-views")


def _same_conclusions(a, b) -> None:
    assert [f.id for f in a.findings] == [f.id for f in b.findings]
    for left, right in zip(a.findings, b.findings):
        assert left.root_cause == right.root_cause
        assert [r.to_dict() for r in left.remedies] == [r.to_dict() for r in right.remedies]
    assert [(s.tree, s.step, s.outcome) for s in a.steps] == [(s.tree, s.step, s.outcome) for s in b.steps]


def _seed_passwords() -> list[str]:
    scenario = load_scenario("seed-homelab")
    nodes = scenario["nodes"]
    deploy = nodes["deploy"] if isinstance(nodes, dict) else next(n for n in nodes if n["name"] == "deploy")
    return [str(v) for v in yaml.safe_load(deploy["files"]["/etc/kolla/passwords.yml"]).values()]


def test_seed_homelab_expected_view_comes_from_kolla_templates_with_the_same_findings():
    prefix = venv_or_skip("kolla")
    version = find_kolla_ansible(prefix).version
    with Lab("seed-homelab") as lab:
        builtin = _run(context(lab, "--kolla-ansible", "off"))
        ctx = context(lab, "--kolla-ansible", str(prefix))
        with_kolla = _run(ctx)
        model = ctx.kolla
    # Rendered once, lazily, for the one host the three-views step asked about; a second ask is cached.
    assert ctx.kolla_oracle.renders == 1
    assert ctx.kolla_oracle.expected(model, "compute01").rendered
    assert ctx.kolla_oracle.renders == 1

    assert [f.id for f in with_kolla.findings] == ["bridge-mapping-missing"]
    _same_conclusions(with_kolla, builtin)
    assert with_kolla.problems == builtin.problems == []

    step = _three_views(with_kolla)
    said = f"Expected comes from kolla-ansible {version} templates (the wizard's built-in model agrees)."
    assert said in step.observations
    assert any(s.startswith(f"kolla-ansible {version} templates in {prefix}: rendered compute01's "
                            "openvswitch_agent.ini from a copy of deploy:/etc/kolla") for s in step.sources)
    reference = _three_views(builtin)
    assert ("Expected comes from the built-in model of Kolla 2024.2: the Kolla oracle is off (--kolla-ansible off)."
            in reference.observations)
    assert not any("templates in" in s for s in reference.sources)
    # The operator, the runbook and the JSON output all see where "expected" came from.
    assert said in runbook.to_json(with_kolla)
    assert said.replace("_", "\\_") in runbook.to_markdown(with_kolla)


@pytest.mark.parametrize("scenario,expected", scenarios_expecting("max-retries"))
def test_every_max_retries_scenario_concludes_the_same_with_kolla_templates(scenario, expected):
    prefix = venv_or_skip("kolla")
    with Lab(scenario) as lab:
        builtin = _run(context(lab, "--kolla-ansible", "off"))
        ctx = context(lab, "--kolla-ansible", str(prefix))
        with_kolla = _run(ctx)
    assert [f.id for f in with_kolla.findings if f.tree == "max-retries"] == expected
    _same_conclusions(with_kolla, builtin)
    reached = any(s.step == "three-views" and s.via == "probe" for s in with_kolla.steps)
    # Lazy: only a diagnosis that reaches the three views pays for a render, and only once.
    assert ctx.kolla_oracle.renders == (1 if reached else 0)
    if reached:
        assert any(o.startswith("Expected comes from kolla-ansible ") for o in _three_views(with_kolla).observations)


def test_the_render_reads_a_private_copy_without_passwords_and_deletes_it(monkeypatch):
    prefix = venv_or_skip("kolla")
    seen: dict[str, object] = {}
    real_render = oracle.render_openvswitch_agent_ini

    def watching_render(config_dir, inventory_path, hosts, **kwargs):
        root = Path(config_dir).parent
        seen["root"] = root
        seen["root_mode"] = stat.S_IMODE(root.stat().st_mode)
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        seen["files"] = files
        seen["modes"] = {f: stat.S_IMODE((root / f).stat().st_mode) for f in files}
        seen["text"] = "\n".join((root / f).read_text() for f in files)
        return real_render(config_dir, inventory_path, hosts, **kwargs)

    monkeypatch.setattr(oracle, "render_openvswitch_agent_ini", watching_render)
    with Lab("seed-homelab") as lab:
        # Everything the render reads, and things it must not copy, on the deploy host.
        for path, text in {
            "/etc/kolla/globals.d/10-extra.yml": "kolla_enable_tls_internal: \"no\"\n",
            "/etc/kolla/group_vars/compute.yml": "neutron_external_interface: veth1\n",
            "/etc/kolla/host_vars/compute01.yml": "network_interface: enp1s0\n",
            "/etc/kolla/host_vars/controller.yml": "network_interface: enp1s0\n",
            "/etc/kolla/config/neutron/compute01/openvswitch_agent.ini": "[agent]\nl2_population = true\n",
            "/etc/kolla/config/neutron/neutron.conf": "[database]\nconnection = mysql://neutron:Db-pw@db/neutron\n",
            "/etc/kolla/config/nova/nova.conf": "[DEFAULT]\ndebug = true\n",
        }.items():
            lab.state.deploy.write(path, text)
        with_kolla = _run(context(lab, "--kolla-ansible", str(prefix)))
        builtin = _run(context(lab, "--kolla-ansible", "off"))
    _same_conclusions(with_kolla, builtin)
    assert any(o.startswith("Expected comes from kolla-ansible ") for o in _three_views(with_kolla).observations)
    assert seen["files"] == ["inventory/group_vars/compute.yml", "inventory/host_vars/compute01.yml",
                             "inventory/multinode", "kolla/config/neutron/compute01/openvswitch_agent.ini",
                             "kolla/globals.d/10-extra.yml", "kolla/globals.yml"]
    assert not any("passwords" in f for f in seen["files"])
    assert seen["root_mode"] == 0o700
    assert set(seen["modes"].values()) == {0o600}
    for secret in _seed_passwords():
        assert secret not in seen["text"]
    assert not Path(seen["root"]).exists()


def test_a_globals_yml_kolla_rejects_falls_back_with_one_line_naming_the_file():
    prefix = venv_or_skip("kolla")
    with Lab("seed-homelab") as lab:
        setup = context(lab)
        text = setup.deploy.read_file(GLOBALS)
        # Valid YAML the built-in model reads, but Kolla's template evaluates enable_neutron_sriov | bool.
        setup.deploy.write_file_atomic(GLOBALS, text + 'enable_neutron_sriov: "{{ no_such_variable }}"\n')
        line_no = len(text.splitlines()) + 1
        setup.close()
        builtin = _run(context(lab, "--kolla-ansible", "off"))
        ctx = context(lab, "--kolla-ansible", str(prefix))
        with_kolla = _run(ctx)
    _same_conclusions(with_kolla, builtin)
    assert [f.id for f in with_kolla.findings] == ["bridge-mapping-missing"]   # the diagnosis went on
    notes = [p for p in with_kolla.problems if "Kolla's templates" in p]
    assert len(notes) == 1, with_kolla.problems
    note = notes[0]
    assert "\n" not in note and "Traceback" not in note
    assert f"{GLOBALS}:{line_no}" in note and "no_such_variable" in note
    assert "kolla-wizard-oracle" not in note        # the private copy's path never shows
    step = _three_views(with_kolla)
    assert any(o.startswith("Expected comes from the built-in model of Kolla 2024.2: kolla-ansible oracle:")
               and f"{GLOBALS}:{line_no}" in o for o in step.observations)
    # A broken configuration is tried once per diagnosis, not once per question.
    assert ctx.kolla_oracle.renders == 1
    assert not ctx.kolla_oracle.expected(ctx.kolla, "controller").rendered
    assert ctx.kolla_oracle.renders == 1


def test_a_render_past_its_timeout_is_killed_and_the_model_answers():
    prefix = venv_or_skip("kolla")
    with Lab("seed-homelab") as lab:
        ctx = context(lab, "--kolla-ansible", str(prefix))
        ctx = Context(replace(ctx.settings, kolla_oracle_timeout=0.3))
        report = _run(ctx)
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    assert any("ansible-playbook took over 0.3 s" in p for p in report.problems), report.problems
    # Nothing the render started outlives it (ansible forks workers; the whole group is killed).
    leftovers = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "kolla-wizard-oracle-" in cmdline:
                leftovers.append(pid)
    assert leftovers == []


def test_on_the_deploy_host_itself_the_local_files_are_rendered_and_the_model_uses_kollas_defaults(tmp_path,
                                                                                                     monkeypatch):
    """The production case: the wizard runs on the deploy host, /etc/kolla is local."""
    prefix = venv_or_skip("kolla")
    kolla_dir = tmp_path / "kolla"
    kolla_dir.mkdir()
    (kolla_dir / "globals.yml").write_text('kolla_base_distro: "rocky"\nopenstack_release: "2024.2"\n'
                                           'neutron_external_interface: "veth1"\nnetwork_interface: "enp1s0"\n')
    (kolla_dir / "passwords.yml").write_text("database_password: Local-secret-77\n")
    (kolla_dir / "multinode").write_text("[control]\ncontrol01\n[network]\ncontrol01\n[compute]\ncompute01\n"
                                         "[compute:vars]\nenable_neutron_provider_networks=yes\n"
                                         "[deployment]\nlocalhost ansible_connection=local\n"
                                         "[baremetal:children]\ncontrol\nnetwork\ncompute\n")
    copied: list[str] = []
    real_render = oracle.render_openvswitch_agent_ini

    def watching_render(config_dir, inventory_path, hosts, **kwargs):
        root = Path(config_dir).parent
        copied.extend(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        return real_render(config_dir, inventory_path, hosts, **kwargs)

    monkeypatch.setattr(oracle, "render_openvswitch_agent_ini", watching_render)
    from wizard.context import Settings
    ctx = Context(Settings(kolla_config_dir=str(kolla_dir), inventory=str(kolla_dir / "multinode"),
                           kolla_ansible=str(prefix)))
    model = ctx.kolla
    assert model.defaults_source == f"kolla-ansible's own defaults in {prefix}/share/kolla-ansible/ansible/group_vars"
    network = ctx.kolla_oracle.expected(model, "control01")
    compute = ctx.kolla_oracle.expected(model, "compute01")
    assert network.rendered and network.mappings == {"physnet1": "br-ex"} == model.expected_ovs("control01").bridge_mappings
    assert compute.rendered and compute.mappings is None is model.expected_ovs("compute01").bridge_mappings
    assert f"from a copy of {ctx.deploy.name}:{kolla_dir}" in compute.detail
    assert ctx.kolla_oracle.renders == 2
    assert sorted(set(copied)) == ["inventory/multinode", "kolla/globals.yml"]
    ctx.close()
