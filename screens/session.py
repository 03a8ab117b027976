"""What the UI remembers between screens: the objects the engine handed back, nothing derived."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    settings: Any = None
    lab: Any = None
    environment: Any = None
    trees: dict[str, Any] = field(default_factory=dict)
    ctx: Any = None
    engine: Any = None
    report: Any = None
    symptom: str | None = None
    target: dict[str, str] = field(default_factory=dict)
    applied: list[dict[str, Any]] = field(default_factory=list)
    saved_runbook: str | None = None

    @property
    def ready(self) -> bool:
        return self.settings is not None

    @property
    def findings(self) -> list[Any]:
        return list(getattr(self.report, "findings", []) or [])

    def context(self, make_context) -> Any:
        """One Context per session; a new symptom reuses its cloud cache."""
        if self.ctx is None:
            self.ctx = make_context(self.settings)
        return self.ctx

    def close(self) -> None:
        if self.ctx is not None:
            try:
                self.ctx.close()
            except Exception:
                pass
            self.ctx = None
        if self.lab is not None:
            try:
                self.lab.stop()
            except Exception:
                pass
            self.lab = None
