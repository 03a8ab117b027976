"""paramiko is loaded with invoke deferred (wizard.transport.paramiko_loader): ssh_config's
``Match exec`` must still run its command, and invoke must be the real module for everyone else."""
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("invoke")

CHECK = textwrap.dedent("""
    import sys
    from wizard.transport.ssh import paramiko
    assert "invoke" not in sys.modules or hasattr(sys.modules["invoke"], "__file__"), "stand-in left behind"
    text = 'Match exec "{cmd}"\\n  User matched\\nHost *\\n  User other\\n'
    print(paramiko.SSHConfig.from_text(text.format(cmd="true")).lookup("h")["user"])
    print(paramiko.SSHConfig.from_text(text.format(cmd="false")).lookup("h")["user"])
    import invoke
    print(invoke.__file__.endswith("__init__.py"), callable(invoke.run), hasattr(invoke, "Context"))
""")


def test_match_exec_runs_its_command_and_invoke_is_real_afterwards():
    # A fresh interpreter: in this one paramiko (and invoke) may already be loaded by the lab.
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["matched", "other", "True", "True", "True"]
