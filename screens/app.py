"""The Textual app: screens over the engine's event stream. ``run_app`` is what the CLI calls."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .services import Services
from .session import Session


class WizardApp(App[int]):
    # Absolute, so a subclass defined elsewhere (tests, tools) still finds the one stylesheet.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "kolla-wizard"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, tooltip="Leave the wizard"),
        Binding("f2", "learn", "Learn", id="app.learn", tooltip="Concept pages drawn from your cloud"),
        Binding("f3", "runbook", "Runbook", id="app.runbook", show=False, tooltip="Preview and save the runbook"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.session = Session()

    def on_mount(self) -> None:
        self.theme = self.services.theme
        from .start import StartScreen
        self.push_screen(StartScreen())

    def on_unmount(self) -> None:
        self.session.close()

    # -- one line for any error, never a traceback ----------------------------------------
    def one_line(self, error: BaseException | None) -> str:
        if error is None:
            return "unknown error"
        if hasattr(error, "one_line"):
            text = error.one_line()
        else:
            text = f"internal error: {type(error).__name__}: {error} (run with --debug for details)"
        return self.services.redact(str(text).splitlines()[0] if text else type(error).__name__)

    # -- navigation -----------------------------------------------------------------------
    def open_symptoms(self) -> None:
        from .symptom import SymptomScreen
        if not self.session.ready:
            self.notify("Still getting ready; the start screen shows what is missing.", severity="warning")
            return
        for screen in self.screen_stack:
            if isinstance(screen, SymptomScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(SymptomScreen())

    def start_diagnosis(self, symptom: str, target: dict[str, str]) -> None:
        from .diagnosis import DiagnosisScreen
        self.push_screen(DiagnosisScreen(symptom, target))

    def open_finding(self, finding: Any) -> None:
        from .finding import FindingScreen
        self.push_screen(FindingScreen(finding))

    def open_learn(self, concept: str | None = None) -> None:
        from .learn import LearnScreen
        self.push_screen(LearnScreen(concept))

    def action_learn(self) -> None:
        self.open_learn(None)

    def action_runbook(self) -> None:
        from .runbook import RunbookScreen
        if isinstance(self.screen, RunbookScreen):
            return
        self.push_screen(RunbookScreen())

    def action_symptoms(self) -> None:
        self.open_symptoms()

    # -- command palette ------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Export runbook", "Preview the runbook and save it to a file", self.action_runbook)
        yield SystemCommand("Jump to symptom", "Choose a symptom to diagnose", self.action_symptoms)
        if self.session.report is not None:
            for finding in self.session.report.findings:
                yield SystemCommand(f"Finding: {finding.id}", finding.title,
                                    lambda f=finding: self.open_finding(f))
        try:
            concepts = dict(self.services.concepts())
        except Exception:
            concepts = {}
        for concept, title in concepts.items():
            yield SystemCommand(f"Learn: {title}", f"Concept page '{concept}' drawn from your cloud",
                                lambda c=concept: self.open_learn(c))


def run_app(make_settings: Callable[[], tuple[Any, Any]], *, demo: bool = False, scenario: str | None = None,
            args: Any = None) -> int:
    """Open the TUI. ``make_settings`` runs in a worker after the first paint."""
    services = Services(make_settings=make_settings, demo=demo, scenario=scenario, args=args)
    app = WizardApp(services)
    try:
        result = app.run()
    finally:
        app.session.close()   # stop the lab even if the app did not unmount cleanly
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)
