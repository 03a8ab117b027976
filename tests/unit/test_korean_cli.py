"""Language choice at the composition root, and the CLI, its help and errors in Korean."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kolla_wizard.main import choose_language, main
from wizard import i18n, runbook, textwidth
from wizard.report import Report, TreeResult

ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def run(*args, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    full_env.update(env or {}, COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "kolla_wizard", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=full_env)


@pytest.mark.parametrize(
    "argv, environ, expected",
    [
        (["--lang", "ko", "diagnose"], {"LANG": "en_US.UTF-8"}, "ko"),
        (["diagnose", "--lang=en"], {"LANG": "ko_KR.UTF-8"}, "en"),
        (["diagnose", "--demo"], {"LANG": "ko_KR.UTF-8"}, "ko"),
        (["diagnose", "--demo"], {"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),
        (["diagnose", "--lang", "fr"], {"LANG": "ko_KR.UTF-8"}, "ko"),  # the parser rejects fr itself
        (["diagnose", "--", "--lang", "ko"], {}, "en"),
    ],
)
def test_choose_language(argv, environ, expected):
    assert choose_language(argv, environ) == expected


def test_main_sets_the_language_and_rejects_an_unknown_one(capsys):
    assert main(["--lang", "ko", "diagnose", "--symptom", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert "오류" in err and "'nonsense'" in err and "--symptom" in err
    assert main(["--lang", "fr", "playbooks", "list"]) == 2
    assert "'fr'" in capsys.readouterr().err


def test_korean_help_from_the_locale_holds_at_80_columns():
    result = run("diagnose", "--help", env={"LANG": "ko_KR.UTF-8"})
    assert result.returncode == 0
    assert "사용법:" in result.stdout and "옵션:" in result.stdout
    # the flags and metavars stay as they are
    for word in ("--symptom", "--format", "--apply", "--dry-run", "REMEDY_ID", "max-retries"):
        assert word in result.stdout
    korean = [line for line in result.stdout.splitlines() if HANGUL.search(line)]
    assert len(korean) > 10
    too_wide = [line for line in korean if textwidth.width(line) > 80]
    assert not too_wide, too_wide


def test_english_stays_the_default():
    result = run("diagnose", "--symptom", "nonsense", env={"LANG": "C.UTF-8"})
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and not HANGUL.search(result.stderr)


def test_korean_cli_error_is_one_line():
    result = run("--lang", "ko", "diagnose", "--answer", "nonsense", "--demo", "--no-input")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "--answer 'nonsense'" in result.stderr and "STEP=OUTCOME" in result.stderr and HANGUL.search(result.stderr)


def _report() -> Report:
    report = Report(symptoms=["ssh-refused"], api_requests=3)
    report.trees.append(TreeResult("max-retries", "Instance build fails", "fault", ""))
    report.trees.append(TreeResult("ssh-refused", "SSH refused", "unexplained", "",
                                   unexplained={"confirmed": ["x: y"], "commands": ["openstack server show vm1"]}))
    report.trees.append(TreeResult("fip-404", "Floating IP 404", "ok", ""))
    return report


def test_text_runbook_result_column_lines_up_in_display_columns():
    i18n.set_language("ko")
    text = runbook.to_text(_report())
    heads = [line for line in text.splitlines() if line.startswith("[")]
    assert len(heads) == 3
    assert len({textwidth.width(line.split("]", 1)[0]) for line in heads}) == 1, heads
    assert "[원인 미확인]" in text and "openstack server show vm1" in text
    assert "발견 사항 0건; 원인 미확인 증상 1건; API 요청 3회." in text


def test_markdown_runbook_labels_in_korean_values_verbatim():
    i18n.set_language("ko")
    text = runbook.to_markdown(_report())
    assert text.startswith("# kolla-wizard 런북\n")
    assert "## 요약" in text and "| 트리 | 결과 | 비고 |" in text
    assert "## 원인 미확인: SSH refused" in text
    assert "openstack server show vm1" in text
    i18n.set_language("en")
    english = runbook.to_markdown(_report())
    assert english.startswith("# kolla-wizard runbook\n") and not HANGUL.search(english)


def test_no_cloud_hint_in_korean_keeps_the_flags_and_paths(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "LC_", "LANG"))}
    env.update(HOME=str(tmp_path), LANG="ko_KR.UTF-8")
    result = subprocess.run([sys.executable, "-m", "kolla_wizard", "diagnose", "--symptom", "fip-404"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "선택된 클라우드가 없습니다" in lines[0], result.stderr
    for word in ("~/.config/openstack/", "--os-cloud NAME", "OS_CLOUD", "--demo"):
        assert word in lines[0], lines[0]


def test_terminal_question_in_korean():
    import io

    from wizard.ask_prompt import terminal_answerer
    from wizard.events import Asked

    i18n.set_language("ko")
    asked = Asked("fip-404", "router-gw", "라우터에 외부 게이트웨이가 있습니까?", "openstack router show r1",
                  {"yes": "예", "no": "아니요"}, "no admin")
    err = io.StringIO()
    assert terminal_answerer(io.StringIO("7\n2\n"), err)(asked) == "no"
    shown = err.getvalue()
    assert "위저드가 직접 확인할 수 없었습니다 (no admin)" in shown
    assert "실행: openstack router show r1" in shown and "'7'은(는) 1-2 중 하나가 아닙니다" in shown


def test_playbooks_list_summaries_read_in_korean():
    """Every probe's and remedy's one-line summary (registered in English) has its Korean, and
    `playbooks list` shows it; names, outcomes and IDs stay as they are."""
    from wizard.probes.registry import registry as probes
    from wizard.remedies.registry import registry as remedies
    from wizard import i18n
    # The shipped ones: other tests register their own "(test) ..." probes in the same registries.
    summaries = {spec.summary for spec in list(probes().values()) + list(remedies().values())
                 if spec.func.__module__.startswith("wizard.")}
    assert len(summaries) > 80
    i18n.set_language("ko")
    try:
        missing = sorted(s for s in summaries if i18n.t(s) == s)
    finally:
        i18n.set_language("en")
    assert not missing, f"summaries without Korean (add them to wizard/locale/ko.summaries.yaml): {missing}"
    result = subprocess.run([sys.executable, "-m", "kolla_wizard", "--lang", "ko", "playbooks", "list"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("probe instance_port_state "))
    assert line == "probe instance_port_state [cloud] -> active, down: 인스턴스의 포트: ACTIVE이고 OVS 에이전트가 호스트에 바인딩했는가"
