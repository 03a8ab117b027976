"""Applying max-retries remedies on the seed-homelab lab over real SSH and HTTP: verified fixes
that let a new server build ACTIVE, refusal when a file changed after the preview, rollback with
the backup restored when verification fails, dry runs that change nothing, locks, and the CLI."""
from __future__ import annotations

import json
import os
import stat
import time

import pytest

from tests.trees.network_support import context
from kolla_wizard.main import main
from wizard.diagnose import run_diagnosis
from kolla_lab import Lab
from wizard.remedies.actions import FileEdit, sha256
from wizard.remedies.apply import RemedyNotFound, apply_by_id, apply_remedy, find_remedy, write_text_atomic

OVS_INI = "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini"
GLOBALS = "/etc/kolla/globals.yml"


@pytest.fixture
def seed():
    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        report, engine = run_diagnosis(ctx, ["max-retries"])
        assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
        yield lab, ctx, report, engine
        ctx.close()


def boot(ctx, name="vm-after-fix"):
    conn = ctx.cloud.conn
    net = conn.network.find_network("public1")
    image = conn.image.find_image("rocky-9")
    flavor = conn.compute.find_flavor("m1.small")
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": net.id}])
    deadline = time.monotonic() + 10
    while True:
        server = conn.compute.get_server(server.id)
        if server.status in ("ACTIVE", "ERROR") or time.monotonic() > deadline:
            return server
        time.sleep(0.05)


def rediagnose(lab):
    ctx = context(lab)
    try:
        report, _ = run_diagnosis(ctx, ["max-retries"])
    finally:
        ctx.close()
    return report


def test_before_any_fix_a_new_server_on_the_flat_network_fails(seed):
    _lab, ctx, _report, _engine = seed
    server = boot(ctx, "vm-before")
    assert server.status == "ERROR"
    assert "Exceeded maximum number of retries" in (server.fault or {}).get("message", "")


def test_quick_fix_is_verified_backed_up_and_a_new_server_builds(seed):
    lab, ctx, report, engine = seed
    node = ctx.node("compute01")
    before = node.read_file(OVS_INI)
    lines: list[str] = []
    result = apply_by_id(ctx, engine, report, "hand-edit-bridge-mapping", emit=lines.append)
    assert result.status == "verified", result.message
    assert "quick fix" in result.message
    after = node.read_file(OVS_INI)
    assert "bridge_mappings = physnet1:br-ex" in after
    [backup] = result.backup
    assert backup.startswith("compute01:") and backup.endswith(".bak")
    assert node.read_file(backup.split(":", 1)[1]) == before
    assert any("docker restart neutron_openvswitch_agent" in line for line in lines)
    assert boot(ctx).status == "ACTIVE"
    # The old failed server stays ERROR, but the tree now says the host serves the network: no finding.
    again = rediagnose(lab)
    assert again.findings == []
    assert next(t for t in again.trees if t.tree == "max-retries").result == "ok"


def test_durable_fix_is_verified_and_a_new_server_builds(seed):
    lab, ctx, report, engine = seed
    result = apply_by_id(ctx, engine, report, "enable-provider-networks", emit=lambda _l: None)
    assert result.status == "verified", result.message
    assert len(result.backup) == 2
    globals_text = ctx.deploy.read_file(GLOBALS)
    assert 'enable_neutron_provider_networks: "yes"' in globals_text
    assert "# enable_neutron_provider_networks=yes" in ctx.deploy.read_file("/etc/kolla/multinode")
    # Kolla (the lab's reconfigure) rendered the mapping and created br-ex on compute01.
    assert "physnet1:br-ex" in ctx.node("compute01").read_file(OVS_INI)
    assert boot(ctx).status == "ACTIVE"
    assert rediagnose(lab).findings == []


def test_file_changed_between_preview_and_apply_is_refused(seed):
    _lab, ctx, report, engine = seed
    edited = ctx.deploy.read_file(GLOBALS) + "# an operator edit after the preview\n"
    ctx.deploy.write_file_atomic(GLOBALS, edited)
    result = apply_by_id(ctx, engine, report, "enable-provider-networks", emit=lambda _l: None)
    assert result.status == "refused"
    assert "changed on disk since the preview; re-run the diagnosis" in result.message
    assert ctx.deploy.read_file(GLOBALS) == edited
    assert result.backup == []


def test_failed_verification_rolls_back_and_restores_the_backup(seed):
    _lab, ctx, report, engine = seed
    finding, quick = find_remedy(report, "hand-edit-bridge-mapping")
    node = ctx.node("compute01")
    before = node.read_file(OVS_INI)
    # A wrong edit (a physnet nobody uses) parses, applies, and does not fix the finding.
    wrong = before.replace("[ovs]\n", "[ovs]\nbridge_mappings = physnet9:br-ex\n")
    quick.actions[0] = FileEdit("compute01", OVS_INI, sha256(before), wrong, "ini")
    assert "br-ex" not in _lab.state.nodes["compute01"].ovs       # the quick fix creates it
    lines: list[str] = []
    result = apply_remedy(ctx, engine, finding, quick, emit=lines.append)
    assert result.status == "rolled-back", result.message
    assert "backups restored" in result.message
    assert node.read_file(OVS_INI) == before
    # The bridge and port the fix created are taken back too, newest first.
    undo = [line for line in lines if line.startswith("undoing")]
    assert undo == ["undoing on compute01: docker exec openvswitch_vswitchd ovs-vsctl --if-exists del-port br-ex veth1",
                    "undoing on compute01: docker exec openvswitch_vswitchd ovs-vsctl --if-exists del-br br-ex"]
    assert "br-ex" not in _lab.state.nodes["compute01"].ovs
    assert boot(ctx).status == "ERROR"


def test_edit_that_would_not_parse_is_never_written(seed):
    _lab, ctx, report, engine = seed
    finding, durable = find_remedy(report, "enable-provider-networks")
    before = ctx.deploy.read_file(GLOBALS)
    durable.actions[0] = FileEdit(None, GLOBALS, sha256(before), before + "broken: [unclosed\n", "yaml")
    result = apply_remedy(ctx, engine, finding, durable, emit=lambda _l: None)
    assert result.status == "refused" and "does not parse" in result.message
    assert ctx.deploy.read_file(GLOBALS) == before


def test_dry_run_shows_the_changes_and_changes_nothing(seed):
    _lab, ctx, report, engine = seed
    before = ctx.deploy.read_file(GLOBALS)
    lines: list[str] = []
    result = apply_by_id(ctx, engine, report, "enable-provider-networks", dry_run=True, emit=lines.append)
    assert result.status == "dry-run"
    text = "\n".join(lines)
    assert '+enable_neutron_provider_networks: "yes"' in text
    assert "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron" in text and "--limit" not in text
    assert ctx.deploy.read_file(GLOBALS) == before
    assert not any(name.endswith(".bak") for name in ctx.deploy.listdir("/etc/kolla"))


def test_a_live_lock_of_another_wizard_refuses(seed):
    _lab, ctx, report, engine = seed
    node = ctx.node("compute01")
    node.write_file_atomic(OVS_INI + ".kolla-wizard.lock", f"held abc other@host pid 1 at {int(time.time())}\n")
    before = node.read_file(OVS_INI)
    result = apply_by_id(ctx, engine, report, "hand-edit-bridge-mapping", emit=lambda _l: None)
    assert result.status == "refused" and "another kolla-wizard" in result.message
    assert node.read_file(OVS_INI) == before


def test_a_stale_lock_is_taken_over(seed):
    _lab, ctx, report, engine = seed
    node = ctx.node("compute01")
    node.write_file_atomic(OVS_INI + ".kolla-wizard.lock", "held abc other@host pid 1 at 1000\n")
    result = apply_by_id(ctx, engine, report, "hand-edit-bridge-mapping", emit=lambda _l: None)
    assert result.status == "verified", result.message
    assert not node.exists(OVS_INI + ".kolla-wizard.lock")      # released: our lock is removed


def test_two_wizards_racing_for_a_lock_one_wins(seed):
    """The remote lock is an exclusive create over SFTP: of two wizards (two SSH connections)
    taking the same lock at the same moment, exactly one holds it, every time."""
    import threading
    from wizard.remedies.apply import ApplyRefused, _Lock
    lab, ctx, _report, _engine = seed
    other = context(lab)
    try:
        transports = [ctx.node("compute01"), other.node("compute01")]
        for round_no in range(10):
            barrier = threading.Barrier(2)
            held: list[_Lock] = []
            refused: list[str] = []

            def take(transport):
                lock = _Lock(transport, OVS_INI)
                barrier.wait()
                try:
                    lock.acquire()
                    held.append(lock)
                except ApplyRefused as exc:
                    refused.append(exc.one_line())

            threads = [threading.Thread(target=take, args=(t,)) for t in transports]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            assert len(held) == 1 and len(refused) == 1, (round_no, refused)
            assert "another kolla-wizard" in refused[0]
            held[0].release()
            assert not transports[0].exists(OVS_INI + ".kolla-wizard.lock")
    finally:
        other.close()


def test_advice_only_remedy_is_not_applied(seed):
    _lab, ctx, report, engine = seed
    result = apply_by_id(ctx, engine, report, "use-tenant-network", emit=lambda _l: None)
    assert result.status == "refused" and "advice" in result.message


def test_unknown_remedy_id_lists_the_available_ones(seed):
    _lab, ctx, report, engine = seed
    with pytest.raises(RemedyNotFound) as err:
        apply_by_id(ctx, engine, report, "no-such-fix", emit=lambda _l: None)
    line = err.value.one_line()
    assert "enable-provider-networks" in line and "hand-edit-bridge-mapping" in line
    assert err.value.exit_code == 2


def test_cli_apply_unknown_id_exits_2_with_one_line(capsys):
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "max-retries",
                 "--apply", "no-such-fix", "--yes"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("no such remedy in this diagnosis; available:" in line for line in err)
    assert "Traceback" not in "\n".join(err)


def test_cli_apply_quick_fix_verified_exit_0(capsys):
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "max-retries",
                 "--apply", "hand-edit-bridge-mapping", "--yes", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "apply hand-edit-bridge-mapping: verified" in err
    assert [f["id"] for f in json.loads(out)["findings"]] == ["bridge-mapping-missing"]


def test_cli_apply_verified_prints_the_verified_state_not_the_pre_fix_report(capsys, tmp_path):
    """Issue 20, defects 16 and 25: after 'verified' the report is the verified state (the tree
    reads fixed, the finding is marked fixed with what proved it, no remedies to apply again) and
    the exit code is that report's, in text and in the Markdown runbook."""
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "max-retries",
                 "--apply", "hand-edit-bridge-mapping", "--yes", "--format", "text"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "apply hand-edit-bridge-mapping: verified" in err
    assert "FAULT" not in out and "FINDING " not in out, out
    assert "[  FIXED]" in out and "FIXED bridge-mapping-missing on compute01" in out, out
    assert "fixed and verified in this session" in out
    # A quick fix holds until the next deploy: the durable remedies are still printed, and only they.
    still = out.split("Still to do, so the fix survives the next kolla-ansible deploy/reconfigure:")[1]
    assert "[durable]" in still and "[quick]" not in out, out
    runbook = tmp_path / "runbook.md"
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "max-retries",
                 "--apply", "hand-edit-bridge-mapping", "--yes", "--format", "markdown", "--output", str(runbook)])
    text = runbook.read_text()
    summary = text.split("## Summary")[1].split("## Finding")[0]
    assert code == 0 and "FAULT" not in summary and "| fixed |" in summary, summary
    assert "- **Status:** fixed and verified in this session" in text
    changes = text.split("## Changes applied")[1]
    assert "['" not in changes and changes.count(".bak") == changes.count("\n- ") >= 1, changes


def test_cli_apply_without_yes_changes_nothing(capsys):
    code = main(["diagnose", "--lab-scenario", "seed-homelab", "--symptom", "max-retries",
                 "--apply", "hand-edit-bridge-mapping"])
    assert code == 2
    assert "--yes" in capsys.readouterr().err


def test_write_text_atomic_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    os.chmod(target, 0o600)
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_undo_is_derived_only_for_creations_the_wizard_surely_made():
    from wizard.remedies.actions import NodeCommand
    vsctl = ["docker", "exec", "openvswitch_vswitchd", "ovs-vsctl"]
    assert NodeCommand("c1", [*vsctl, "add-br", "br-ex"]).undo == [*vsctl, "--if-exists", "del-br", "br-ex"]
    assert NodeCommand("c1", [*vsctl, "add-port", "br-ex", "eth1"]).undo == \
        [*vsctl, "--if-exists", "del-port", "br-ex", "eth1"]
    # --may-exist may have found it there: never removed on rollback.
    assert NodeCommand("c1", [*vsctl, "--may-exist", "add-br", "br-ex"]).undo is None
    assert NodeCommand("c1", ["docker", "restart", "neutron_openvswitch_agent"]).undo is None
    assert NodeCommand("c1", ["ovs-vsctl", "add-br", "br-ex"], undo=["true"]).undo == ["true"]


def test_a_started_ovs_agent_is_proven_where_neutron_says_it_lives():
    """ovs-agent-down: node-agent alone reads "container running" as "agent down", so the check
    starts at agent-state and walks on (alive, then the agent serves the network)."""
    from tests.trees.fix_support import apply_in_order
    from wizard.playbook import trees_in_all
    with Lab("ovs-agent-down") as lab:
        run = apply_in_order(lab, trees_in_all(), ["start-ovs-agent"])
    [result] = run.applied
    assert result.status == "verified", result.message
    assert "max-retries/agent-state now says alive, then agent-mapping says serves" in result.message
    assert [f.id for f in run.after.findings] == ["instance-not-active"]   # the old ERROR server stays


def test_a_metadata_agent_start_is_not_proven_until_the_instance_reboots():
    from tests.trees.fix_support import apply_in_order
    from wizard.playbook import trees_in_all
    with Lab("metadata-unreachable") as lab:
        run = apply_in_order(lab, trees_in_all(), ["metadata-repair"])
        agents = {c.name: c.status for n in lab.state.nodes.values() for c in n.containers.values()
                  if c.name == "neutron_metadata_agent"}
    [result] = run.applied
    assert result.status == "unverified", result.message
    assert "reboot the instance (openstack server reboot " in result.message
    assert set(agents.values()) == {"running"}          # started, and not rolled back
