"""Korean in the trees (issue 21): every text field of every shipped playbook is ``{en, ko}``, the
Korean is Korean (Hangul) and carries exactly the English's placeholders, so a cloud name lands in
both languages and ``safeformat`` never meets a field only one language has."""
from __future__ import annotations

import re
from typing import Iterator

import pytest

from wizard import playbook, safeformat

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def text_fields(tree: playbook.Tree) -> Iterator[tuple[str, object]]:
    """(where, value) for every field of a tree a person reads."""
    yield "title", tree.title
    yield "symptom", tree.symptom
    for step in tree.steps.values():
        yield f"steps.{step.id}.title", step.title
        yield f"steps.{step.id}.why", step.why
        for outcome, branch in step.branches.items():
            for kind in ("ok", "unknown"):
                value = getattr(branch, kind)
                if value is not None:
                    yield f"steps.{step.id}.branches.{outcome}.{kind}", value
        if step.ask is not None:
            yield f"steps.{step.id}.ask.question", step.ask.question
            for choice, value in step.ask.choices.items():
                yield f"steps.{step.id}.ask.choices.{choice}", value
    for finding in tree.findings.values():
        yield f"findings.{finding.id}.title", finding.title
        yield f"findings.{finding.id}.root_cause", finding.root_cause


TREES = playbook.load_all([playbook.builtin_dir()])


@pytest.mark.parametrize("tree_id", sorted(TREES))
def test_every_text_field_has_english_and_korean(tree_id):
    problems = []
    for where, value in text_fields(TREES[tree_id]):
        if not isinstance(value, dict) or not value.get("en") or not value.get("ko"):
            problems.append(f"{where}: no ko text (write it as {{en: ..., ko: ...}})")
            continue
        if not HANGUL.search(value["ko"]) and value["ko"] != value["en"]:
            problems.append(f"{where}: the ko text has no Hangul")
        en_fields, ko_fields = set(safeformat.fields(value["en"])), set(safeformat.fields(value["ko"]))
        if en_fields != ko_fields:
            problems.append(f"{where}: placeholders differ: en {sorted(en_fields)}, ko {sorted(ko_fields)}")
    assert not problems, f"{TREES[tree_id].path}:\n" + "\n".join(problems)


def test_the_checker_fails_on_a_field_without_korean(tmp_path):
    # The test above can fail: a tree with one English-only field is reported.
    from wizard.probes.registry import registry
    source = (playbook.builtin_dir() / "triage.yaml").read_text(encoding="utf-8")
    first = source.index("title:")
    end = source.index("symptom:")
    broken = source[:first] + 'title: "English only"\n' + source[end:]
    path = tmp_path / "triage.yaml"
    path.write_text(broken, encoding="utf-8")
    tree = playbook.load_tree(path, registry())
    missing = [where for where, value in text_fields(tree) if not isinstance(value, dict) or "ko" not in value]
    assert missing == ["title"]
