"""Remedy builders take what the walk read: while a finding's remedies are built (the report), no
node file or command output the probes already read is read again over SSH (wizard/readings/memo.py).
Counted on the real transports (paramiko against the lab's sshd), every SSH command and SFTP
operation with its host."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from kolla_lab import Lab
from tests.trees.network_support import context
from wizard import engine as engine_mod
from wizard.diagnose import run_diagnosis
from wizard.transport import ssh


def diagnose_counting(monkeypatch, scenario: str, trees: list[str]):
    reads: list[tuple[str, tuple]] = []        # (phase, (host, operation, what))
    phase = threading.local()
    lock = threading.Lock()

    def record(key: tuple) -> None:
        with lock:
            reads.append((getattr(phase, "name", None) or building["name"], key))

    building = {"name": "walk"}
    real_exec, real_sftp, real_raise = ssh.SSHTransport._exec, ssh.SSHTransport._sftp_call, engine_mod.Engine._raise

    def counted_exec(self, text, timeout, stdin=None):
        record((self.name, "command", text))
        return real_exec(self, text, timeout, stdin)

    def counted_sftp(self, what, path, fn):
        record((self.name, "sftp " + what, path))
        return real_sftp(self, what, path, fn)

    def raising(self, tree, step, finding_id, evidence):
        building["name"] = f"remedies of {finding_id}"
        try:
            return (yield from real_raise(self, tree, step, finding_id, evidence))
        finally:
            building["name"] = "walk"

    monkeypatch.setattr(ssh.SSHTransport, "_exec", counted_exec)
    monkeypatch.setattr(ssh.SSHTransport, "_sftp_call", counted_sftp)
    monkeypatch.setattr(engine_mod.Engine, "_raise", raising)
    with Lab(scenario) as lab:
        ctx = context(lab)
        try:
            report, _engine = run_diagnosis(ctx, trees)
        finally:
            ctx.close()
    return report, reads


@pytest.mark.parametrize("scenario,finding", [("seed-homelab", "bridge-mapping-missing"),
                                              ("mapped-bridge-missing", "mapped-bridge-missing")])
def test_report_building_reads_nothing_the_walk_read(monkeypatch, scenario, finding):
    report, reads = diagnose_counting(monkeypatch, scenario, ["max-retries"])
    assert finding in [f.id for f in report.findings], report.problems
    assert any(r.actions for f in report.findings for r in f.remedies)   # the builders did their work
    walked = {key for phase, key in reads if phase == "walk"}
    building = [key for phase, key in reads if phase != "walk"]
    assert not [key for key in building if key in walked], building
    # nor twice while building (two builders, or the same builder twice, share one read)
    assert [key for key, n in Counter(building).items() if n > 1] == []
    # and the walk itself reads each file / runs each command on a node once
    assert [key for key, n in Counter(key for phase, key in reads if phase == "walk").items()
            if n > 1 and key[1] != "sftp stat"] == []
