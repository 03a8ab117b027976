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


# -- the symptom rule: never "ok" while a confirmed symptom stands unexplained ----------------

CONFIRMING = TREE.replace("good: {next: two}", "good: {next: two, confirms_symptom: true}") + """\
unexplained:
  commands: ["nc -vz -w 3 {address} 22", "openstack port show {port.id}"]
"""


def make_confirming(p1, p2, tree_text=CONFIRMING):
    probes = {
        "p1": ProbeSpec("p1", p1, ("good", "bad"), "", "none"),
        "p2": ProbeSpec("p2", p2, ("up", "down"), "", "none"),
    }
    tree = parse_tree(yamlpos.load(tree_text, "t.yaml"), "t.yaml", probes)
    engine = Engine({"t": tree}, Context(Settings()), remedy_builder=lambda c, f, i: [])
    engine._probes = probes
    return engine


def test_confirmed_symptom_with_nothing_explaining_is_unexplained_not_ok():
    engine = make_confirming(lambda c, a, e: Evidence("good", facts={"address": "192.0.2.7", "port": {"id": "p 1"}},
                                                      observations=["port 22: TIMEOUT"]),
                             lambda c, a, e: Evidence("up", observations=["it is up"]))
    events = list(engine.run(["t"]))
    done = [e for e in events if isinstance(e, TreeDone)][0]
    assert done.result == "unexplained" and "no check explains it" in done.message
    result = engine.report.trees[0]
    assert result.unexplained["confirmed"] == ["One: good (port 22: TIMEOUT)"]
    assert result.unexplained["ruled_out"] == ["Two: up"]
    assert result.unexplained["commands"] == ["nc -vz -w 3 192.0.2.7 22", "openstack port show 'p 1'"]
    assert engine.report.exit_code() == 1
    assert engine.report.to_dict()["trees"][0]["unexplained"]["commands"][1] == "openstack port show 'p 1'"


def test_confirmed_symptom_explained_by_a_finding_is_a_fault():
    engine = make_confirming(lambda c, a, e: Evidence("good"), lambda c, a, e: Evidence("down"))
    list(engine.run(["t"]))
    assert engine.report.trees[0].result == "fault" and engine.report.trees[0].unexplained is None


def test_a_finding_that_does_not_explain_the_symptom_leaves_it_unexplained():
    text = CONFIRMING.replace("f-two: {title: Two, root_cause: \"cause two\"}",
                              "f-two: {title: Two, root_cause: \"cause two\", explains_symptom: false}")
    engine = make_confirming(lambda c, a, e: Evidence("good"), lambda c, a, e: Evidence("down"), text)
    list(engine.run(["t"]))
    assert [f.id for f in engine.report.findings] == ["f-two"]       # still reported
    assert engine.report.trees[0].result == "unexplained"
    assert engine.report.trees[0].unexplained["ruled_out"] == ["Two: down (a fault, but not why the symptom stands)"]
    assert engine.report.exit_code() == 1


def test_a_step_that_cannot_run_after_the_symptom_is_confirmed_is_listed_not_checked():
    def p2(c, a, e):
        raise ProbeUnavailable("compute01: SSH refused the key")
    engine = make_confirming(lambda c, a, e: Evidence("good"), p2)
    list(engine.run(["t"]))
    result = engine.report.trees[0]
    assert result.result == "unexplained"
    assert "compute01: SSH refused the key" in result.unexplained["not_checked"]
    assert engine.report.exit_code() == 1      # not 3: the symptom itself was confirmed


def test_an_ok_branch_that_explains_the_symptom_may_end_ok():
    text = CONFIRMING.replace('up: {ok: "all fine"}', 'up: {ok: "fixed since", explains_symptom: true}')
    engine = make_confirming(lambda c, a, e: Evidence("good"), lambda c, a, e: Evidence("up"), text)
    list(engine.run(["t"]))
    assert engine.report.trees[0].result == "ok" and engine.report.exit_code() == 0


def test_unexplained_trees_hand_on_and_are_settled_by_the_tree_that_explains():
    follow = """\
id: u
title: U
symptom: s
start: one
steps:
  one:
    title: Hop
    why: w
    probe: p2
    branches:
      up: {ok: "fine"}
      down: {finding: hop-down}
findings:
  hop-down: {title: Hop down, root_cause: "the hop"}
"""
    answers = ["up", "down"]      # p2 answers "up" in t (nothing found) and "down" in u (the hop)
    probes = {"p1": ProbeSpec("p1", lambda c, a, e: Evidence("good"), ("good", "bad"), "", "none"),
              "p2": ProbeSpec("p2", lambda c, a, e: Evidence(answers.pop(0)), ("up", "down"), "", "none")}
    first = parse_tree(yamlpos.load(CONFIRMING + "  run: [u]\n", "t.yaml"), "t.yaml", probes)
    second = parse_tree(yamlpos.load(follow, "u.yaml"), "u.yaml", probes)
    engine = Engine({"t": first, "u": second}, Context(Settings()), remedy_builder=lambda c, f, i: [])
    engine._probes = probes
    events = list(engine.run(["t"]))
    dones = [(e.tree, e.result) for e in events if isinstance(e, TreeDone)]
    assert dones == [("t", "unexplained"), ("u", "fault")]
    assert [(t.tree, t.result) for t in engine.report.trees] == [("t", "fault"), ("u", "fault")]
    assert engine.report.trees[0].message == "explained in u: hop-down"


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
    confirming_paths: list = []
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
        # The symptom rule: a path through a confirming branch that no finding or explaining ok
        # branch accounts for never ends "ok"; diagnose exits non-zero.
        branches = [tree.steps[s].branches[o] for s, o in path]
        if any(b.confirms_symptom for b in branches):
            explained = any(b.explains_symptom or (b.finding and tree.findings[b.finding].explains_symptom)
                            for b in branches)
            result = next(t for t in engine.report.trees if t.tree == tree_id)
            assert result.result == ("fault" if explained else "unexplained") or (
                explained and result.result == "ok" and branches[-1].explains_symptom), (tree_id, path, result)
            if not explained:
                assert result.unexplained["commands"] and engine.report.exit_code() == 1
                confirming_paths.append(path)
        covered_steps.update(s for s, _ in path)
        covered_branches.update(path)
    assert covered_steps == set(tree.steps)
    assert covered_branches == {(s.id, o) for s in tree.steps.values() for o in s.branches}
    if tree.unexplained:  # a tree that can confirm its symptom has paths that end unexplained, and they were walked
        assert confirming_paths, tree_id



# -- one walk, facts scoped per walk ------------------------------------------------------------
def _two_trees(p1, p2):
    probes = {
        "p1": ProbeSpec("p1", p1, ("good", "bad"), "", "none"),
        "p2": ProbeSpec("p2", p2, ("up", "down"), "", "none"),
    }
    first = parse_tree(yamlpos.load(TREE, "t.yaml"), "t.yaml", probes)
    second = parse_tree(yamlpos.load(TREE.replace("id: t", "id: u"), "u.yaml"), "u.yaml", probes)
    ctx = Context(Settings())
    engine = Engine({"t": first, "u": second}, ctx, remedy_builder=lambda c, f, i: [])
    engine._probes = probes
    return engine, ctx


def test_a_tree_never_reads_what_another_trees_walk_left():
    seen: list[dict] = []

    def p1(ctx, args, emit):
        seen.append(dict(ctx.facts))        # what this walk knows when it starts
        return Evidence("good", facts={"host": f"compute-{len(seen)}"})

    engine, ctx = _two_trees(p1, lambda c, a, e: Evidence("up"))
    list(engine.run(["t", "u"]))
    assert seen == [{}, {}]                 # the second tree starts clean, not with compute-1
    assert ctx.facts["host"] == "compute-2"  # afterwards: what the diagnosis saw, for the learn pages


def test_the_proof_after_a_fix_is_the_same_walk_from_the_findings_facts_and_leaves_nothing():
    state = {"p2": "down"}
    starts: list[dict] = []

    def p2(ctx, args, emit):
        starts.append(dict(ctx.facts))
        return Evidence(state["p2"], facts={"checked": True})

    engine = make_engine(lambda c, a, e: Evidence("good", facts={"host": "compute01"}), p2)
    list(engine.run(["t"]))
    [finding] = engine.report.findings
    assert finding.id == "f-two" and finding.facts == {"host": "compute01", "checked": True}
    engine.ctx.facts = {"host": "somewhere-else"}    # another tree's walk was the last one
    walk = engine.verify_walk("t", "two", "f-two", facts=finding.facts)
    assert walk.again and walk.path == [("two", "down")]
    assert starts[-1] == {"host": "compute01", "checked": True}
    state["p2"] = "up"
    walk = engine.verify_walk("t", "one", "f-two", facts=finding.facts)
    assert not walk.again and walk.path == [("one", "good"), ("two", "up")]
    assert engine.ctx.facts == {"host": "somewhere-else"}   # the proof's facts stay in its own scope


def test_the_proof_stops_where_a_step_cannot_run_and_asks_nobody():
    def p2(ctx, args, emit):
        raise ProbeUnavailable("compute01: SSH refused")

    asked = []
    engine = make_engine(lambda c, a, e: Evidence("bad"), p2, answerer=lambda a: asked.append(a) or "up")
    walk = engine.verify_walk("t", "one", "f-two")
    assert walk.path == [("one", "bad")] and not walk.again and asked == []
    # ... and says which step stopped it and why, for the apply's "not proven" message.
    assert walk.stopped == ("two", "compute01: SSH refused") and not walk.ended


def test_the_proof_reads_a_step_twice_before_it_gives_up():
    """A read that fails once (a node busy restarting a service after the fix) does not stop the proof."""
    calls = []

    def p2(ctx, args, emit):
        calls.append(1)
        if len(calls) == 1:
            raise ProbeUnavailable("compute01: connection reset")
        return Evidence("up")

    engine = make_engine(lambda c, a, e: Evidence("good"), p2)
    walk = engine.verify_walk("t", "one", "f-two")
    assert walk.path == [("one", "good"), ("two", "up")] and walk.stopped is None and len(calls) == 2


def test_every_event_the_engine_yields_is_one_of_the_typed_events():
    import typing

    from wizard.events import Event
    engine = make_engine(lambda c, a, e: Evidence("bad", facts={"host": "compute01"}, observations=["saw bad"]),
                         lambda c, a, e: Evidence("up"))
    kinds = typing.get_args(Event)
    assert all(isinstance(event, kinds) for event in engine.run(["t"]))
