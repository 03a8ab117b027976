"""The engine: event stream, ask fallback, transcript, and a walk of every path of every
shipped playbook (probes scripted per path; the trees themselves are the real ones)."""
from __future__ import annotations

import threading

import pytest

from wizard import playbook
from wizard.context import Context, Settings
from wizard.engine import Engine
from wizard.events import Asked, Done, FindingRaised, Problem, StepOutcome, TreeDone, TreeStarted
from wizard.evidence import Evidence, ProbeUnavailable
from wizard.playbook import parse_tree, yamlpos
from wizard.probes.registry import ProbeSpec

TREE = """\
id: t
title: T
symptom: s
start: one
steps:
  one:
    title: One
    why: w
    probe: p1
    branches:
      good: {next: two}
      bad: {finding: f-one, next: two}
  two:
    title: Two
    why: w
    probe: p2
    branches:
      up: {ok: "all fine"}
      down: {finding: f-two}
    ask:
      question: Is it up?
      command: "ssh {host} docker ps"
      choices: {up: "yes", down: "no"}
findings:
  f-one: {title: "One on {host}", root_cause: "cause one"}
  f-two: {title: Two, root_cause: "cause two"}
"""


def make_engine(p1, p2, answerer=None, answers=None):
    probes = {
        "p1": ProbeSpec("p1", p1, ("good", "bad"), "", "none"),
        "p2": ProbeSpec("p2", p2, ("up", "down"), "", "none"),
    }
    tree = parse_tree(yamlpos.load(TREE, "t.yaml"), "t.yaml", probes)
    ctx = Context(Settings(answers=answers or {}))
    engine = Engine({"t": tree}, ctx, answerer=answerer, remedy_builder=lambda c, f, i: [])
    engine._probes = probes
    return engine


def test_finding_then_continue_and_ok():
    engine = make_engine(lambda c, a, e: Evidence("bad", facts={"host": "compute01"}, observations=["saw bad"]),
                         lambda c, a, e: Evidence("up"))
    events = list(engine.run(["t"]))
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "TreeStarted" and kinds[-1] == "Done"
    findings = [e.finding for e in events if isinstance(e, FindingRaised)]
    assert [f.id for f in findings] == ["f-one"]
    assert findings[0].title == "One on compute01"
    assert findings[0].evidence == ["saw bad"]
    done = [e for e in events if isinstance(e, TreeDone)][0]
    assert done.result == "fault"
    assert engine.report.exit_code() == 1


def test_unavailable_probe_asks_and_uses_the_answer():
    def p2(c, a, e):
        raise ProbeUnavailable("compute01: SSH refused the key (add it to authorized_keys)")

    seen = []

    def answerer(asked: Asked):
        seen.append(asked)
        return "down"

    engine = make_engine(lambda c, a, e: Evidence("good", facts={"host": "comp ute;01"}), p2, answerer)
    events = list(engine.run(["t"]))
    assert seen and seen[0].command == "ssh 'comp ute;01' docker ps"
    assert seen[0].reason.startswith("compute01: SSH refused")
    assert [e.finding.id for e in events if isinstance(e, FindingRaised)] == ["f-two"]
    step = engine.report.steps[-1]
    assert step.via == "answer" and step.asked["answer"] == "down"
    assert any("taken from the operator's answer" in a for a in engine.report.assumptions)
    assert any(isinstance(e, Problem) for e in events)


def test_unavailable_probe_without_answer_is_unknown_not_a_guess():
    def p2(c, a, e):
        raise ProbeUnavailable("no SSH")

    engine = make_engine(lambda c, a, e: Evidence("good"), p2)
    events = list(engine.run(["t"]))
    assert not [e for e in events if isinstance(e, FindingRaised)]
    outcomes = [e for e in events if isinstance(e, StepOutcome)]
    assert outcomes[-1].status == "unknown"
    assert engine.report.trees[0].result == "unknown"
    # Step one ran, but the tree concluded nothing: "could not complete", never "no fault found".
    assert engine.report.exit_code() == 3


def test_nothing_useful_exits_3():
    def broken(c, a, e):
        raise ProbeUnavailable("cloud unreachable")
    engine = make_engine(broken, broken)
    list(engine.run(["t"]))
    assert engine.report.exit_code() == 3


def test_preset_answer_by_step_id():
    def p2(c, a, e):
        raise ProbeUnavailable("no SSH")
    engine = make_engine(lambda c, a, e: Evidence("good"), p2, answers={"t/two": "up"})
    list(engine.run(["t"]))
    assert engine.report.trees[0].result == "ok"


def test_probe_crash_is_contained():
    def p1(c, a, e):
        raise RuntimeError("boom")
    engine = make_engine(p1, lambda c, a, e: Evidence("up"))
    events = list(engine.run(["t"]))
    problems = [e for e in events if isinstance(e, Problem)]
    assert "probe p1 failed unexpectedly: RuntimeError: boom" in problems[0].message


def test_undeclared_outcome_is_a_problem():
    engine = make_engine(lambda c, a, e: Evidence("sideways"), lambda c, a, e: Evidence("up"))
    events = list(engine.run(["t"]))
    assert any("undeclared outcome 'sideways'" in e.message for e in events if isinstance(e, Problem))


def test_cancel_stops_the_walk():
    cancel = threading.Event()

    def p1(c, a, e):
        cancel.set()
        return Evidence("good")

    engine = make_engine(p1, lambda c, a, e: Evidence("up"))
    engine.cancel = cancel
    events = list(engine.run(["t"]))
    assert isinstance(events[-1], Done) and events[-1].report.cancelled


def test_probe_timeout_turns_into_a_problem():
    import time
    engine = make_engine(lambda c, a, e: (time.sleep(0.5), Evidence("good"))[1], lambda c, a, e: Evidence("up"))
    engine.probe_timeout = 0.05
    events = list(engine.run(["t"]))
    assert any("did not finish within" in e.message for e in events if isinstance(e, Problem))


# -- every path of every shipped playbook -----------------------------------------------------

def _paths(tree):
    """Every path from the start: a list of (step_id, outcome) pairs, with what it must raise."""
    out = []

    def walk(step_id, trail):
        step = tree.steps[step_id]
        for outcome, branch in step.branches.items():
            here = trail + [(step_id, outcome)]
            if branch.next:
                walk(branch.next, here)
            else:
                out.append(here)
    walk(tree.start, [])
    return out


SHIPPED = playbook.load_all()


@pytest.mark.parametrize("tree_id", sorted(SHIPPED))
def test_every_path_of_shipped_playbook(tree_id):
    tree = SHIPPED[tree_id]
    paths = _paths(tree)
    covered_steps, covered_branches = set(), set()
    for path in paths:
        script = list(path)

        def scripted(ctx, args, emit, _script=script):
            step_id, outcome = _script.pop(0)
            return Evidence(outcome, observations=[f"{step_id} -> {outcome}"])

        engine = Engine(SHIPPED, Context(Settings()), probe_timeout=0)
        engine._probes = {name: ProbeSpec(name, scripted, spec.outcomes, spec.summary, spec.requires, spec.args)
                          for name, spec in engine._probes.items()}
        events = list(engine.run([tree_id]))
        walked = [(e.step, e.outcome) for e in events if isinstance(e, StepOutcome) and e.tree == tree_id]
        assert walked == path, f"{tree_id}: engine walked {walked}, expected {path}"
        expected_findings = [tree.steps[s].branches[o].finding for s, o in path if tree.steps[s].branches[o].finding]
        raised = [e.finding.id for e in events if isinstance(e, FindingRaised) and e.tree == tree_id]
        assert raised == expected_findings
        for e in events:
            if isinstance(e, FindingRaised):
                assert e.finding.title and e.finding.root_cause
        covered_steps.update(s for s, _ in path)
        covered_branches.update(path)
    assert covered_steps == set(tree.steps)
    assert covered_branches == {(s.id, o) for s in tree.steps.values() for o in s.branches}
