"""Learn: the concept pages (bridges, floating-IP NAT, precedence, metadata) from this cloud's data."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Markdown, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from .i18n import t
from .messages import LearnLoaded
from .widgets.footer import Footer


class LearnScreen(Screen):
    HELP = ("**Learn:** short concept pages (bridges, floating-IP NAT, Kolla's variable precedence, "
            "cloud-init) filled in with this cloud's own names and values. ↑↓ picks a page; `tab` moves "
            "to the page to scroll it.\n\n**Next:** `esc` goes back to where you were.")
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="learn.back", tooltip="Back"),
        Binding("tab", "app.focus_next", "Next pane", id="learn.next", show=False),
    ]

    def __init__(self, concept: str | None = None) -> None:
        super().__init__()
        self.concepts: dict[str, str] = {}
        self.first = concept

    def compose(self) -> ComposeResult:
        self.concepts = dict(self.app.services.concepts())
        if self.first and self.first not in self.concepts:
            self.concepts[self.first] = self.first.replace("-", " ")
        yield Header()
        with Horizontal(id="learn-body"):
            # The full title (it wraps): cut at the colon, "Floating IPs: 1:1 NAT …" lost its meaning.
            yield OptionList(*[Option(title, id=cid) for cid, title in self.concepts.items()],
                             id="learn-topics")
            with VerticalScroll(id="learn-page-box"):
                yield Markdown("", id="learn-page")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._select_first()

    async def retranslate(self) -> None:
        """After a language switch: the topics and the page again, from the one being read."""
        topics = self.query_one("#learn-topics", OptionList)
        if topics.highlighted is not None:
            self.first = topics.get_option_at_index(topics.highlighted).id
        await self.recompose()
        self._select_first()

    def _select_first(self) -> None:
        self.sub_title = t("Learn")
        topics = self.query_one("#learn-topics", OptionList)
        ids = list(self.concepts)
        if ids:
            topics.highlighted = ids.index(self.first) if self.first in ids else 0
        topics.focus()

    @on(OptionList.OptionHighlighted, "#learn-topics")
    def _topic(self, event: OptionList.OptionHighlighted) -> None:
        concept = event.option.id or ""
        self.query_one("#learn-page", Markdown).update(
            t("*Reading {title} from your cloud…*", title=self.concepts.get(concept, concept)))
        self.load(concept)

    @work(thread=True, exit_on_error=False, group="learn", exclusive=True)
    def load(self, concept: str) -> None:
        session = self.app.session
        ctx = session.ctx
        if ctx is None and session.settings is not None:
            ctx = session.context(self.app.services.make_context)
        facts = dict(getattr(ctx, "facts", {}) or {})
        self.post_message(LearnLoaded(concept, self.app.services.learn_page(ctx, concept, facts)))

    @on(LearnLoaded)
    def _loaded(self, message: LearnLoaded) -> None:
        topics = self.query_one("#learn-topics", OptionList)
        if topics.highlighted is not None and topics.get_option_at_index(topics.highlighted).id == message.concept:
            self.query_one("#learn-page", Markdown).update(message.markdown)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "learn" and event.state == WorkerState.ERROR:
            message = self.app.one_line(event.worker.error)
            self.query_one("#learn-page", Markdown).update(
                t("**This page could not be built:** {message}\n\nThe rest of the wizard works without it.",
                  message=message))
