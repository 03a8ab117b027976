"""Messages the workers post to the UI thread (post_message is thread-safe)."""
from __future__ import annotations

import queue
from typing import Any

from textual.message import Message


class SetupReady(Message):
    """make_settings finished (the lab is up, if any) and the environment was checked."""

    def __init__(self, settings: Any, lab: Any, environment: Any, trees: Any) -> None:
        super().__init__()
        self.settings = settings
        self.lab = lab
        self.environment = environment
        self.trees = trees


class TargetsLoaded(Message):
    def __init__(self, kind: str, items: list[dict[str, Any]], error: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.items = items
        self.error = error


class EngineEventsWaiting(Message):
    """The diagnosis worker queued engine events (wizard.engine's, unchanged) for the screen to
    apply in one batch; posted once per batch, not once per event."""


class AnswerNeeded(Message):
    """The engine thread waits on ``reply`` for the operator's answer to an ask step."""

    def __init__(self, asked: Any, reply: "queue.Queue[str | None]") -> None:
        super().__init__()
        self.asked = asked
        self.reply = reply


class ApplyOutput(Message):
    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class ApplyFinished(Message):
    def __init__(self, remedy_id: str, result: Any) -> None:
        super().__init__()
        self.remedy_id = remedy_id
        self.result = result


class LearnLoaded(Message):
    def __init__(self, concept: str, markdown: str) -> None:
        super().__init__()
        self.concept = concept
        self.markdown = markdown
