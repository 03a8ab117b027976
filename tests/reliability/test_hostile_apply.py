"""Issue 15, class 4: apply is atomic as a whole and an edit keeps what it does not change. The
remedy runs through wizard.remedies.apply against a real OpenSSH sshd (paramiko SFTP) and the local
transport, on real files: a full tmpfs for ENOSPC (a write failure at the transport boundary where
mount is not allowed), Ctrl-C in the middle, a 0600 file owned by someone else, a symlinked
globals.yml, bytes that are not UTF-8, a UTF-8 BOM with CRLF line endings, a re-check that meets a
fault the diagnosis had not reported."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.sshd import make_server, sshd_available
from wizard.findings import Finding, Remedy
from wizard.remedies._edits import file_edit, set_yaml_scalar
from wizard.remedies.apply import apply_remedy
from wizard.transport import SSHPool
from wizard.transport.base import TransportError
from wizard.transport.local import LocalTransport

pytestmark = pytest.mark.skipif(not sshd_available(), reason="needs OpenSSH sshd")
NOBODY = 65534
KEY = "enable_neutron_provider_networks"


@pytest.fixture(scope="module")
def sftp_node(tmp_path_factory):
    root = tmp_path_factory.mktemp("sshd")
    server = make_server(root / "server")
    server.start()
    known = server.write_known_hosts(root / "known_hosts")
    config = root / "ssh_config"
    config.write_text(server.ssh_config_block("node1", known_hosts=known))
    pool = SSHPool(ssh_config=config, use_agent=False)
    try:
        yield pool.transport("node1")
    finally:
        pool.close()
        server.stop()


@pytest.fixture(params=["sftp", "local"])
def node(request, sftp_node):
    return sftp_node if request.param == "sftp" else LocalTransport()


def ctx_for(node):
    return SimpleNamespace(deploy=node, node=lambda host: node, facts={}, refresh=lambda: None)


def finding_with(*edits, verify_after: str | None = "the next boot") -> tuple[Finding, Remedy]:
    remedy = Remedy("edit-files", "file_edit", True, "Edit", "edits", actions=list(edits), verify_after=verify_after)
    return Finding("fault-x", "max-retries", "fault", "critical", "cause", None, [], [remedy], None, "step-x"), remedy


def edit_of(path: Path, decoded: str, new: str):
    return file_edit(None, str(path), decoded, new, "text")


def read_decoded(node, path: Path) -> str:
    return node.read_file(str(path))


def backups_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".kolla-wizard-*.bak"))


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (real ENOSPC); None where mount is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_enospc_on_the_second_backup_restores_the_first(node, small_disk, tmp_path, case, monkeypatch):
    disk = small_disk or tmp_path
    first, second = disk / "globals.yml", disk / "multinode"
    first.write_text("a: 1\n")
    second.write_text("x" * 100_000 + "\n")
    if small_disk is not None:
        (disk / "filler").write_bytes(b"\0" * 90_000)      # what is left fits the first file, not the second's backup
    else:   # no mount here: the same failure at the transport boundary
        real = type(node).write_file_atomic

        def full(self, path, content, **kw):
            if str(path).startswith(str(second) + ".kolla-wizard-"):
                raise TransportError(self.name, f"cannot write {path}: No space left on device")
            return real(self, path, content, **kw)
        monkeypatch.setattr(type(node), "write_file_atomic", full)
    before = first.read_bytes(), second.read_bytes()
    finding, remedy = finding_with(edit_of(first, "a: 1\n", "a: 2\n"),
                                   edit_of(second, second.read_text(), second.read_text() + "y\n"))
    result = apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    assert result.status == "failed" and "restored" in result.message
    assert (first.read_bytes(), second.read_bytes()) == before
    how = "tmpfs of 256 KiB" if small_disk is not None else "write failure at the transport boundary"
    case.record("hostile", f"apply: ENOSPC backing up the 2nd of 2 files ({how}), {node.name}",
                f"status failed, '{result.message[:90]}', both files as before")


def test_ctrl_c_during_apply_restores_what_was_written(node, tmp_path, case, monkeypatch):
    first, second = tmp_path / "globals.yml", tmp_path / "multinode"
    first.write_text("a: 1\n")
    second.write_text("b: 1\n")
    real = type(node).write_file_atomic
    pressed = []

    def interrupted(self, path, content, **kw):
        if str(path) == str(second) and not pressed:
            pressed.append(True)       # the operator presses Ctrl-C once, while the 2nd file is written
            raise KeyboardInterrupt
        return real(self, path, content, **kw)
    monkeypatch.setattr(type(node), "write_file_atomic", interrupted)
    finding, remedy = finding_with(edit_of(first, "a: 1\n", "a: 2\n"), edit_of(second, "b: 1\n", "b: 2\n"))
    with pytest.raises(KeyboardInterrupt):
        apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    assert first.read_text() == "a: 1\n" and second.read_text() == "b: 1\n"
    case.record("hostile", f"apply: Ctrl-C while writing the 2nd file, {node.name}",
                "KeyboardInterrupt goes on (CLI: 'interrupted', exit 3); the 1st file restored")


def test_backup_and_rewrite_keep_mode_and_owner(node, tmp_path, case):
    target = tmp_path / "passwords-like.yml"
    target.write_text(f'{KEY}: "no"\n')
    os.chmod(target, 0o600)
    os.chown(target, NOBODY, NOBODY)
    text = read_decoded(node, target)
    finding, remedy = finding_with(edit_of(target, text, set_yaml_scalar(text, KEY, "yes", "c")))
    result = apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    assert result.status == "unverified"
    backup = backups_of(target)[0]
    for path in (target, backup):
        st = path.stat()
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o600, NOBODY, NOBODY), path
    case.record("hostile", f"apply: a 0600 file owned by nobody, {node.name}",
                "file and backup: mode 0600, owner nobody:nobody (was a 0644 root-owned backup)")


def test_rewrite_writes_through_a_symlink(node, tmp_path, case):
    real_file = tmp_path / "kolla-config" / "globals.yml"
    real_file.parent.mkdir()
    real_file.write_text(f'{KEY}: "no"\n')
    link = tmp_path / "globals.yml"
    link.symlink_to(real_file)
    text = read_decoded(node, link)
    finding, remedy = finding_with(edit_of(link, text, set_yaml_scalar(text, KEY, "yes", "c")))
    apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    assert link.is_symlink() and os.readlink(link) == str(real_file)
    assert real_file.read_text() == f'{KEY}: "yes"\n'
    case.record("hostile", f"apply: globals.yml is a symlink, {node.name}",
                "the link stays a link; its target has the new content")


def test_bytes_that_are_not_utf8_survive(node, tmp_path, case):
    target = tmp_path / "globals.yml"
    original = b"# caf\xe9 \xff\xfe comment\n" + f'{KEY}: "no"\n'.encode() + b"tail: \x80\n"
    target.write_bytes(original)
    text = read_decoded(node, target)
    finding, remedy = finding_with(edit_of(target, text, set_yaml_scalar(text, KEY, "yes", "c")))
    apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    assert target.read_bytes() == original.replace(b'"no"', b'"yes"')
    assert backups_of(target)[0].read_bytes() == original
    case.record("hostile", f"apply: Latin-1 and stray bytes in globals.yml, {node.name}",
                "file: only the edited line differs, every other byte kept; backup byte-identical (was U+FFFD)")


def test_bom_and_crlf_do_not_hide_the_first_key(node, tmp_path, case):
    target = tmp_path / "globals.yml"
    original = "\ufeff".encode() + f'{KEY}: "no"\r\nkolla_base_distro: "rocky"\r\n'.encode()
    target.write_bytes(original)
    text = read_decoded(node, target)
    finding, remedy = finding_with(edit_of(target, text, set_yaml_scalar(text, KEY, "yes", "c")))
    apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    data = target.read_bytes()
    assert data == "\ufeff".encode() + f'{KEY}: "yes"\r\nkolla_base_distro: "rocky"\r\n'.encode()
    assert data.count(KEY.encode()) == 1
    case.record("hostile", f"apply: globals.yml with a UTF-8 BOM and CRLF, the key on line 1, {node.name}",
                "the key replaced in place (no duplicate appended), BOM and CRLF kept")


def test_crlf_file_gets_crlf_on_added_lines(node, tmp_path, case):
    target = tmp_path / "globals.yml"
    target.write_bytes(b'kolla_base_distro: "rocky"\r\n')
    text = read_decoded(node, target)
    finding, remedy = finding_with(edit_of(target, text, set_yaml_scalar(text, KEY, "yes", "c")))
    apply_remedy(ctx_for(node), None, finding, remedy, emit=lambda line: None)
    data = target.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") == 3
    case.record("hostile", f"apply: a CRLF globals.yml gets two new lines, {node.name}", "every line ends CRLF")


class _Walk:
    def __init__(self, others):
        self.first, self.path, self.again = SimpleNamespace(outcome="ok"), [("step-x", "ok")], False
        self.others, self.ended = others, True


def test_a_new_fault_on_the_recheck_is_not_verified(tmp_path, case):
    node = LocalTransport()
    target = tmp_path / "globals.yml"
    target.write_text("a: 1\n")
    finding, remedy = finding_with(edit_of(target, "a: 1\n", "a: 2\n"), verify_after=None)
    for others, expect in (([], "verified"), (["fault-never-reported"], "rolled-back"), (["fault-x-reported"], "verified")):
        engine = SimpleNamespace(verify_walk=lambda *a, o=others, **kw: _Walk(o),
                                 report=SimpleNamespace(findings=[SimpleNamespace(id="fault-x-reported")]))
        result = apply_remedy(ctx_for(node), engine, finding, remedy, emit=lambda line: None)
        assert result.status == expect, (others, result.message)
        if expect == "rolled-back":
            assert target.read_text() == "a: 1\n"
        target.write_text("a: 1\n")
    case.record("hostile", "apply: the re-check walk raises a fault the diagnosis had not reported",
                "rolled-back, file restored (a fault already reported still lets the fix count as verified)")
