"""Issue 21, done when: `LANG=ko_KR.UTF-8 kolla-wizard diagnose --demo --symptom all --format markdown`
reads as Korean from title to remedies, with commands and paths unchanged.

Every prose line of that runbook carries Hangul once its code spans are taken out; fenced blocks
(diffs, commands, what was asked of the cloud) and table rows of data are left as they are."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
FENCE = re.compile(r"\s*(`{3,}|~{3,})")


def prose_without_hangul(markdown: str) -> list[str]:
    """The prose lines (outside fences, tables and code spans) that hold English words and no Hangul."""
    bad, fence = [], None
    for number, line in enumerate(markdown.splitlines(), 1):
        opened = FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        text = line.strip()
        if not text or text.startswith("|"):
            continue
        rest = CODE_SPAN.sub("", text)
        if HANGUL.search(rest) or not re.search(r"[A-Za-z]{2,}", rest):
            continue
        bad.append(f"{number}: {line}")
    return bad


def test_the_checker_tells_english_prose_from_data():
    sample = "\n".join([
        "# kolla-wizard 런북", "- **근거:** `compute01`", "Instance build fails", "```bash",
        "openstack router create r1", "```", "| a | b |", "- `bridge_mappings = physnet1:br-ex`", "",
    ])
    assert prose_without_hangul(sample) == ["3: Instance build fails"]


def _korean_demo_runbook(form: str = "markdown", lab: tuple[str, ...] = ("--demo",),
                         symptom: str = "all") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LANG"] = "ko_KR.UTF-8"
    return subprocess.run([sys.executable, "-m", "kolla_wizard", "diagnose", *lab, "--symptom", symptom,
                           "--format", form, "--no-input"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def test_korean_demo_runbook_reads_as_korean_with_commands_verbatim():
    result = _korean_demo_runbook()
    assert result.returncode == 1, result.stderr      # the seed lab's faults are found
    markdown = result.stdout
    assert markdown.startswith("# kolla-wizard 런북\n")
    bad = prose_without_hangul(markdown)
    assert not bad, "English prose in the Korean runbook:\n" + "\n".join(bad[:40])
    # the seed report's words, and the commands, keys and paths exactly as in English
    for word in ("컴퓨트 노드", "물리 네트워크 매핑", "라우터", "보안 그룹"):
        assert word in markdown, word
    for verbatim in ("bridge_mappings = physnet1:br-ex", "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini",
                     "openstack router create", "kolla-wizard diagnose --symptom"):
        assert verbatim in markdown, verbatim


def test_korean_demo_text_reads_as_korean():
    """--format text: every line but the diffs and commands (indented under their remedy) is Korean."""
    result = _korean_demo_runbook("text")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    english = [line for line in lines if line.strip() and not line.startswith("      ")
               and re.search(r"[A-Za-z]{2,}", line) and not HANGUL.search(line)]
    assert not english, "\n".join(english)
    assert any(line.startswith("      $ openstack ") for line in lines)
    assert lines[-1].startswith("발견 사항 ")


@pytest.mark.parametrize("scenario, symptom", [
    ("placement-no-room", "no-valid-host"),   # the scheduler's log, Placement's inventories
    ("mtu-too-big", "unreachable"),           # the packet's path, hop by hop
    ("galera-last-write", "cloud-down"),      # the control plane: Galera, RabbitMQ, the VIP
])
def test_the_trees_outside_all_read_as_korean_too(scenario, symptom):
    """The trees --symptom all does not walk, each on a lab scenario where it finds its fault."""
    result = _korean_demo_runbook(lab=("--lab-scenario", scenario), symptom=symptom)
    assert result.returncode == 1, result.stderr
    bad = prose_without_hangul(result.stdout)
    assert not bad, f"English prose in the Korean runbook of {symptom} on {scenario}:\n" + "\n".join(bad[:40])
