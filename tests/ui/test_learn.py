"""Learn screen: concept pages built by the engine from this cloud's facts; absent module handled."""
from __future__ import annotations

import sys

from screens.learn import LearnScreen
from screens.services import _learn_page

from .fakes import make_app
from .helpers import settle


async def test_pages_come_from_learn_page_with_the_sessions_facts(tmp_path):
    seen = []

    def learn_page(ctx, concept, facts):
        seen.append((concept, dict(facts)))
        return f"# {concept}\n\nOn your cloud, **{facts.get('host', 'no host yet')}** carries br-ex."

    app = make_app(tmp_path, learn_page=learn_page,
                   concepts=lambda: {"bridges": "OVS bridges", "floating-ip-nat": "Floating-IP NAT"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app.session.ctx = app.services.make_context(app.session.settings)
        app.session.ctx.facts["host"] = "compute1"
        await pilot.press("f2")
        await settle(app, pilot)
        assert isinstance(app.screen, LearnScreen)
        page = app.screen.query_one("#learn-page")
        assert "compute1" in page.source and page.source.startswith("# bridges")
        await pilot.press("down")
        await settle(app, pilot)
        assert page.source.startswith("# floating-ip-nat")
        assert [c for c, _ in seen] == ["bridges", "floating-ip-nat"]
        assert seen[0][1]["host"] == "compute1"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LearnScreen)


async def test_a_failing_page_says_so_in_place(tmp_path):
    def learn_page(ctx, concept, facts):
        raise RuntimeError("boom")

    app = make_app(tmp_path, learn_page=learn_page, concepts=lambda: {"metadata": "Metadata"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app.open_learn("metadata")
        await settle(app, pilot)
        source = app.screen.query_one("#learn-page").source
        assert "could not be built" in source and "RuntimeError: boom" in source
        assert app.is_running


def test_missing_learn_module_gives_a_short_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "wizard.learn", None)    # import now raises ImportError
    text = _learn_page(None, "precedence", {})
    assert text.startswith("# Kolla-Ansible variable precedence")
    assert "not part of this build" in text


def test_the_learn_list_names_the_pages_in_the_chosen_language():
    # wizard.learn keeps its titles in English (the catalog key); the list says them in Korean.
    from screens.services import _concepts
    from wizard import i18n
    from wizard.learn import CONCEPTS

    before = i18n.current_language()
    try:
        i18n.set_language("ko")
        korean = dict(_concepts())
        i18n.set_language("en")
        english = dict(_concepts())
    finally:
        i18n.set_language(before)
    assert english == CONCEPTS
    assert korean["fip-nat"] == "유동 IP: 라우터 네임스페이스 안의 1:1 NAT"
    assert korean["precedence"] == "Kolla-Ansible 변수 우선순위: 어떤 설정이 이기고, 왜 그런가"
    assert list(korean) == list(CONCEPTS)
