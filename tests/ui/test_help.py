"""Issue 20, defect 24: ? and F1 open a help page for the screen in front (what it is, its keys as the
keymap has them, where to go next); the keymap file is really loaded."""
from __future__ import annotations

import pytest

from screens.finding import FindingScreen
from screens.keymap import load_keymap
from screens.modals import ConfirmApply, HelpModal
from screens.start import StartScreen
from screens.symptom import SymptomScreen
from wizard.errors import ConfigError

from .fakes import make_app
from .helpers import settle, to_finished_diagnosis, to_symptoms


def _help_text(app) -> str:
    assert isinstance(app.screen, HelpModal), app.screen
    return app.screen.markdown


async def test_question_mark_and_f1_open_help_for_each_screen(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        text = _help_text(app)
        assert "Start:" in text and "`c`" in text and "start.continue" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, StartScreen)
        await to_symptoms(app, pilot)
        await pilot.press("f1")
        await settle(app, pilot)
        assert "Symptom:" in _help_text(app) and "symptom.diagnose" in _help_text(app)
        await pilot.press("f1")                 # F1 again closes it
        await settle(app, pilot)
        assert isinstance(app.screen, SymptomScreen)
        await pilot.press("d")
        await settle(app, pilot, rounds=5)
        for _ in range(50):
            if getattr(app.screen, "finished", False):
                break
            await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert "Diagnosis:" in _help_text(app) and "**Next:**" in _help_text(app)
        await pilot.press("escape")
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingScreen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert "durable" in _help_text(app) and "finding.apply" in _help_text(app)
        await pilot.press("escape")
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmApply)
        await pilot.press("question_mark")      # help on the dialog is the dialog's own
        await settle(app, pilot)
        assert "Confirm one fix" in _help_text(app) and "confirm.apply" in _help_text(app)
        assert "finding.copy" not in _help_text(app)


async def test_the_keymap_file_is_loaded_and_shown_in_help(tmp_path):
    path = tmp_path / "keymap.yaml"
    path.write_text("finding.copy: x\nstart.continue: ctrl+n\n")
    keymap = load_keymap(environ={"KOLLA_WIZARD_KEYMAP": str(path)})
    from screens.app import WizardApp
    from .fakes import make_services
    app = WizardApp(make_services(tmp_path), keymap=keymap)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert "`^n`" in _help_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert isinstance(app.screen, SymptomScreen)


@pytest.mark.parametrize("text, expected", [
    ("nope.binding: x\n", "unknown binding id 'nope.binding'"),
    ("- a\n- b\n", "must be a mapping"),
    ("finding.copy: [x\n", "not valid YAML"),
    ("finding.copy: 3\n", "the key must be text"),
])
def test_a_bad_keymap_is_one_line_naming_the_file(tmp_path, text, expected):
    path = tmp_path / "keymap.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_keymap(environ={"KOLLA_WIZARD_KEYMAP": str(path)})
    line = err.value.one_line()
    assert str(path) in line and expected in line and "\n" not in line


def test_no_keymap_file_is_fine_unless_one_was_named(tmp_path):
    assert load_keymap(environ={"XDG_CONFIG_HOME": str(tmp_path)}) == {}
    with pytest.raises(ConfigError):
        load_keymap(environ={"KOLLA_WIZARD_KEYMAP": str(tmp_path / "missing.yaml")})


def test_the_readme_keymap_example_loads(tmp_path):
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"keymap\.yaml`.*?```yaml\n(.*?)```", readme, re.S)
    assert block, "README documents the keymap file with a yaml example"
    path = tmp_path / "keymap.yaml"
    path.write_text(block.group(1))
    keymap = load_keymap(environ={"KOLLA_WIZARD_KEYMAP": str(path)})
    assert keymap and all("." in k for k in keymap)
