"""What the app runs against, injected so tests can run without a cloud.

The CLI builds the real services (``run_app``); tests build them with a test playbook, a fake
cloud reader and a fixed clock. Every default imports its engine module lazily, so importing
``screens`` stays cheap and the first screen draws before openstacksdk or paramiko load."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

DEFAULT_CONCEPTS = {
    "bridges": "Open vSwitch bridges: br-int, br-ex, br-tun",
    "floating-ip-nat": "Floating IPs: 1:1 NAT in the router namespace",
    "precedence": "Kolla-Ansible variable precedence",
    "metadata": "cloud-init and the metadata service",
}


def _load_trees() -> Mapping[str, Any]:
    from wizard import playbook
    return playbook.load_all()


def _make_context(settings: Any) -> Any:
    from wizard.context import Context
    return Context(settings)


def _make_engine(trees: Mapping[str, Any], ctx: Any, answerer: Callable, cancel: Any) -> Any:
    from wizard.engine import Engine
    return Engine(trees, ctx, answerer=answerer, cancel=cancel)


def _apply_remedy(ctx: Any, engine: Any, finding: Any, remedy: Any, *, dry_run: bool = False,
                  emit: Callable[[str], None] = lambda _l: None, typed: str | None = None) -> Any:
    from wizard.remedies.apply import apply_remedy
    return apply_remedy(ctx, engine, finding, remedy, dry_run=dry_run, emit=emit, typed=typed)


def _learn_page(ctx: Any, concept: str, facts: Mapping[str, Any]) -> str:
    try:
        from wizard.learn import learn_page
    except ImportError:
        from .i18n import t
        title = DEFAULT_CONCEPTS.get(concept, concept)
        return t("# {title}\n\nThe explanation pages are not part of this build yet "
                 "(`wizard.learn` is missing). The runbook and the findings still say what was seen.", title=title)
    return learn_page(ctx, concept, facts)


def _concepts() -> Mapping[str, str]:
    try:
        from wizard import learn
    except ImportError:
        return DEFAULT_CONCEPTS
    concepts = getattr(learn, "CONCEPTS", None)
    if isinstance(concepts, Mapping) and concepts:
        # Each title in the current language (CONCEPTS holds the English, the catalog key).
        title = getattr(learn, "concept_title", None) or (lambda k: str(concepts[k]))
        return {str(k): title(k) for k in concepts}
    return DEFAULT_CONCEPTS


def _to_markdown(report: Any, applied: list[dict[str, Any]]) -> str:
    from wizard import runbook
    return runbook.to_markdown(report, applied=applied)


def _write_text(path: str, text: str) -> None:
    try:
        from wizard.remedies.apply import write_text_atomic
    except ImportError:
        write_text_atomic = None
    if write_text_atomic is not None:
        write_text_atomic(path, text)
        return
    # Until the engine's atomic writer lands: write beside, then rename over.
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _redact(text: str) -> str:
    from wizard.safetext import shown   # secrets masked and control characters inert
    return shown(text)


def default_runbook_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Runbooks (and palette screenshots) go to one known place, not wherever the wizard was started:
    $KOLLA_WIZARD_RUNBOOK_DIR, else ~/kolla-wizard-runbooks (created on the first save)."""
    named = environ.get("KOLLA_WIZARD_RUNBOOK_DIR")
    return Path(named).expanduser() if named else Path.home() / "kolla-wizard-runbooks"


def pick_theme(environ: Mapping[str, str] = os.environ) -> str:
    """Follow the terminal: COLORFGBG (set by many terminals) says if the background is light."""
    from textual.theme import BUILTIN_THEMES
    wanted = environ.get("KOLLA_WIZARD_THEME", "")
    if wanted in BUILTIN_THEMES:
        return wanted
    fgbg = environ.get("COLORFGBG", "")
    background = fgbg.rsplit(";", 1)[-1] if fgbg else ""
    if background in ("7", "15"):
        return "textual-light"
    return "textual-dark"


@dataclass
class Services:
    # () -> (Settings, lab or None). May take ~1 s (starts the lab); called in a worker.
    make_settings: Callable[[], tuple[Any, Any]]
    demo: bool = False
    scenario: str | None = None
    args: Any = None
    load_trees: Callable[[], Mapping[str, Any]] = _load_trees
    make_context: Callable[[Any], Any] = _make_context
    make_engine: Callable[..., Any] = _make_engine
    apply_remedy: Callable[..., Any] = _apply_remedy
    learn_page: Callable[[Any, str, Mapping[str, Any]], str] = _learn_page
    concepts: Callable[[], Mapping[str, str]] = _concepts
    to_markdown: Callable[[Any, list], str] = _to_markdown
    write_text: Callable[[str, str], None] = _write_text
    redact: Callable[[str], str] = _redact
    runbook_dir: Path = field(default_factory=default_runbook_dir)
    now: Callable[[], datetime] = datetime.now
    theme: str = field(default_factory=pick_theme)
    # (settings, lab, scenario) -> screens.environment.Environment; called in a worker.
    describe: Callable[..., Any] | None = None
