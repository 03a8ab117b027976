"""Issue 20's 'done when': README's first command (kolla-wizard --demo) in a real terminal (tmux) at
80x24 reaches, applies and verifies the seed's durable fix, pressing only keys the footer shows.

Every step waits for a state on screen with a deadline; before each key the test reads the footer
on the last row and fails if that key is not there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
WIZARD = Path(sys.executable).with_name("kolla-wizard")


class Terminal:
    def __init__(self, tmp: Path) -> None:
        self.socket = str(tmp / "tmux.sock")

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True, capture_output=True,
                              text=True, timeout=20).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "w")

    def footer(self) -> str:
        lines = self.screen().rstrip("\n").splitlines()
        return lines[-1] if lines else ""

    def wait_for(self, text: str, deadline: float = 60.0) -> str:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.25)
        raise AssertionError(f"{text!r} did not appear within {deadline} s; screen:\n{self.screen()}")

    def press(self, shown: str, key: str) -> None:
        """Press ``key`` only if the footer shows it as ``shown`` (e.g. 'esc Back')."""
        end = time.monotonic() + 10
        while shown not in self.footer() and time.monotonic() < end:
            time.sleep(0.2)
        assert shown in self.footer(), f"the footer does not show {shown!r}: {self.footer()!r}"
        self.tmux("send-keys", "-t", "w", key)


def test_readme_first_command_fixes_the_seed_with_footer_keys_only(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "kolla-wizard --demo" in readme.split("```")[1], "README's first command changed"
    term = Terminal(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "TMUX"))}
    env.update({"KOLLA_WIZARD_RUNBOOK_DIR": str(tmp_path / "runbooks"), "TERM": "xterm-256color",
                "OS_CLIENT_CONFIG_FILE": str(tmp_path / "no-clouds.yaml")})
    command = f"{WIZARD} --demo; echo WIZARD-EXIT=$?; sleep 30"
    subprocess.run(["tmux", "-S", term.socket, "new-session", "-d", "-s", "w", "-x", "80", "-y", "24", command],
                   check=True, env=env, timeout=20)
    try:
        term.wait_for("✔ Cloud", 60)                      # the lab is up and the settings are read
        term.press("c Continue", "c")
        term.wait_for("What do you see?")
        term.press("d Diagnose", "d")
        term.wait_for("1 finding(s)", 120)
        term.press("f Findings", "f")
        term.wait_for("bridge-mapping-missing")
        term.press("a Apply…", "a")                       # the durable fix is the first remedy
        screen = term.wait_for("Apply this durable fix?")
        assert "Copy cmd" not in term.footer(), term.footer()
        term.press("y Apply", "y")
        screen = term.wait_for("✔ Verified", 180)
        term.press("esc Back", "Escape")                   # to the diagnosis
        term.wait_for("f Findings")
        term.press("esc Back", "Escape")                   # to the symptoms
        term.wait_for("What do you see?")
        term.press("d Diagnose", "d")                      # walk again: the fix holds
        screen = term.wait_for("Done:", 120)
        assert "no fault found" in screen and "bridge-mapping-missing" not in screen.split("Findings from")[0] \
            or "fixed (verified)" in screen, screen
        term.press("e Runbook", "e")
        term.wait_for("Not saved yet")
        term.press("^s Save", "C-s")
        term.wait_for("Saved to")
        term.press("^q Quit", "C-q")
        term.wait_for("WIZARD-EXIT=0", 30)
    finally:
        subprocess.run(["tmux", "-S", term.socket, "kill-server"], capture_output=True, timeout=20)
    books = list((tmp_path / "runbooks").glob("*.md"))
    assert len(books) == 1
    text = books[0].read_text()
    assert "## Changes applied" in text
    assert "verified (durable fix applied" in text.split("## Changes applied")[1], text
