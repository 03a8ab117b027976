"""The help page for whatever screen is in front: its own text (``HELP``), then its keys as they are
bound right now (the operator's keymap included), with the binding ids a keymap file uses."""
from __future__ import annotations

from typing import Any

from .i18n import t

GENERAL = ("**Everywhere:** `?` or `F1` this help · `ctrl+p` command palette (this screen's actions "
           "with their keys; jump to a symptom, a finding or a concept page; export the runbook; screenshot) · "
           "`F2` concept pages · `F3` runbook · `F4` English/한국어 · `ctrl+q` quit. Nothing on the cloud "
           "changes unless you confirm one fix in the Apply dialog.")


def _name(screen: Any) -> str:
    # The screen's name as its header says it (its English is the catalog key).
    return t(getattr(screen, "HELP_TITLE", "") or type(screen).__name__.replace("Screen", "").replace("Modal", ""))


def keys_table(app: Any, screen: Any) -> str:
    rows: dict[str, list[str]] = {}
    order: list[str] = []
    for _key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.id or binding.id in ("app.help", "dialog.help"):
            continue
        shown = app.get_key_display(binding)
        if binding.id not in rows:
            rows[binding.id] = [shown, t(binding.tooltip or binding.description)]
            order.append(binding.id)
        elif shown not in rows[binding.id][0].split(" / "):
            rows[binding.id][0] += f" / {shown}"
    if not order:
        return ""
    lines = [t("| Key | What it does | Keymap id |"), "|---|---|---|"]
    lines += [f"| `{rows[i][0]}` | {rows[i][1]} | `{i}` |" for i in order]
    return "\n".join(lines)


def help_for(app: Any, screen: Any) -> tuple[str, str]:
    # HELP is written in English (the catalog key) and said in the current language here.
    text = str(getattr(screen, "HELP", "") or "").strip()
    parts = [t(text)] if text else []
    table = keys_table(app, screen)
    if table:
        parts += [t("### Keys on this screen"), table]
    parts += [t("### Everywhere"), t(GENERAL),
              t("Keys can be changed in `~/.config/kolla-wizard/keymap.yaml` (one `keymap-id: key` per "
                "line; see the README).")]
    return t("Help: {screen}", screen=_name(screen)), "\n\n".join(parts)
