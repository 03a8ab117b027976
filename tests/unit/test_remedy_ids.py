"""One id names a remedy: a builder offers only the ids it declares, and a playbook naming a
remedy nobody offers is said, not dropped unseen."""
from __future__ import annotations

from types import SimpleNamespace

from wizard.findings import Finding, Remedy
from wizard.remedies.registry import _REGISTRY, build_remedies, remedy


def _finding() -> Finding:
    return Finding(id="f", tree="t", title="F", severity="critical", root_cause="r", host=None, evidence=[],
                   remedies=[], learn=None, step="s")


def _offer(*ids):
    return lambda _ctx, _finding: [Remedy(id=i, kind="command", durable=True, title=i, explain="") for i in ids]


def test_declared_ids_and_numbered_repeats_pass_quietly():
    remedy("test-declared", summary="t", also=("test-declared-quick",))(_offer("test-declared", "test-declared-2",
                                                                              "test-declared-quick"))
    try:
        ctx = SimpleNamespace(problems=[])
        built = build_remedies(ctx, _finding(), ("test-declared",))
        assert [r.id for r in built] == ["test-declared", "test-declared-2", "test-declared-quick"]
        assert ctx.problems == []
    finally:
        _REGISTRY.pop("test-declared")


def test_an_undeclared_id_is_a_problem_of_the_run():
    remedy("test-sneaky", summary="t")(_offer("something-else"))
    try:
        ctx = SimpleNamespace(problems=[])
        built = build_remedies(ctx, _finding(), ("test-sneaky",))
        assert [r.id for r in built] == ["something-else"]     # still offered: hiding it would be worse
        assert ctx.problems == ["t/f: remedy builder test-sneaky offered 'something-else', an id it does not "
                                "declare (add it to also= in its @remedy)"]
    finally:
        _REGISTRY.pop("test-sneaky")


def test_a_remedy_nobody_offers_is_said():
    ctx = SimpleNamespace(problems=[])
    assert build_remedies(ctx, _finding(), ("no-such-remedy",)) == []
    assert ctx.problems == ["t/f: the playbook names remedy 'no-such-remedy', which no builder offers"]
