"""Korean in the TUI (issue 21): every word screens/ says has its Korean, F4 and the palette switch
the language and show the current screen again in it (its state kept), and the layout holds with
double-width Hangul at 80x24."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets._footer import FooterKey

from screens import help as help_page
from screens.diagnosis import STATUS_WORDS
from screens.finding import RESULT_STYLE, RemedyCard
from screens.i18n import LOCALE_DIR, current_language, set_language
from screens.modals import ConfirmApply, HelpModal
from screens.symptom import TARGETS
from wizard import i18n

from .fakes import make_app
from .helpers import settle, to_finished_diagnosis, to_symptoms

SCREENS_DIR = Path(__file__).resolve().parents[2] / "screens"


@pytest.fixture(autouse=True)
def _english_after():
    """The language is process-wide: every test here leaves English behind, pass or fail."""
    set_language("en")
    yield
    set_language("en")


def _screens_classes():
    import importlib
    import pkgutil

    import screens
    for mod in pkgutil.walk_packages(screens.__path__, "screens."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ == module.__name__:
                yield obj


def _literal_t_keys() -> list[tuple[str, str]]:
    """The literal first argument of every t(...) call in screens/, with where it is."""
    found = []
    for path in sorted(SCREENS_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.append((node.args[0].value, f"{path.name}:{node.lineno}"))
    return found


def _said_through_t_later() -> list[tuple[str, str]]:
    """English that screens keep as data and say through t() when shown: key descriptions and
    tooltips, help pages, the status words, the result words, the target nouns, screen names."""
    found = []
    for cls in _screens_classes():
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                found += [(binding.description, f"{cls.__name__} binding {binding.id}")]
                if binding.tooltip:
                    found += [(binding.tooltip, f"{cls.__name__} binding {binding.id} tooltip")]
        if isinstance(cls.__dict__.get("HELP"), str):
            found.append((cls.__dict__["HELP"].strip(), f"{cls.__name__}.HELP"))
        if issubclass(cls, Screen) and "HELP" in cls.__dict__:     # the help page's title names it
            found.append((cls.__name__.replace("Screen", "").replace("Modal", ""), f"{cls.__name__} name"))
    found.append((help_page.GENERAL, "help.GENERAL"))
    found += [(word, "diagnosis.STATUS_WORDS") for word in STATUS_WORDS.values()]
    found += [(word, "finding.RESULT_STYLE") for word, _style in RESULT_STYLE.values()]
    found += [(noun, "symptom.TARGETS") for _method, noun in TARGETS.values()]
    return found


def test_every_word_screens_say_has_its_korean():
    korean = i18n.catalog("ko")
    missing = [f"{where}: {english!r}" for english, where in _literal_t_keys() + _said_through_t_later()
               if english not in korean]
    assert not missing, "no Korean in screens/locale/ko.yaml for:\n" + "\n".join(missing)


def test_screens_catalog_placeholders_fit_and_agree_with_the_wizards():
    ours = i18n.read_catalog_files("ko", LOCALE_DIR)
    assert len(ours) > 200
    wizard = i18n.read_catalog_files("ko")
    for english, korean in ours.items():
        assert i18n.field_names(korean) == i18n.field_names(english), (english, korean)
        assert english not in wizard or wizard[english] == korean, \
            f"{english!r}: screens say {korean!r}, wizard/locale says {wizard[english]!r}"


def _footer(app) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def _switch(app, pilot) -> None:
    await pilot.press("f4")
    await settle(app, pilot)


async def test_f4_shows_the_start_screen_in_korean_and_back(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "Continue" in _footer(app)
        await _switch(app, pilot)
        assert current_language() == "ko"
        screen = app.screen
        assert screen.query_one(".section-title", Label).content == "진단 대상"
        assert str(screen.query_one("#start-continue", Button).label) == "계속"
        assert not screen.query_one("#start-continue", Button).disabled      # the settings were read
        assert "클라우드: homelab" in str(screen.query_one("#start-env", Static).content)
        assert screen.sub_title == "시작"
        assert {"계속", "다시 확인", "종료", "도움말"} <= set(_footer(app))
        await _switch(app, pilot)
        assert current_language() == "en"
        assert str(app.screen.query_one("#start-continue", Button).label) == "Continue"
        assert "Continue" in _footer(app)


async def test_the_app_starts_in_the_language_the_composition_root_chose(tmp_path):
    set_language("ko")      # what kolla_wizard.main does from --lang / LANG before run_app
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        assert app.screen.query_one(".section-title", Label).content == "어떤 증상이 보이나요?"
        assert "진단" in _footer(app)
        symptoms = app.screen.query_one("#symptom-list", OptionList)
        assert "인스턴스가 ERROR 상태" in str(symptoms.get_option_at_index(0).prompt)   # the tree's ko text


async def test_switching_keeps_the_symptom_screen_as_it_was(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        screen = app.screen
        screen.query_one("#symptom-list", OptionList).highlighted = 1      # fip-404: about a network
        await settle(app, pilot)
        targets = screen.query_one("#target-list", OptionList)
        targets.highlighted = 2
        chosen = targets.get_option_at_index(2).id
        await _switch(app, pilot)
        screen = app.screen
        assert screen.symptom == "fip-404"
        assert str(screen.query_one("#target-title", Label).content) == "어느 네트워크의 문제인가요?"
        targets = screen.query_one("#target-list", OptionList)
        assert str(targets.get_option_at_index(0).prompt) == "(위저드가 네트워크 선택)"
        assert targets.get_option_at_index(targets.highlighted).id == chosen
        assert str(screen.query_one("#target-status", Static).content) == "클라우드에 네트워크 2개."
        assert "유동 IP 생성이 404" in str(screen.query_one("#symptom-list", OptionList).get_option_at_index(1).prompt)


async def test_switching_on_the_diagnosis_and_the_finding_keeps_what_happened(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        await _switch(app, pilot)
        screen = app.screen
        assert str(screen.query_one("#diagnosis-status", Label).content) == "완료: 발견 사항 1건. f 열기, e 내보내기."
        assert screen.query_one("#diagnosis-findings").border_title == "발견 사항 1건: ↑↓ 선택, f 또는 enter로 열기"
        assert screen.query_one("#diagnosis-steps").border_title == "단계"
        evidence = str(screen.query_one("#diagnosis-evidence", Static).content)
        assert "결과: 장애: missing" in evidence and "호스트: compute1" in evidence
        assert len(screen.query_one("#diagnosis-steps", OptionList).options) == 6      # the walk is kept
        await pilot.press("f")
        await settle(app, pilot)
        finding = app.screen
        assert [str(label.content) for label in finding.query(".section-title")] == ["근본 원인", "근거", "조치"]
        assert [str(card.query_one(".badge", Label).content) for card in finding.query(RemedyCard)] == \
            ["영구 조치", "임시 조치", "임시 조치"]
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmApply)
        assert str(app.screen.query_one(".dialog-title", Label).content) == "이 영구 조치를 적용할까요?"
        assert {"적용", "취소"} <= set(_footer(app))
        await pilot.press("y")
        await settle(app, pilot, rounds=6)
        assert app.screen is finding
        assert str(finding.query_one("#result-0", Label).content).startswith("✔ 검증됨")
        log_lines = list(finding.query_one("#finding-apply-log").plain_lines)
        await _switch(app, pilot)
        assert str(app.screen.query_one("#result-0", Label).content).startswith("✔ Verified")
        assert app.screen.query_one("#finding-apply-log").plain_lines == log_lines
        assert app.screen.query_one("#finding-apply-log").display
        assert [str(label.content) for label in app.screen.query(".section-title")] == \
            ["Root cause", "Evidence", "Remedies"]


async def test_the_palette_offers_the_other_language(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await pilot.press(*"Language")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert current_language() == "ko"
        assert str(app.screen.query_one("#start-continue", Button).label) == "계속"
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        from textual.command import CommandInput
        assert app.screen.query_one(CommandInput).placeholder == "명령 검색…"
        await pilot.press("escape")
        await settle(app, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "언어: English" in titles and "도움말" in titles and "런북 내보내기" in titles


async def test_help_in_korean_lists_the_keys_in_korean(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        await _switch(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpModal)
        assert app.screen.title_text == "도움말: 진단"
        text = app.screen.markdown
        assert "### 이 화면의 키" in text and "| 키 | 하는 일 | 키맵 id |" in text
        assert "| `f` | 발견 사항 열기 | `diagnosis.findings` |" in text
        assert "`F4` English/한국어" in text


@pytest.mark.parametrize("where", ["start", "symptom", "diagnosis", "finding", "confirm", "runbook"])
async def test_korean_footer_keys_fit_at_80_columns(tmp_path, where):
    """Each key of the footer is shown whole: its description in double-width Hangul is measured in
    cells, and the row of keys ends inside 80 columns."""
    set_language("ko")
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        if where != "start":
            if where == "symptom":
                await to_symptoms(app, pilot)
            else:
                await to_finished_diagnosis(app, pilot)
        if where in ("finding", "confirm"):
            await pilot.press("f")
            await settle(app, pilot)
        if where == "confirm":
            app.push_screen(ConfirmApply(app.screen.finding.remedies[1]))
            await settle(app, pilot)
        if where == "runbook":
            await pilot.press("e")
            await settle(app, pilot)
        keys = list(app.screen.query(FooterKey))
        assert keys
        for key in keys:
            needed = cell_len(key.key_display) + cell_len(key.description) + 2
            assert key.region.right <= 80, (where, key.description, key.region)
            assert key.region.width >= needed - 1, (where, key.description, key.region)


def test_cli_flags_in_korean_probe_text_become_the_screen_s_own_words():
    """Where an English probe sentence names --server / --answer and the screen says where that choice
    is instead (screens/wording.py), its Korean translation is rewritten the same way."""
    from screens.wording import ON_SCREEN, on_screen
    korean = i18n.read_catalog_files("ko")
    english_fragments = [cli for cli, _tui in ON_SCREEN if cli.isascii()]
    translated = {english: text for english, text in korean.items()
                  if any(fragment in english for fragment in english_fragments)}
    assert len(translated) >= 3
    for english, text in translated.items():
        shown = on_screen(text)
        assert "--server" not in shown and "--answer" not in shown, (english, shown)
        assert "증상 화면" in shown, (english, shown)


def test_remedy_titles_lose_their_korean_durable_or_quick_prefix_beside_the_badge():
    from types import SimpleNamespace

    from screens.modals import plain_title
    assert plain_title(SimpleNamespace(title="임시 조치: {host}에 br-ex를 만들고 OVS 에이전트 재시작")) == \
        "{host}에 br-ex를 만들고 OVS 에이전트 재시작"
    assert plain_title(SimpleNamespace(title="Quick: admit SSH from 192.168.35.0/24")) == "Admit SSH from 192.168.35.0/24"


def test_the_learn_pages_are_listed_in_the_current_language():
    from screens.services import _concepts
    english = _concepts()
    set_language("ko")
    korean = _concepts()
    assert list(korean) == list(english)
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in title) for title in korean.values()), korean


async def test_f4_on_the_learn_screen_keeps_the_page_being_read(tmp_path):
    app = make_app(tmp_path, learn_page=lambda _ctx, concept, _facts: f"# {concept} page")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        topics = app.screen.query_one("#learn-topics", OptionList)
        topics.highlighted = 2
        await settle(app, pilot)
        chosen = topics.get_option_at_index(2).id
        await _switch(app, pilot)
        topics = app.screen.query_one("#learn-topics", OptionList)
        assert topics.get_option_at_index(topics.highlighted).id == chosen
        assert app.screen.sub_title == "학습"
        assert any("\uac00" <= ch <= "\ud7a3" for ch in str(topics.get_option_at_index(0).prompt))
        assert {"뒤로"} <= set(_footer(app))


def test_apply_steps_keep_a_host_name_s_case_in_korean():
    """The engine's Korean description of a step may start with the host's name: 'compute1의 ...'
    must not become 'Compute1의 ...' (the English sentence is capitalised as before)."""
    from wizard.remedies.actions import describe_action as engine_words

    from screens.modals import describe_action
    from wizard.remedies.actions import FileEdit
    action = FileEdit(host="compute1", path="/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini",
                      expected_sha256="0" * 64, new_content="x\n")
    set_language("ko")
    assert describe_action(action) == engine_words(action)
    from wizard.remedies.actions import NodeCommand
    assert describe_action(NodeCommand(host="compute1", argv=["docker", "restart", "neutron_openvswitch_agent"])) \
        == "compute1에서 실행: docker restart neutron_openvswitch_agent"
    set_language("en")
    assert describe_action(action)[:1].isupper()
