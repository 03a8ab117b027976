"""Display width: Hangul takes two terminal columns, so padding and wrapping count columns."""
from __future__ import annotations

from wizard import textwidth


def test_width_counts_wide_characters_twice():
    assert textwidth.width("router") == 6
    assert textwidth.width("라우터") == 6
    assert textwidth.width("유동 IP") == 7
    assert textwidth.width("e\u0301") == 1  # a combining accent takes no column


def test_pad_and_truncate_by_columns():
    assert textwidth.pad("정상", 7, ">") == "   정상"
    assert textwidth.pad("OK", 7, ">") == "     OK"
    assert textwidth.pad("원인 미확인", 7) == "원인 미확인"  # never cut by padding
    cut = textwidth.truncate("컴퓨트 노드의 물리 네트워크 매핑", 12)
    assert textwidth.width(cut) <= 12 and cut.endswith("…")
    assert textwidth.truncate("short", 12) == "short"


def test_wrap_holds_hangul_at_the_given_width():
    text = ("외부 네트워크는 physnet1이라는 이름표를 쓰도록 설정되었으나, 컴퓨트 노드는 이 이름표가 어느 "
            "브릿지(br-ex)와 연결되는지 알지 못해 가상 포트 생성을 거부함.")
    lines = textwidth.wrap(text, 40, "  ", "    ")
    assert len(lines) > 2
    assert all(textwidth.width(line) <= 40 for line in lines), lines
    assert lines[0].startswith("  ") and all(line.startswith("    ") for line in lines[1:])
    # nothing lost: the words come back in order
    assert " ".join(line.strip() for line in lines) == text


def test_wrap_breaks_a_word_wider_than_the_line():
    lines = textwidth.wrap("가" * 30, 20)
    assert [textwidth.width(line) for line in lines] == [20, 20, 20]
