"""Small Pilot helpers shared by the screen tests."""
from __future__ import annotations

from typing import Any


async def settle(app: Any, pilot: Any, rounds: int = 3) -> None:
    """Let workers finish and their messages land."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def to_symptoms(app: Any, pilot: Any) -> None:
    await settle(app, pilot)
    await pilot.press("c")
    await settle(app, pilot)


async def to_finished_diagnosis(app: Any, pilot: Any, symptom_index: int = 0) -> None:
    """Start -> Symptom (the ERROR instance is preselected) -> Diagnosis, run to Done."""
    await to_symptoms(app, pilot)
    if symptom_index:
        app.screen.query_one("#symptom-list").highlighted = symptom_index
        await settle(app, pilot)
    await pilot.press("d")
    await settle(app, pilot, rounds=5)
    screen = app.screen
    for _ in range(50):
        if getattr(screen, "finished", False):
            break
        await settle(app, pilot)
    assert screen.finished, "the diagnosis did not finish"


def notifications(messages: list) -> list[str]:
    from textual.notifications import Notify
    return [m.notification.message for m in messages if isinstance(m, Notify)]


def diagnosis_screen(app: Any) -> Any:
    from screens.diagnosis import DiagnosisScreen
    found = [s for s in app.screen_stack if isinstance(s, DiagnosisScreen)]
    assert found, f"no diagnosis screen in {app.screen_stack}"
    return found[-1]


async def click_visible(app: Any, pilot: Any, selector: str) -> None:
    """Scroll a widget into view, then click it like a mouse would."""
    widget = app.screen.query_one(selector)
    widget.scroll_visible(animate=False, immediate=True)
    await pilot.pause()
    assert await pilot.click(widget), f"could not click {selector}"
    await pilot.pause()
