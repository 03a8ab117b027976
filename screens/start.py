"""Start: which cloud, which inventory and Kolla config; what was found and what is missing."""
from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Header, Label, Select, Static
from textual.worker import Worker, WorkerState

from .i18n import t
from .messages import SetupReady
from .widgets.footer import Footer

_MARK = {"found": ("✔", "$text-success"), "missing": ("✘", "$text-error"),
         "later": ("…", "$text-warning"), "info": ("•", "$text-primary")}


class StartScreen(Screen):
    HELP = ("**Start:** where the diagnosis will look. ✔ found, ✘ missing (the hint in brackets says "
            "what to do), … read later over SSH, • for your information. The cloud comes from "
            "`clouds.yaml` / `OS_CLOUD` / `OS_*` as the `openstack` CLI reads them; pick another entry "
            "in the dropdown.\n\n**Next:** `c` (or the Continue button) to choose the symptom; `r` to "
            "check again after fixing a file.")
    BINDINGS = [
        # c, not enter: enter is the cloud dropdown's own key when it has focus, which hid Continue.
        Binding("c", "continue", "Continue", id="start.continue", tooltip="Choose the symptom to diagnose"),
        Binding("r", "recheck", "Re-check", id="start.recheck", tooltip="Read clouds.yaml and the paths again"),
    ]

    error = ""   # why the last setup failed, shown in the error panel until r checks again

    def compose(self) -> ComposeResult:
        services = self.app.services
        yield Header()
        with VerticalScroll(id="start-body"):
            yield Label(t("Where the diagnosis looks"), classes="section-title")
            if services.demo:
                yield Static(t("Demo: embedded lab '{scenario}' selected. The embedded lab is a simulated Kolla "
                               "homelab on 127.0.0.1 (a controller and a compute node with the faults from the "
                               "seed report); nothing real is touched.", scenario=services.scenario),
                             id="start-lab", markup=False)
            yield Static(t("Reading the settings… starting the embedded lab…") if services.demo
                         else t("Reading the settings…"), id="start-env", markup=False)
            with Horizontal(id="start-cloud-row"):
                yield Label(t("Cloud:"), classes="field-label")
                yield Select([], prompt=t("(clouds.yaml entries)"), id="start-cloud", allow_blank=True, disabled=True)
            yield Static("", id="start-error", classes="error-panel", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("Continue"), id="start-continue", variant="primary", disabled=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._say()
        if not self.app.session.ready:
            self.setup()

    def _say(self) -> None:
        """The words compose does not write: the header, the error, what the settings showed."""
        self.sub_title = t("Start")
        self._show_error()
        if self.app.session.ready:
            self._show(self.app.session.environment)

    async def retranslate(self) -> None:
        """After a language switch: compose again in the new language, then show the same state."""
        await self.recompose()
        self._say()

    def _show_error(self) -> None:
        panel = self.query_one("#start-error", Static)
        panel.display = bool(self.error)
        if self.error:
            panel.update(t("Could not get ready: {message}\nFix the file or option named above and press r to "
                           "check again, or ctrl+q to quit.", message=self.error))
            self.query_one("#start-env", Static).update("")

    @work(thread=True, exit_on_error=False, group="setup", exclusive=True)
    def setup(self) -> None:
        services = self.app.services
        from wizard.environment import describe as default_describe
        describe = services.describe or default_describe
        session = self.app.session
        if session.settings is None:
            settings, lab = services.make_settings()
        else:
            settings, lab = session.settings, session.lab
        env = describe(settings, lab, services.scenario)
        trees = dict(services.load_trees())
        self.post_message(SetupReady(settings, lab, env, trees))

    @on(SetupReady)
    def _ready(self, message: SetupReady) -> None:
        session = self.app.session
        session.settings = message.settings
        session.lab = message.lab
        session.environment = message.environment
        session.trees = message.trees
        self._show(message.environment)

    def _show(self, env: Any) -> None:
        lines = []
        for item in env.items:
            mark, style = _MARK.get(item.state, ("•", "$text"))
            line = Content.assemble((mark, style), " ", (f"{item.shown_label}: ", "bold"), item.value)
            if item.hint:
                line = line + Content.assemble((f"  ({item.hint})", "$text-muted"))
            lines.append(line)
        self.query_one("#start-env", Static).update(Content("\n").join(lines))
        select = self.query_one("#start-cloud", Select)
        lab = self.app.session.lab
        if lab is not None:
            name = env.cloud or "lab"
            select.set_options([(t("{name} (embedded lab)", name=name), name)])
            select.value = name
            select.disabled = True
        else:
            select.set_options([(n, n) for n in env.clouds])
            select.disabled = not env.clouds
            if env.cloud in env.clouds:
                select.value = env.cloud
        button = self.query_one("#start-continue", Button)
        button.disabled = False
        button.focus()
        self.refresh_bindings()

    @on(Select.Changed, "#start-cloud")
    def _cloud_changed(self, event: Select.Changed) -> None:
        session = self.app.session
        if session.settings is not None and session.lab is None and isinstance(event.value, str):
            session.settings.os_cloud = event.value   # the operator's pick overrides OS_CLOUD

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            message = self.app.one_line(event.worker.error)
            self.error = message
            self._show_error()
            self.app.notify(message, title=t("Setup failed"), severity="error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue":
            return True if self.app.session.ready else None   # shown greyed until the settings are read
        return True

    @on(Button.Pressed, "#start-continue")
    def _continue_pressed(self) -> None:
        self.action_continue()

    def action_continue(self) -> None:
        if self.app.session.ready:
            self.app.open_symptoms()

    def action_recheck(self) -> None:
        self.error = ""
        self.query_one("#start-error").display = False
        self.query_one("#start-continue", Button).disabled = True
        self.query_one("#start-env", Static).update(t("Reading the settings…"))
        self.setup()
