"""The Textual app: screens over the engine's event stream. ``run_app`` is what the CLI calls."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .help import help_for
from .i18n import LANGUAGE_NAMES, current_language, next_language, set_language, t
from .services import Services
from .session import Session


class WizardApp(App[int]):
    # Absolute, so a subclass defined elsewhere (tests, tools) still finds the one stylesheet.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "kolla-wizard"
    ENABLE_COMMAND_PALETTE = True
    # Toasts go away on their own; errors stay on screen in the panel that explains them.
    NOTIFICATION_TIMEOUT = 4
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="What this screen is, its keys, what next"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, tooltip="Leave the wizard"),
        Binding("f2", "learn", "Learn", id="app.learn", show=False, tooltip="Concept pages drawn from your cloud"),
        Binding("f3", "runbook", "Runbook", id="app.runbook", show=False, tooltip="Preview and save the runbook"),
        Binding("f4", "switch_language", "Language", id="app.language", show=False,
                tooltip="Switch between English and Korean (한국어)"),
    ]

    def __init__(self, services: Services, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.services = services
        self.session = Session()
        self.operator_keymap = dict(keymap or {})

    def on_mount(self) -> None:
        self.theme = self.services.theme
        if self.operator_keymap:
            self.set_keymap(self.operator_keymap)
        from .start import StartScreen
        self.push_screen(StartScreen())

    def on_unmount(self) -> None:
        self.session.close()

    # -- one line for any error, never a traceback ----------------------------------------
    def one_line(self, error: BaseException | None) -> str:
        if error is None:
            return t("unknown error")
        if hasattr(error, "one_line"):
            text = error.one_line()
        else:
            text = t("internal error: {kind}: {error} (run with --debug for details)",
                     kind=type(error).__name__, error=error)
        return self.services.redact(str(text).splitlines()[0] if text else type(error).__name__)

    # -- navigation -----------------------------------------------------------------------
    def open_symptoms(self) -> None:
        from .symptom import SymptomScreen
        if not self.session.ready:
            self.notify(t("Still getting ready; the start screen shows what is missing."), severity="warning")
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

    def action_help(self) -> None:
        from .modals import HelpModal
        if isinstance(self.screen, HelpModal):
            self.screen.dismiss(None)
            return
        title, markdown = help_for(self, self.screen)
        self.push_screen(HelpModal(title, markdown))

    def action_save_screenshot(self) -> None:
        """The palette's Screenshot, saved beside the runbooks; the path or the reason is shown."""
        directory = Path(self.services.runbook_dir).expanduser()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(path=str(directory))
        except OSError as exc:
            self.notify(f"{exc.filename or directory}: {exc.strerror or exc}", title=t("Screenshot not saved"),
                        severity="error", markup=False)
            return
        self.notify(t("Screenshot saved to {path}", path=path), title=t("Screenshot"), markup=False)

    # -- language ---------------------------------------------------------------------------
    async def action_switch_language(self) -> None:
        await self.switch_language(next_language())

    async def switch_language(self, language: str) -> None:
        """Speak ``language`` from now on: every screen on the stack says its words again (the
        current one at once; the Footer follows the refreshed bindings). What the diagnosis already
        wrote (findings, the log) stays in the language it was written in."""
        if language == current_language():
            return
        set_language(language)
        for screen in list(self.screen_stack):
            retranslate = getattr(screen, "retranslate", None)
            if retranslate is not None:
                await retranslate()
            screen.refresh_bindings()
        note = t("Language: {language}.", language=LANGUAGE_NAMES.get(language, language))
        if self.session.report is not None:
            note += " " + t("Findings already shown keep their words; diagnose again to read them in this language.")
        self.notify(note, title=t("Language"), markup=False)

    # -- command palette ------------------------------------------------------------------
    def action_command_palette(self) -> None:
        """Textual's palette, with its search prompt in the current language."""
        from textual.command import CommandPalette
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=t("Search for commands…"), id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # Textual's own Screenshot writes to ~/Downloads and says nothing when that is missing.
            if command.title != "Screenshot":
                # Textual's own commands in the current language too (their English is the key).
                yield command._replace(title=t(command.title), help=t(command.help))
        yield SystemCommand(t("Screenshot"), t("Save an SVG of this screen beside the runbooks (path shown)"),
                            lambda: self.set_timer(0.1, self.action_save_screenshot))
        yield SystemCommand(t("Help"), t("What this screen is, its keys and where to go next"), self.action_help)
        other = next_language()
        yield SystemCommand(t("Language: {language}", language=LANGUAGE_NAMES.get(other, other)),
                            t("Show the wizard in {language} (F4)", language=LANGUAGE_NAMES.get(other, other)),
                            self.action_switch_language)
        yield SystemCommand(t("Export runbook"), t("Preview the runbook and save it to a file"), self.action_runbook)
        yield SystemCommand(t("Jump to symptom"), t("Choose a symptom to diagnose"), self.action_symptoms)
        yield from self._screen_commands(screen)
        if self.session.report is not None:
            for finding in self.session.report.findings:
                yield SystemCommand(t("Finding: {id}", id=finding.id), finding.title,
                                    lambda f=finding: self.open_finding(f))
        try:
            concepts = dict(self.services.concepts())
        except Exception:
            concepts = {}
        for concept, title in concepts.items():
            yield SystemCommand(t("Learn: {title}", title=title), t("Concept page '{concept}' drawn from your cloud",
                                                                  concept=concept),
                                lambda c=concept: self.open_learn(c))


    def _screen_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """What the footer of the screen behind offers (Apply…, Copy cmd, Next, Cancel...), with its key
        as the keymap has it: the palette finds every action of this screen, not only the app's."""
        seen: set[str] = set()
        try:
            active = list(screen.active_bindings.values())
        except Exception:          # a screen not mounted yet has no bindings to offer
            return
        for node, binding, enabled, tooltip in active:
            if not (binding.show and enabled) or node is self or binding.action.startswith("app.") \
                    or binding.action in seen:
                continue               # the app's own (help, quit, runbook) are listed above
            seen.add(binding.action)
            yield SystemCommand(f"{t(binding.description)} ({self.get_key_display(binding)})",
                                t(tooltip or binding.tooltip or binding.description),
                                lambda node=node, action=binding.action: self.call_later(node.run_action, action))


def run_app(make_settings: Callable[[], tuple[Any, Any]], *, demo: bool = False, scenario: str | None = None,
            args: Any = None) -> int:
    """Open the TUI. ``make_settings`` runs in a worker after the first paint."""
    from .keymap import load_keymap
    keymap = load_keymap()   # a broken keymap file is one line and exit 2, before the screen opens
    services = Services(make_settings=make_settings, demo=demo, scenario=scenario, args=args)
    app = WizardApp(services, keymap=keymap)
    try:
        result = app.run()
    finally:
        app.session.close()   # stop the lab even if the app did not unmount cleanly
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)
