"""Loading validates everything and fails with file:line messages."""
from __future__ import annotations

import textwrap

import pytest

from wizard.errors import PlaybookError
from wizard.evidence import Evidence
from wizard.playbook import load_all, load_tree
from wizard.probes.registry import ProbeSpec

PROBES = {
    "check": ProbeSpec("check", lambda c, a, e: Evidence("yes"), ("yes", "no"), "a check", "none", ("thing",)),
    "other": ProbeSpec("other", lambda c, a, e: Evidence("up"), ("up", "down"), "another", "none", ()),
}

GOOD = """\
id: demo
title: Demo tree
symptom: Something is wrong
start: first
steps:
  first:
    title: First check
    why: Because it matters
    probe: {name: check, args: {thing: x}}
    branches:
      yes: {next: second}
      no: {finding: broken}
  second:
    title: Second check
    why: Because
    probe: other
    branches:
      up: {ok: All good}
      down: {finding: down}
    ask:
      question: Is it up?
      command: "openstack server show {server.id}"
      choices: {up: "It is up", down: "It is down"}
findings:
  broken:
    title: "It is broken on {host}"
    root_cause: "The {thing} is broken"
    remedies: []
  down:
    title: Down
    root_cause: {en: "It is down", ko: "다운"}
"""


def write(tmp_path, text: str, name: str = "tree.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_tree_loads(tmp_path):
    tree = load_tree(write(tmp_path, GOOD), PROBES)
    assert tree.id == "demo"
    assert tree.step_order() == ["first", "second"]
    assert tree.steps["first"].args == {"thing": "x"}
    assert tree.steps["second"].ask.choices["down"] == "It is down"
    assert tree.findings["down"].root_cause == {"en": "It is down", "ko": "다운"}


# (description, mutation of GOOD, exact message expected)
BROKEN = [
    ("order not a number", lambda s: s.replace("start: first", "start: first\norder: first"),
     "tree.yaml:5: order must be a whole number (the place in the symptom lists)"),
    ("in_all not a boolean", lambda s: s.replace("start: first", "start: first\nin_all: maybe"),
     "tree.yaml:5: in_all must be true or false"),
    ("unknown top-level key", lambda s: s.replace("start: first", "start: first\nstrat: oops"),
     "tree.yaml:5: unknown key 'strat' in playbook (allowed: applies_to, findings, hops, id, in_all, order, start, steps, symptom, title, unexplained, version)"),
    ("unknown probe", lambda s: s.replace("probe: other", "probe: nonesuch"),
     "tree.yaml:16: step second: unknown probe 'nonesuch' (run 'kolla-wizard playbooks check' to list the probes)"),
    ("dangling step", lambda s: s.replace("{next: second}", "{next: thrid}"),
     "tree.yaml:11: step first: branch yes goes to unknown step 'thrid'"),
    ("dangling finding", lambda s: s.replace("{finding: broken}", "{finding: brokn}"),
     "tree.yaml:12: step first: branch no names unknown finding 'brokn'"),
    ("missing outcome", lambda s: s.replace("      down: {finding: down}\n", ""),
     "tree.yaml:17: step second: no branch for outcome(s) down of probe other"),
    ("outcome the probe does not have", lambda s: s.replace("up: {ok: All good}", "up: {ok: All good}\n      sideways: {ok: x}"),
     "tree.yaml:19: step second: probe other has no outcome 'sideways' (its outcomes: up, down)"),
    ("cycle", lambda s: s.replace("up: {ok: All good}", "up: {next: first}"),
     "tree.yaml:6: cycle: first -> second -> first"),
    ("unreachable step", lambda s: s.replace("{next: second}", "{ok: fine}"),
     "tree.yaml:13: step second is unreachable from start 'first'"),
    ("start missing", lambda s: s.replace("start: first", "start: zeroth"),
     "tree.yaml:4: start step 'zeroth' does not exist"),
    ("eval-looking template", lambda s: s.replace("The {thing} is broken", "The {thing.__class__} is broken"),
     "tree.yaml:27: finding broken.root_cause: bad placeholder {thing.__class__} in 'The {thing.__class__} is broken': only {name} or {name.key} is allowed"),
    ("format spec in template", lambda s: s.replace("It is broken on {host}", "It is broken on {host!r}"),
     "tree.yaml:26: finding broken.title: bad placeholder {host} in 'It is broken on {host!r}': only {name} or {name.key} is allowed"),
    ("yaml syntax error", lambda s: s.replace("why: Because it matters", "why: [Because"),
     "tree.yaml:9: YAML syntax error: expected ',' or ']', but got ':' (fix the file and retry)"),
    ("bad severity", lambda s: s.replace("    title: Down\n", "    title: Down\n    severity: meh\n"),
     "tree.yaml:31: finding down: severity must be one of critical, warning, info"),
    ("ask choice not an outcome", lambda s: s.replace('down: "It is down"', 'sideways: "?"'),
     "tree.yaml:23: step second: ask choice 'sideways' is not an outcome of other"),
    ("probe argument not declared", lambda s: s.replace("args: {thing: x}", "args: {thign: x}"),
     "tree.yaml:9: step first: probe check takes no argument 'thign' (allowed: thing)"),
    ("text without english", lambda s: s.replace('{en: "It is down", ko: "다운"}', '{ko: "다운"}'),
     "tree.yaml:31: finding down.root_cause must have an 'en' text"),
    ("unused finding", lambda s: s + "  spare:\n    title: Spare\n    root_cause: never\n",
     "tree.yaml:32: finding spare is never reached by any branch"),
    ("duplicate key", lambda s: s.replace("title: Demo tree", "title: Demo tree\ntitle: Again"),
     "tree.yaml:3: duplicate key 'title'"),
    ("confirmed symptom without an unexplained block", lambda s: s.replace("{next: second}", "{next: second, confirms_symptom: true}"),
     "tree.yaml:11: a branch confirms the symptom, but the tree has no unexplained: block (add unexplained: {commands: [...]}: what to run by hand when no check explains it)"),
    ("a confirming branch that ends ok", lambda s: s.replace("up: {ok: All good}", "up: {ok: All good, confirms_symptom: true}"),
     "tree.yaml:18: step second.branches.up: a branch that confirms the symptom cannot end ok"),
    ("explains_symptom on a finding branch", lambda s: s.replace("{finding: down}", "{finding: down, explains_symptom: true}"),
     "tree.yaml:19: step second.branches.down: explains_symptom belongs on an ok branch (a finding explains the symptom unless its spec says explains_symptom: false)"),
    ("confirms_symptom not a boolean", lambda s: s.replace("{next: second}", "{next: second, confirms_symptom: maybe}"),
     "tree.yaml:11: step first.branches.yes: confirms_symptom must be true or false"),
    ("unexplained block with nothing confirming", lambda s: s + "unexplained: {commands: [\"openstack server list\"]}\n",
     "tree.yaml:32: unexplained: given, but no branch has confirms_symptom: true"),
    ("unexplained block without commands", lambda s: s.replace("{next: second}", "{next: second, confirms_symptom: true}")
     + "unexplained: {commands: []}\n",
     "tree.yaml:32: unexplained.commands must be a non-empty list of commands"),
    ("step is not a mapping", lambda s: s.replace("  second:\n    title: Second check", "  second: [1, 2]\n  third:\n    title: Second check"),
     "tree.yaml:13: step second must be a mapping, got LList"),
]


@pytest.mark.parametrize("description,mutate,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_playbook_gives_exact_message(tmp_path, description, mutate, message):
    path = write(tmp_path, mutate(GOOD))
    with pytest.raises(PlaybookError) as info:
        load_tree(path, PROBES)
    assert info.value.one_line() == str(tmp_path / message)


def test_empty_and_binary_files(tmp_path):
    with pytest.raises(PlaybookError, match=r"tree.yaml:1: empty playbook"):
        load_tree(write(tmp_path, ""), PROBES)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(PlaybookError, match=r"bin.yaml: is not UTF-8 text"):
        load_tree(binary, PROBES)


def test_python_tags_are_refused(tmp_path):
    path = write(tmp_path, GOOD.replace("title: Demo tree", "title: !!python/object/apply:os.system ['true']"))
    with pytest.raises(PlaybookError, match=r"tree.yaml:2: unsupported YAML value: tag tag:yaml.org,2002:python/object/apply:os.system is not allowed"):
        load_tree(path, PROBES)


def test_run_must_name_known_trees(tmp_path, monkeypatch):
    import wizard.playbook as pb
    monkeypatch.setattr(pb, "load_tree", lambda p: pb.parse_tree(
        pb.yamlpos.load(open(p, encoding="utf-8").read(), str(p)), str(p), PROBES))
    write(tmp_path, GOOD.replace("up: {ok: All good}", "up: {run: [elsewhere]}"))
    with pytest.raises(PlaybookError, match=r"step second: run names unknown tree 'elsewhere'"):
        load_all([tmp_path])


# -- facts: a step's probe needs what earlier steps provide ----------------------------------------
FACT_PROBES = {
    "check": ProbeSpec("check", lambda c, a, e: Evidence("yes"), ("yes", "no"), "a check", "none", ("thing",),
                       (), ("host",)),
    "other": ProbeSpec("other", lambda c, a, e: Evidence("up"), ("up", "down"), "another", "none", (),
                       ("host",), ()),
}


def test_a_step_after_the_step_that_provides_its_fact_loads(tmp_path):
    assert load_tree(write(tmp_path, GOOD), FACT_PROBES).id == "demo"


def test_a_fact_no_earlier_step_provides_fails_with_file_line(tmp_path):
    # `other` (needs host) first, `check` (provides host) second: the order cannot supply the fact.
    swapped = GOOD.replace("start: first", "start: second").replace("up: {ok: All good}", "up: {next: first}") \
        .replace("yes: {next: second}", "yes: {ok: fine}")
    with pytest.raises(PlaybookError) as info:
        load_tree(write(tmp_path, swapped), FACT_PROBES)
    assert info.value.one_line() == str(tmp_path / (
        "tree.yaml:13: step second: probe other needs fact 'host', which no earlier step provides on the path "
        "second (put a step whose probe provides it first, or route this path through one)"))


def test_a_fact_provided_on_one_path_only_fails(tmp_path):
    # zero -> first (provides host) -> second/third need host; zero -> third directly does not have it.
    text = GOOD.replace("no: {finding: broken}", "no: {next: third}").replace(
        "findings:\n", "  third:\n    title: Third\n    why: w\n    probe: other\n    branches:\n"
        "      up: {finding: broken}\n      down: {finding: down}\nfindings:\n")
    text = text.replace("start: first", "start: zero").replace(
        "steps:\n", "steps:\n  zero:\n    title: Zero\n    why: w\n    probe: ZERO\n"
        "    branches:\n      yes: {next: first}\n      no: {next: third}\n", 1)
    probes = dict(FACT_PROBES, plain=ProbeSpec("plain", lambda c, a, e: Evidence("yes"), ("yes", "no"), "", "none"))
    # zero provides host itself: every path has it
    assert load_tree(write(tmp_path, text.replace("probe: ZERO", "probe: {name: check, args: {thing: y}}")),
                     probes).id == "demo"
    with pytest.raises(PlaybookError) as info:
        load_tree(write(tmp_path, text.replace("probe: ZERO", "probe: plain")), probes)
    assert "step third: probe other needs fact 'host', which no earlier step provides on the path zero -> third" \
        in info.value.one_line()


def test_shipped_probes_declare_the_facts_the_max_retries_order_relies_on():
    from wizard.probes.registry import registry
    probes = registry()
    assert "host" in probes["ovs_agent_state"].needs and "host" in probes["instance_build_events"].provides
    assert "server" in probes["instance_build_events"].needs and "server" in probes["server_build_fault"].provides


def test_catalog_reads_order_and_in_all_as_yaml_does_and_sees_a_changed_file(tmp_path):
    # The symptom lists read only id/order/in_all of each file (and once per process); YAML 1.1's
    # 'no' is still false, and an edited file is read again.
    import os

    from wizard.playbook import catalog

    (tmp_path / "b.yaml").write_text("id: beta\norder: 5\nin_all: no\nsteps: {x: [1, 2]}\n")
    (tmp_path / "a.yaml").write_text("id: alpha\norder: 7\n")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    listed = catalog([tmp_path])
    assert [(t.id, t.order, t.in_all) for t in listed] == [("beta", 5, False), ("alpha", 7, True)]
    (tmp_path / "b.yaml").write_text("id: beta\norder: 9\nin_all: yes\n")
    stat = (tmp_path / "b.yaml").stat()
    os.utime(tmp_path / "b.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert [(t.id, t.order, t.in_all) for t in catalog([tmp_path])] == [("alpha", 7, True), ("beta", 9, True)]


@pytest.mark.parametrize("tree,start,fact", [
    ("fip-404", "router-path", "subnet"),            # the router path needs the port's subnet (target)
    ("ssh-refused", "sg-ssh", "port"),               # the security groups are the port's (address)
    ("ssh-refused", "keypair", "server"),            # the key pair is the server's (server)
    ("max-retries", "three-views", "host"),          # the three views are of the failing host (build-events)
    ("max-retries", "port-segment", "port"),         # the segment is the failed port's (build-events)
    ("unreachable", "router-ns", "l3"),              # the namespace is on the router's L3 host (router)
    ("unreachable", "lan-owner", "address"),         # whose MAC answers for the instance's address (address)
])
def test_a_shipped_tree_started_where_its_facts_are_not_yet_known_is_rejected(tmp_path, tree, start, fact):
    # More shipped probes declare what they need and provide (issue 14): a tree whose order cannot
    # supply a fact fails `playbooks check` at the step, with file:line.
    import re

    from wizard.playbook import builtin_dir

    text = (builtin_dir() / f"{tree}.yaml").read_text()
    assert load_tree(write(tmp_path, text)).id == tree          # the shipped order supplies every fact
    moved = re.sub(r"(?m)^start: .*$", f"start: {start}", text)
    with pytest.raises(PlaybookError) as info:
        load_tree(write(tmp_path, moved))
    assert f"step {start}: probe " in info.value.one_line() and f"needs fact {fact!r}" in info.value.one_line()
    assert re.match(re.escape(str(tmp_path / "tree.yaml")) + r":\d+: ", info.value.one_line())
