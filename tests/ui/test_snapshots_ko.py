"""Korean snapshots (issue 21): the main screens (runbook and learn included) and the apply dialog in Korean at 80x24 and
120x40, settled and deterministic as the English ones (tests/ui/test_snapshots.py: animations off,
no toasts, fixed clock and paths). The test trees carry Korean too, so Hangul from a tree (the
symptoms, step titles, the finding) is laid out beside the screens' own."""
from __future__ import annotations

import pytest

from screens.modals import ConfirmApply
from wizard.i18n import set_language

from .helpers import settle, to_finished_diagnosis, to_symptoms
from .test_snapshots import SIZES, _app, _finding, _quiet


@pytest.fixture(autouse=True)
def korean():
    """What `kolla-wizard --lang ko` (or LANG=ko_KR.UTF-8) sets before the app starts."""
    set_language("ko")
    yield
    set_language("en")


@pytest.mark.parametrize("size", SIZES)
def test_start_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_symptom_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_symptoms(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_diagnosis_finished_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_finished_diagnosis(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_finding_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _finding(pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_apply_dialog_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _finding(pilot)
        pilot.app.push_screen(ConfirmApply(pilot.app.screen.finding.remedies[1]))
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_runbook_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_finished_diagnosis(pilot.app, pilot)
        await pilot.press("e")
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_learn_ko(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await _finding(pilot)
        await pilot.press("l")
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)
