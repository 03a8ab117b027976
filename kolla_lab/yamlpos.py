"""The lab's own YAML reader with line numbers (safe: compose + SafeConstructor only).

The lab never imports other wizard modules, so this is a small independent copy of the idea."""
from __future__ import annotations

from typing import Any

import yaml


class ScenarioError(Exception):
    """One clear line: ``file:line: what is wrong``."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class LDict(dict):
    line: int = 0
    src: str = "?"
    key_lines: dict

    def line_of(self, key) -> int:
        return getattr(self, "key_lines", {}).get(str(key), self.line)


class LList(list):
    line: int = 0
    src: str = "?"
    item_lines: list

    def line_at(self, index: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if index < len(lines) else self.line


def _convert(node, constructor, where: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.src = where
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _convert(key_node, constructor, where)
            if isinstance(key, (dict, list)):
                raise ScenarioError(f"{where}:{key_node.start_mark.line + 1}", "mapping keys must be plain values")
            if key in out:
                raise ScenarioError(f"{where}:{key_node.start_mark.line + 1}", f"duplicate key {key!r}")
            out[key] = _convert(value_node, constructor, where)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList(_convert(item, constructor, where) for item in node.value)
        seq.src = where
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

def load_yaml(text: str, where: str) -> Any:
    """Parse YAML text into LDict/LList/plain values; errors become ScenarioError(file:line)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError(f"{where}:{line}", f"YAML syntax error: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a control character: one line, with its line number
        line = text[: exc.position].count("\n") + 1
        raise ScenarioError(f"{where}:{line}", f"contains a character YAML does not allow ({exc.character!r})") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}:1", f"YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{where}:1", "YAML nesting too deep") from None
    if node is None:
        return None
    try:
        expanded = expanded_size(node)
    except RecursionError:
        raise ScenarioError(f"{where}:1", "YAML nesting too deep") from None
    if expanded > MAX_EXPANDED_NODES:
        raise ScenarioError(f"{where}:{node.start_mark.line + 1}",
                            f"YAML aliases expand to more than {MAX_EXPANDED_NODES} values (an alias bomb?)")
    constructor = yaml.constructor.SafeConstructor()
    try:
        return _convert(node, constructor, where)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ScenarioError(f"{where}:{line}", f"YAML error: {exc.problem}") from None
    except RecursionError:
        raise ScenarioError(f"{where}:1", "YAML nesting too deep") from None


def plain_load(text: str) -> Any:
    """safe_load for node-side files (globals.yml etc.)."""
    return yaml.safe_load(text)
