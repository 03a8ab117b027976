"""Errors the operator sees as one clear line (file or host, what is wrong, what to do)."""
from __future__ import annotations


class WizardError(Exception):
    """Base for every error the wizard reports as one line instead of a traceback."""

    exit_code = 2

    def one_line(self) -> str:
        return str(self)


class ConfigError(WizardError):
    """A broken input file: clouds.yaml, globals.yml, inventory, INI, playbook, scenario.

    ``where`` is ``file`` or ``file:line``; ``hint`` says what to do about it.
    """

    def __init__(self, where: str, message: str, hint: str = "") -> None:
        self.where = where
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class PlaybookError(ConfigError):
    """A playbook that does not load or validate."""


class DiagnosisIncomplete(WizardError):
    exit_code = 3
