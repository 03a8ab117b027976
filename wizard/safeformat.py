"""A formatter for playbook texts that can only look values up, never evaluate anything.

``"{server.name} on {host}"`` reads ``facts["server"]["name"]`` and ``facts["host"]``.
Attribute access, indexing with brackets, conversions and format specs are refused: a
playbook is data, and its text must not be able to run code or reach Python objects."""
from __future__ import annotations

import string
from typing import Any, Mapping

MISSING = "<unknown>"
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    pass


def fields(template: str) -> list[str]:
    """The dotted field names a template uses; raises TemplateError on anything else."""
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError(f"bad template {template!r}: {exc}") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field or conversion or spec or "[" in field or not all(
            part.replace("-", "_").isidentifier() and not part.startswith("_") for part in field.split(".")
        ):
            raise TemplateError(
                f"bad placeholder {{{field}}} in {template!r}: only {{name}} or {{name.key}} is allowed"
            )
        names.append(field)
    return names


def lookup(values: Mapping[str, Any], dotted: str) -> Any:
    current: Any = values
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return None
    return current


def render(template: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    for literal, field, _spec, _conv in _FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        value = lookup(values, field)
        if value is None:
            out.append(MISSING)
        elif isinstance(value, (list, tuple)):
            out.append(", ".join(str(v) for v in value) or "(none)")
        elif isinstance(value, Mapping):
            out.append(", ".join(f"{k}:{v}" for k, v in value.items()) or "(none)")
        else:
            out.append(str(value))
    return "".join(out)
