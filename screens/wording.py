"""Advice the engine words for the command line, said the way this screen offers it.

The probes speak to every face; where a sentence names a CLI flag for a choice the TUI offers on
screen, the screen says where that choice is instead (issue 20, defect 18)."""
from __future__ import annotations

ON_SCREEN = (
    ("(pass --server to pick another)", "(pick another on the symptom screen: esc, then tab to the list)"),
    ("pass --server to look at another one", "pick another on the symptom screen (esc, then tab to the list)"),
    ("(say --answer ssh-user=NAME to have the user you tried checked)",
     "(type the user you tried in 'SSH user you tried' on the symptom screen to have it checked)"),
    # The same sentences as wizard/locale/ko.probes.yaml says them (tests/ui/test_korean.py holds the pairs
    # to the catalog: a reworded translation fails there, not silently here).
    ("(다른 인스턴스는 --server로 지정)", "(다른 인스턴스는 증상 화면에서 선택: esc 후 tab으로 목록 이동)"),
    ("다른 인스턴스를 보려면 --server를 지정하세요", "다른 인스턴스를 보려면 증상 화면에서 고르세요(esc 후 tab으로 목록 이동)"),
    ("(시도한 사용자를 확인하려면 --answer ssh-user=NAME을 지정하세요)",
     "(시도한 사용자를 확인하려면 증상 화면의 '시도한 SSH 사용자'에 입력하세요)"),
)


def on_screen(text: str) -> str:
    for cli, tui in ON_SCREEN:
        if cli in text:
            text = text.replace(cli, tui)
    return text


def unique(lines: list[str]) -> list[str]:
    """Each line once, in first-seen order (a finding's evidence gathers every step on its path,
    and two steps may report the same reading)."""
    return list(dict.fromkeys(lines))
