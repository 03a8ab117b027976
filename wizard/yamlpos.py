"""YAML with line numbers, for file:line error messages. Safe: it composes nodes with the
SafeLoader and builds plain values with SafeConstructor; no Python objects, no tags."""
from __future__ import annotations

from typing import Any

import yaml

from .errors import ConfigError
from .i18n import t


class LDict(dict):
    """A dict that remembers the line of the mapping and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list):
    line: int = 0
    item_lines: list[int]


# libyaml's parser (PyYAML's CSafeLoader: the same safe resolver and constructor, the parser in C) reads
# a playbook or globals.yml about ten times faster than the pure-Python one, and caps nesting at 1000
# levels itself. A text it refuses is parsed again by the pure-Python loader, so an error reads the same
# (its messages and marks) whichever parser is installed.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str) -> Any:
    """The node tree of one YAML document, safe loaders only."""
    if _FAST_LOADER is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def safe_load(data: str | bytes) -> Any:
    """``yaml.safe_load``, nothing else: the house loads data with it alone (the libyaml fast path
    stays on ``compose``, which builds nodes and constructs nothing)."""
    return yaml.safe_load(data)


def top_level(text: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Only the named top-level keys of a mapping document, as ``safe_load`` would give them (the
    last of a repeated key wins, like safe_load); the rest is composed but never constructed. What
    the symptom lists read of every playbook at start-up, without building whole trees in Python."""
    node = compose(text)
    if not isinstance(node, yaml.MappingNode):
        return {}
    constructor = yaml.constructor.SafeConstructor()
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value in keys:
            out[key_node.value] = constructor.construct_object(value_node, deep=True)
    return out


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in
               ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "binary", "merge", "omap", "set", "value")}


def _convert(node: yaml.Node, constructor: yaml.constructor.SafeConstructor, where: str) -> Any:
    if node.tag not in _PLAIN_TAGS:
        # Python tags and custom tags are refused outright, even where they would be harmless.
        raise ConfigError(f"{where}:{node.start_mark.line + 1}", t("unsupported YAML value: tag {tag} is not allowed", tag=node.tag))
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        # Merge keys (<<) are flattened by SafeConstructor; do the same here.
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            # Keys stay the text that was written: YAML 1.1 would turn `yes:`/`no:`/`on:`
            # into booleans, and an outcome named "yes" must stay "yes".
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
            else:
                key = _convert(key_node, constructor, where)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConfigError(f"{where}:{key_node.start_mark.line + 1}", t("mapping keys must be plain values"))
            if key in out:
                raise ConfigError(f"{where}:{key_node.start_mark.line + 1}", t("duplicate key {key}", key=repr(key)))
            out[key] = _convert(value_node, constructor, where)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList(_convert(item, constructor, where) for item in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    return constructor.construct_object(node, deep=True)



# A few anchors referring to each other expand exponentially ("billion laughs"): a 1 KB file can
# mean 10^9 values. Count the expanded size on the node graph (memoised, so counting is cheap)
# and refuse before building anything.
MAX_EXPANDED_NODES = 1_000_000


def expanded_size(node: yaml.Node) -> int:
    memo: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = 1  # a recursive alias counts once instead of looping
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                total += size(item)
        memo[key] = total
        return total

    return size(node)

def load(text: str, where: str) -> Any:
    """Parse YAML text; errors become ConfigError('file:line', ...)."""
    if "\x00" in text:
        raise ConfigError(where, t("is not a text file (contains NUL bytes)"), t("check the path"))
    try:
        node = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{where}{line}", t("YAML syntax error: {problem}", problem=exc.problem or exc.context),
                          t("fix the file and retry")) from None
    except yaml.reader.ReaderError as exc:  # a control character: one line, with its line number
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(f"{where}:{line}", t("contains a character YAML does not allow ({character})", character=repr(exc.character)),
                          t("is this really a text file?")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(where, t("YAML error: {error}", error=exc)) from None
    except RecursionError:
        raise ConfigError(where, t("YAML nesting too deep")) from None
    if node is None:
        return None
    try:
        expanded = expanded_size(node)
    except RecursionError:
        raise ConfigError(where, t("YAML nesting too deep")) from None
    if expanded > MAX_EXPANDED_NODES:
        raise ConfigError(f"{where}:{node.start_mark.line + 1}",
                          t("YAML aliases expand to more than {limit} values (an alias bomb?)", limit=MAX_EXPANDED_NODES),
                          t("remove the nested &anchors/*aliases"))
    try:
        return _convert(node, yaml.constructor.SafeConstructor(), where)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{where}{line}", t("unsupported YAML value: {problem}", problem=exc.problem)) from None
    except RecursionError:
        raise ConfigError(where, t("YAML nesting too deep")) from None
