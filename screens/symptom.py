"""Symptom: what the operator sees, in their words, and which instance (or IP, network) it is about."""
from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from .i18n import t
from .messages import TargetsLoaded
from .widgets.footer import Footer

# What each kind of target is read from (CloudReader method) and how it is shown (the noun is
# English, the catalog key; it is said through t()).
TARGETS = {
    "server": ("servers", "instance"),
    "floating_ip": ("floating_ips", "floating IP"),
    "network": ("networks", "network"),
    "router": ("routers", "router"),
}
ANY = "__any__"


def _tr(text: Any) -> str:
    from wizard.i18n import tr
    return tr(text)


def _target_label(kind: str, item: dict[str, Any]) -> Content:
    if kind == "floating_ip":
        name = item.get("floating_ip_address") or item.get("name") or item.get("id", "")
        extra = item.get("status", "")
    else:
        name = item.get("name") or item.get("id", "")
        extra = item.get("status", "")
    ident = str(item.get("id", ""))[:8]
    return Content.assemble((str(name), "bold"), "  ", (str(extra), "$text-warning" if extra == "ERROR" else "$text-muted"),
                            "  ", (ident, "$text-muted"))


class SymptomScreen(Screen):
    HELP = ("**Symptom:** what you see, in your words. Pick the symptom (↑↓), then `tab` to the list "
            "below to say which instance (or floating IP, network) it is about: the one in ERROR is "
            "preselected, or let the wizard choose.\n\n**Next:** `d` (or enter on the instance) walks "
            "the decision tree; `esc` goes back to the start screen; `r` reads the list again.")
    BINDINGS = [
        Binding("d", "diagnose", "Diagnose", id="symptom.diagnose", tooltip="Walk the tree for this symptom"),
        Binding("tab", "app.focus_next", "Next pane", id="symptom.next", show=False),
        Binding("r", "reload", "Reload list", id="symptom.reload", tooltip="Read the instances from the cloud again"),
        Binding("escape", "app.pop_screen", "Back", id="symptom.back", tooltip="Back to the start screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.targets: dict[str, list[dict[str, Any]]] = {}
        self.target_kind: str | None = None

    def _trees(self) -> list[Any]:
        # In the playbooks' own order (each tree's `order:`), the one the CLI's choices follow.
        from wizard.playbook import in_order
        return in_order(self.app.session.trees.values())

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="symptom-body"):
            yield Label(t("What do you see?"), classes="section-title")
            options = [Option(Content.assemble(("› ", "$text-accent"), _tr(t.symptom)), id=t.id) for t in self._trees()]
            yield OptionList(*options, id="symptom-list")
            yield Label(t("Which one is it about?"), id="target-title", classes="section-title")
            yield OptionList(id="target-list")
            yield Static("", id="target-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("Diagnose"), id="symptom-diagnose", variant="primary", compact=True,
                             tooltip=t("Walk the decision tree for this symptom"))
                # The CLI's --answer ssh-user=NAME, offered here (issue 20, defect 18).
                yield Label(t("SSH user you tried:"), id="ssh-user-label")
                yield Input(placeholder=t("optional, e.g. rocky"), id="ssh-user", compact=True, max_length=64,
                            tooltip=t("The login you tried; the wizard checks it against the image's user"))
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = t("Symptom")
        symptoms = self.query_one("#symptom-list", OptionList)
        symptoms.highlighted = 0 if symptoms.option_count else None
        symptoms.focus()
        self._show_targets()

    async def retranslate(self) -> None:
        """After a language switch: compose again (the symptoms in the new language too), keeping the
        symptom, the one it is about, the user typed and the focus."""
        symptom, target = self.symptom, self._highlighted_target()
        user = self.query_one("#ssh-user", Input).value
        focused = self.focused.id if self.focused is not None else None
        await self.recompose()
        self.sub_title = t("Symptom")
        symptoms = self.query_one("#symptom-list", OptionList)
        if symptoms.option_count:
            ids = [symptoms.get_option_at_index(i).id for i in range(symptoms.option_count)]
            symptoms.highlighted = ids.index(symptom) if symptom in ids else 0
        self.query_one("#ssh-user", Input).value = user
        self.target_kind = None
        self._show_targets()
        target_list = self.query_one("#target-list", OptionList)
        if target is not None and target_list.option_count:
            try:
                target_list.highlighted = target_list.get_option_index(target)
            except Exception:
                pass
        if focused:
            for widget in self.query(f"#{focused}"):
                widget.focus()
        else:
            symptoms.focus()

    def _highlighted_target(self) -> str | None:
        target_list = self.query_one("#target-list", OptionList)
        if target_list.highlighted is None:
            return None
        return target_list.get_option_at_index(target_list.highlighted).id

    @property
    def symptom(self) -> str | None:
        symptoms = self.query_one("#symptom-list", OptionList)
        if symptoms.highlighted is None:
            return None
        return symptoms.get_option_at_index(symptoms.highlighted).id

    @on(OptionList.OptionHighlighted, "#symptom-list")
    def _symptom_highlighted(self) -> None:
        self._show_targets()

    @on(OptionList.OptionSelected, "#symptom-list")
    def _symptom_selected(self) -> None:
        target_list = self.query_one("#target-list", OptionList)
        if target_list.display and target_list.option_count > 1:
            target_list.focus()
        else:
            self.action_diagnose()

    @on(Input.Submitted, "#ssh-user")
    def _user_submitted(self) -> None:
        self.action_diagnose()

    @on(OptionList.OptionSelected, "#target-list")
    def _target_selected(self) -> None:
        self.action_diagnose()

    def _show_targets(self) -> None:
        asks_user = self.symptom == "ssh-refused"
        self.query_one("#ssh-user").display = self.query_one("#ssh-user-label").display = asks_user
        tree = self.app.session.trees.get(self.symptom or "")
        applies = getattr(tree, "applies_to", "server") if tree else "server"
        kind = applies if applies in TARGETS else None
        title = self.query_one("#target-title", Label)
        target_list = self.query_one("#target-list", OptionList)
        status = self.query_one("#target-status", Static)
        if kind is None:
            self.target_kind = None
            title.display = target_list.display = False
            status.update(t("This check looks at the whole cloud; nothing to pick."))
            return
        title.display = target_list.display = True
        title.update(t("Which {noun} is it about?", noun=t(TARGETS[kind][1])))
        if kind == self.target_kind and kind in self.targets:
            return
        self.target_kind = kind
        if kind in self.targets:
            self._fill(kind)
        else:
            target_list.clear_options()
            status.update(t("Reading the {noun}s from the cloud…", noun=t(TARGETS[kind][1])))
            self.load_targets(kind)

    @work(thread=True, exit_on_error=False, group="targets")
    def load_targets(self, kind: str) -> None:
        session = self.app.session
        ctx = session.context(self.app.services.make_context)
        method = getattr(ctx.cloud, TARGETS[kind][0])
        self.post_message(TargetsLoaded(kind, list(method())))

    @on(TargetsLoaded)
    def _targets_loaded(self, message: TargetsLoaded) -> None:
        self.targets[message.kind] = message.items
        if message.kind == self.target_kind:
            self._fill(message.kind)

    def _fill(self, kind: str) -> None:
        items = self.targets.get(kind, [])
        # Instances in ERROR first: they are the ones a symptom is usually about.
        items = sorted(items, key=lambda i: (i.get("status") != "ERROR", str(i.get("name") or i.get("id"))))
        noun = t(TARGETS[kind][1])
        target_list = self.query_one("#target-list", OptionList)
        target_list.clear_options()
        target_list.add_option(Option(Content.styled(t("(let the wizard choose the {noun})", noun=noun), "italic"),
                                      id=ANY))
        for item in items:
            target_list.add_option(Option(_target_label(kind, item), id=str(item.get("id"))))
        target_list.highlighted = 1 if items else 0
        self.query_one("#target-status", Static).update(t("{count} {noun}(s) in the cloud.", count=len(items),
                                                          noun=noun))

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "targets":
            message = self.app.one_line(event.worker.error)
            # Once, in full (the status wraps), with the start screen's hint when it has one; no toast
            # repeating it.
            env = self.app.session.environment
            hint = next((i.hint for i in getattr(env, "items", []) if i.label == "Cloud" and i.state == "missing"
                         and i.hint), "")
            self.query_one("#target-status", Static).update(
                t("Could not read the list: {message}", message=message)
                + ("\n" + t("Hint: {hint}", hint=hint) if hint else "")
                + "\n" + t("You can still diagnose; r tries again."))
            # Forget a failed connection so r really tries again.
            self.app.session.ctx = None

    def action_reload(self) -> None:
        self.targets.pop(self.target_kind or "", None)
        self.target_kind = None
        self._show_targets()

    @on(Button.Pressed, "#symptom-diagnose")
    def _diagnose_pressed(self) -> None:
        self.action_diagnose()

    def _chosen_target(self) -> dict[str, str]:
        if self.target_kind is None:
            return {}
        target_list = self.query_one("#target-list", OptionList)
        if target_list.highlighted is None:
            return {}
        ident = target_list.get_option_at_index(target_list.highlighted).id
        if not ident or ident == ANY:
            return {}
        item = next((i for i in self.targets.get(self.target_kind, []) if str(i.get("id")) == ident), None)
        # Names read better in the runbook; the ID is used when the name is missing or shared.
        name = (item or {}).get("name")
        same = [i for i in self.targets.get(self.target_kind, []) if name and i.get("name") == name]
        return {self.target_kind: name if name and len(same) == 1 else ident}

    def action_diagnose(self) -> None:
        symptom = self.symptom
        if symptom is None:
            self.app.notify(t("Pick a symptom first."), severity="warning")
            return
        user = self.query_one("#ssh-user", Input).value.strip()
        settings = self.app.session.settings
        if symptom == "ssh-refused" and settings is not None:
            answers = getattr(settings, "answers", None)
            if isinstance(answers, dict):
                if user:
                    answers["ssh-user"] = user
                else:
                    answers.pop("ssh-user", None)
        self.app.start_diagnosis(symptom, self._chosen_target())
