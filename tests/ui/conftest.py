"""UI test fixtures: the test probes are registered before any playbook loads, and the cursor
blink is frozen so snapshots are the same on every run."""
from __future__ import annotations

import pytest

from . import fake_probes  # noqa: F401  (registers the test probes and remedy)


@pytest.fixture(autouse=True)
def _reset_probe_state():
    fake_probes.reset_state()
    yield
    fake_probes.reset_state()


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch):
    from textual.widgets import Input
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None, raising=False)
    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
