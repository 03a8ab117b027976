"""Korean in a real terminal (issue 21): LANG=ko_KR.UTF-8 kolla-wizard --demo in tmux at 80x24 opens
in Korean (the composition root's choice reaches the TUI), double-width Hangul lays out in the
terminal's own cells, and F4 switches the screen in front to English. Every wait has a deadline."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from .test_tmux_walkthrough import WIZARD, Terminal

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def test_korean_locale_opens_the_wizard_in_korean_and_f4_switches(tmp_path):
    term = Terminal(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "TMUX", "LC_"))}
    env.update({"KOLLA_WIZARD_RUNBOOK_DIR": str(tmp_path / "runbooks"), "TERM": "xterm-256color",
                "OS_CLIENT_CONFIG_FILE": str(tmp_path / "no-clouds.yaml"), "LANG": "ko_KR.UTF-8"})
    command = f"{WIZARD} --demo; echo WIZARD-EXIT=$?; sleep 30"
    subprocess.run(["tmux", "-u", "-S", term.socket, "new-session", "-d", "-s", "w", "-x", "80", "-y", "24",
                    command], check=True, env=env, timeout=20)
    try:
        term.wait_for("✔ 클라우드", 60)                    # the lab is up, the settings read, in Korean
        term.press("c 계속", "c")
        term.wait_for("어떤 증상이 보이나요?")
        end = time.monotonic() + 10
        while "? 도움말" not in term.footer() and time.monotonic() < end:
            time.sleep(0.2)
        assert "d 진단" in term.footer() and "? 도움말" in term.footer(), term.footer()
        term.tmux("send-keys", "-t", "w", "F4")
        term.wait_for("What do you see?")
        term.press("d Diagnose", "F4")                      # and back
        term.wait_for("어떤 증상이 보이나요?")
        term.press("^q 종료", "C-q")
        term.wait_for("WIZARD-EXIT=0", 30)
    finally:
        subprocess.run(["tmux", "-S", term.socket, "kill-server"], capture_output=True, timeout=20)
