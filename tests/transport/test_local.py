from __future__ import annotations

from pathlib import Path

import pytest

from wizard.transport import CommandTimeout, FileMissing, LocalTransport


def test_local_run_without_shell(tmp_path: Path):
    local = LocalTransport("deploy")
    result = local.run("echo 'a b' ; echo c")
    # No shell: the ';' is just an argument to echo.
    assert result.stdout == "a b ; echo c\n"
    assert local.run(["sh", "-c", "exit 4"]).rc == 4
    assert local.run(["no-such-binary-xyz"]).rc == 127


def test_local_timeout():
    with pytest.raises(CommandTimeout) as caught:
        LocalTransport("deploy").run(["sleep", "5"], timeout=0.5)
    assert caught.value.one_line().startswith("deploy: sleep 5 did not finish within 0.5s")


def test_local_files(tmp_path: Path):
    local = LocalTransport("deploy")
    path = tmp_path / "x.ini"
    path.write_text("a")
    path.chmod(0o600)
    local.write_file_atomic(str(path), "b")
    assert local.read_file(str(path)) == "b"
    assert path.stat().st_mode & 0o777 == 0o600
    assert local.listdir(str(tmp_path)) == ["x.ini"]
    assert local.exists(str(path)) and not local.exists(str(tmp_path / "y"))
    with pytest.raises(FileMissing):
        local.read_file(str(tmp_path / "y"))


def test_local_create_exclusive_and_remove(tmp_path: Path):
    node = LocalTransport("deploy")
    lock = tmp_path / "globals.yml.kolla-wizard.lock"
    assert node.create_exclusive(str(lock), "held 1\n") is True
    assert node.create_exclusive(str(lock), "held 2\n") is False
    assert lock.read_text() == "held 1\n"
    assert lock.stat().st_mode & 0o777 == 0o600
    node.remove(str(lock))
    node.remove(str(lock))                      # already gone: not an error
    assert not lock.exists()
