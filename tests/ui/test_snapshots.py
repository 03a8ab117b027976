"""Snapshots of the main screens at 100x30 and 80x24 (pytest-textual-snapshot; sync tests).

Deterministic: animations off, cursor blink frozen (conftest), toasts cleared before the shot,
fixed clock, fixed report start time and a fixed runbook directory."""
from __future__ import annotations

from pathlib import Path

import pytest

from .fakes import make_app
from .helpers import settle, to_finished_diagnosis, to_symptoms

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]
RUNBOOK_DIR = Path("/home/op/runbooks")


def _app(tmp_path):
    return make_app(tmp_path, answers={"agent-alive": "alive"}, runbook_dir=RUNBOOK_DIR)


async def _quiet(pilot) -> None:
    pilot.app.clear_notifications()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_start(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_symptom(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_symptoms(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_diagnosis_finished(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_finished_diagnosis(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_finding(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_finished_diagnosis(pilot.app, pilot)
        await pilot.press("f")
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_runbook(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await to_finished_diagnosis(pilot.app, pilot)
        await pilot.press("e")
        await settle(pilot.app, pilot)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=run_before)
