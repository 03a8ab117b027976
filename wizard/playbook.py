"""Decision trees as data. Loads ``playbooks/*.yaml`` into dataclasses and validates them.

A tree::

    id: max-retries                        # the symptom's id: --symptom, the TUI list, scenarios' expect:
    title: "Instance build fails: Exceeded maximum number of retries"
    symptom: "Instance goes to ERROR: Exceeded maximum number of retries"
    order: 10                              # place in every list of symptoms (CLI, TUI), then by id
    in_all: true                           # walked by --symptom all (triage: false)
    start: server-fault
    steps:
      server-fault:
        title: Read the server's fault
        why: The fault message says which kind of failure this is.
        probe: server_fault                # or {name: server_fault, args: {...}}
        branches:                          # one entry per outcome the probe declares
          max-retries: {next: build-events}
          no-valid-host: {finding: no-valid-host}
          active: {ok: "The server is ACTIVE; nothing to diagnose here."}
        ask:                               # used when the probe cannot run here
          question: What does the fault say?
          command: "openstack server show {server.id} -f json -c fault"
          choices: {max-retries: "Exceeded maximum number of retries", ...}
    findings:
      no-valid-host:
        title: ...
        severity: critical                 # critical | warning | info
        root_cause: "Nova found no host for {server.name} ..."
        learn: scheduling                  # optional concept page
        remedies: [check-scheduling]       # remedy ids (wizard/remedies, @remedy), durable first

A branch is ``{next: STEP}``, ``{finding: ID}`` (optionally with ``next:`` to keep looking
after recording it), ``{ok: TEXT}`` (no fault on this path), ``{unknown: TEXT}`` (cannot
tell; nothing is reported on a guess) or ``{run: [TREE, ...]}`` (triage routes to trees).

The trees are the one source of the symptoms: ``catalog()`` lists them (id, order, membership of
"all") for the CLI's choices and the TUI's list. Besides the shipped directory, the directories in
$KOLLA_WIZARD_PLAYBOOKS (``os.pathsep``-separated) are read; a playbook directory may carry its
trees' probes as ``*.py`` files beside the YAML, imported before its trees are validated.

The symptom rule: a branch marked ``confirms_symptom: true`` is the live check saying the
symptom stands (port 22 does not answer, the server is ERROR). From then on the tree can end
"ok" only through a branch marked ``explains_symptom: true`` (a cause found and fixed since);
otherwise a finding whose spec does not say ``explains_symptom: false`` must explain it, or
the tree ends "unexplained" with the tree's ``unexplained:`` block: ``commands`` to run by
hand (required once a branch confirms) and optionally ``run: [TREE]`` to follow it further.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import safeformat, yamlpos
from .errors import ConfigError, PlaybookError
from .i18n import Text, t

SEVERITIES = ("critical", "warning", "info")
UNAVAILABLE = "unavailable"  # implicit outcome when a probe cannot run
PLAYBOOKS_ENV = "KOLLA_WIZARD_PLAYBOOKS"
DEFAULT_ORDER = 50


@dataclass(frozen=True)
class Branch:
    next: str | None = None
    finding: str | None = None
    ok: Text | None = None
    unknown: Text | None = None
    run: tuple[str, ...] = ()
    line: int = 0
    confirms_symptom: bool = False   # the live check says the symptom stands
    explains_symptom: bool = False   # an ok ending that accounts for a confirmed symptom

    @property
    def terminal(self) -> bool:
        return self.next is None and not self.run


@dataclass(frozen=True)
class Ask:
    question: Text
    command: str
    choices: Mapping[str, Text]


@dataclass(frozen=True)
class Step:
    id: str
    title: Text
    why: Text
    probe: str
    args: Mapping[str, Any]
    branches: Mapping[str, Branch]
    ask: Ask | None
    line: int


@dataclass(frozen=True)
class FindingSpec:
    id: str
    title: Text
    severity: str
    root_cause: Text
    remedies: tuple[str, ...]
    learn: str | None
    verify: str | None  # step id whose probe proves the fix (defaults to the step that found it)
    line: int
    explains_symptom: bool = True  # false: a real fault, but not why the confirmed symptom happens


@dataclass(frozen=True)
class Unexplained:
    """What a tree says when its symptom is confirmed and nothing explains it."""
    commands: tuple[str, ...]   # command templates to run by hand next
    run: tuple[str, ...] = ()   # trees that follow the symptom further


@dataclass(frozen=True)
class Tree:
    id: str
    title: Text
    symptom: Text
    start: str
    steps: Mapping[str, Step]
    findings: Mapping[str, FindingSpec]
    path: str
    applies_to: str = "server"
    order: int = DEFAULT_ORDER
    in_all: bool = True
    unexplained: Unexplained | None = None
    hops: bool = False   # the steps follow a packet hop by hop (the runbook shows where it stops)

    def step_order(self) -> list[str]:
        """Steps in breadth-first order from the start (for progress bars and tests)."""
        seen: list[str] = []
        queue = [self.start]
        while queue:
            sid = queue.pop(0)
            if sid in seen:
                continue
            seen.append(sid)
            for branch in self.steps[sid].branches.values():
                if branch.next:
                    queue.append(branch.next)
        return seen


# --- validation helpers -------------------------------------------------------------------

TREE_KEYS = {"id", "title", "symptom", "start", "steps", "findings", "applies_to", "version", "order", "in_all",
             "unexplained", "hops"}
STEP_KEYS = {"title", "why", "probe", "branches", "ask"}
BRANCH_KEYS = {"next", "finding", "ok", "unknown", "run", "confirms_symptom", "explains_symptom"}
ASK_KEYS = {"question", "command", "choices"}
FINDING_KEYS = {"title", "severity", "root_cause", "remedies", "learn", "verify", "explains_symptom"}
UNEXPLAINED_KEYS = {"commands", "run"}


class _Checker:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, line: int, message: str, hint: str = "") -> None:
        raise PlaybookError(f"{self.path}:{line}", message, hint)

    def mapping(self, value: Any, line: int, what: str) -> yamlpos.LDict:
        if not isinstance(value, dict):
            self.fail(getattr(value, "line", line),
                      t("{what} must be a mapping, got {kind}", what=what, kind=type(value).__name__))
        return value  # type: ignore[return-value]

    def keys(self, value: yamlpos.LDict, allowed: set[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                self.fail(value.line_of(str(key)), t("unknown key {key} in {what}", key=repr(key), what=what),
                          t("allowed: {keys}", keys=", ".join(sorted(allowed))))

    def text(self, value: Any, line: int, what: str, required: bool = True) -> Text | None:
        if value is None:
            if required:
                self.fail(line, t("{what} is required", what=what))
            return None
        if isinstance(value, str):
            self._template(value, line, what)
            return value
        if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            if "en" not in value:
                self.fail(line, t("{what} must have an 'en' text", what=what))
            for v in value.values():
                self._template(v, line, what)
            return dict(value)
        self.fail(line, t("{what} must be text or a mapping of language to text", what=what))
        return None

    def _template(self, value: str, line: int, what: str) -> None:
        try:
            safeformat.fields(value)
        except safeformat.TemplateError as exc:
            self.fail(line, f"{what}: {exc}")


def _parse_branch(chk: _Checker, raw: Any, line: int, where: str) -> Branch:
    raw = chk.mapping(raw, line, where)
    chk.keys(raw, BRANCH_KEYS, where)
    kinds = [k for k in ("finding", "ok", "unknown", "run") if k in raw]
    if len(kinds) > 1 or (kinds and kinds[0] in ("ok", "unknown", "run") and "next" in raw):
        chk.fail(raw.line, t("{where}: a branch is one of next, finding (+ optional next), ok, unknown, run", where=where))
    if not kinds and "next" not in raw:
        chk.fail(raw.line, t("{where}: empty branch", where=where), t("give next, finding, ok, unknown or run"))
    run = raw.get("run") or ()
    if run and (not isinstance(run, list) or not all(isinstance(r, str) for r in run)):
        chk.fail(raw.line_of("run"), t("{where}: run must be a list of tree ids", where=where))
    for key in ("next", "finding"):
        if key in raw and not isinstance(raw[key], str):
            chk.fail(raw.line_of(key), t("{where}: {key} must be an id", where=where, key=key))
    for key in ("confirms_symptom", "explains_symptom"):
        if key in raw and not isinstance(raw[key], bool):
            chk.fail(raw.line_of(key), t("{where}: {key} must be true or false", where=where, key=key))
    if raw.get("confirms_symptom") and "ok" in raw:
        chk.fail(raw.line_of("confirms_symptom"), t("{where}: a branch that confirms the symptom cannot end ok", where=where))
    if raw.get("explains_symptom") and "ok" not in raw:
        chk.fail(raw.line_of("explains_symptom"), t("{where}: explains_symptom belongs on an ok branch", where=where),
                 t("a finding explains the symptom unless its spec says explains_symptom: false"))
    return Branch(
        next=raw.get("next"),
        finding=raw.get("finding"),
        ok=chk.text(raw.get("ok"), raw.line_of("ok"), f"{where}.ok", required=False) if "ok" in raw else None,
        unknown=chk.text(raw.get("unknown"), raw.line_of("unknown"), f"{where}.unknown", required=False)
        if "unknown" in raw else None,
        run=tuple(run),
        line=line,
        confirms_symptom=bool(raw.get("confirms_symptom", False)),
        explains_symptom=bool(raw.get("explains_symptom", False)),
    )


def _flag(chk: _Checker, data: yamlpos.LDict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        chk.fail(data.line_of(key), t("{key} must be true or false", key=key))
    return value


def _parse_unexplained(chk: _Checker, data: yamlpos.LDict, confirming: list[Branch]) -> Unexplained | None:
    if "unexplained" not in data:
        if confirming:
            chk.fail(confirming[0].line, t("a branch confirms the symptom, but the tree has no unexplained: block"),
                     t("add unexplained: {{commands: [...]}}: what to run by hand when no check explains it"))
        return None
    raw = chk.mapping(data["unexplained"], data.line_of("unexplained"), "unexplained")
    chk.keys(raw, UNEXPLAINED_KEYS, "unexplained")
    if not confirming:
        chk.fail(raw.line, t("unexplained: given, but no branch has confirms_symptom: true"))
    commands = raw.get("commands")
    if not isinstance(commands, list) or not commands or not all(isinstance(c, str) and c.strip() for c in commands):
        chk.fail(raw.line_of("commands"), t("unexplained.commands must be a non-empty list of commands"))
    for command in commands:
        chk.text(command, raw.line_of("commands"), "unexplained.commands")
    run = raw.get("run") or []
    if not isinstance(run, list) or not all(isinstance(r, str) for r in run):
        chk.fail(raw.line_of("run"), t("unexplained.run must be a list of tree ids"))
    return Unexplained(commands=tuple(commands), run=tuple(run))


def parse_tree(data: Any, path: str, probes: Mapping[str, Any],
               known_remedies: Mapping[str, Any] | None = None) -> Tree:
    """Validate one tree. ``probes`` maps probe name -> spec with ``.outcomes``; with ``known_remedies``
    (remedy id -> spec), every remedy a finding lists must be one of them (``playbooks check``)."""
    chk = _Checker(path)
    if data is None:
        chk.fail(1, t("empty playbook"))
    data = chk.mapping(data, 1, "playbook")
    chk.keys(data, TREE_KEYS, "playbook")
    for key in ("id", "title", "symptom", "start", "steps", "findings"):
        if key not in data:
            chk.fail(data.line, t("missing required key {key}", key=repr(key)))
    tree_id = data["id"]
    if not isinstance(tree_id, str) or not tree_id:
        chk.fail(data.line_of("id"), t("id must be a non-empty string"))
    steps_raw = chk.mapping(data["steps"], data.line_of("steps"), "steps")
    findings_raw = chk.mapping(data["findings"], data.line_of("findings"), "findings")
    if not steps_raw:
        chk.fail(data.line_of("steps"), t("a tree needs at least one step"))

    findings: dict[str, FindingSpec] = {}
    for fid, raw in findings_raw.items():
        line = findings_raw.line_of(str(fid))
        raw = chk.mapping(raw, line, f"finding {fid}")
        chk.keys(raw, FINDING_KEYS, f"finding {fid}")
        severity = raw.get("severity", "critical")
        if severity not in SEVERITIES:
            chk.fail(raw.line_of("severity"), t("finding {finding}: severity must be one of {choices}", finding=fid, choices=", ".join(SEVERITIES)))
        remedies = raw.get("remedies", [])
        if not isinstance(remedies, list) or not all(isinstance(r, str) for r in remedies):
            chk.fail(raw.line_of("remedies"), t("finding {finding}: remedies must be a list of remedy ids", finding=fid))
        unknown = [r for r in remedies if known_remedies is not None and r not in known_remedies]
        if unknown:
            chk.fail(raw.line_of("remedies"), t("finding {finding}: unknown remedy {remedy}", finding=fid, remedy=repr(unknown[0])),
                     t("run 'kolla-wizard playbooks list' to list the remedies"))
        findings[str(fid)] = FindingSpec(
            id=str(fid),
            title=chk.text(raw.get("title"), raw.line_of("title"), f"finding {fid}.title"),  # type: ignore[arg-type]
            severity=severity,
            root_cause=chk.text(raw.get("root_cause"), raw.line_of("root_cause"), f"finding {fid}.root_cause"),  # type: ignore[arg-type]
            remedies=tuple(remedies),
            learn=raw.get("learn"),
            verify=raw.get("verify"),
            line=line,
            explains_symptom=raw.get("explains_symptom", True),
        )
        if not isinstance(findings[str(fid)].explains_symptom, bool):
            chk.fail(raw.line_of("explains_symptom"), t("finding {finding}: explains_symptom must be true or false", finding=fid))

    steps: dict[str, Step] = {}
    for sid, raw in steps_raw.items():
        line = steps_raw.line_of(str(sid))
        raw = chk.mapping(raw, line, f"step {sid}")
        chk.keys(raw, STEP_KEYS, f"step {sid}")
        probe_raw = raw.get("probe")
        if probe_raw is None:
            chk.fail(raw.line, t("step {step}: probe is required", step=sid))
        if isinstance(probe_raw, str):
            probe_name, args = probe_raw, {}
        else:
            probe_map = chk.mapping(probe_raw, raw.line_of("probe"), f"step {sid}.probe")
            chk.keys(probe_map, {"name", "args"}, f"step {sid}.probe")
            probe_name, args = probe_map.get("name"), probe_map.get("args") or {}
            if not isinstance(args, dict):
                chk.fail(probe_map.line_of("args"), t("step {step}: probe args must be a mapping", step=sid))
        if probe_name not in probes:
            chk.fail(raw.line_of("probe"), t("step {step}: unknown probe {probe}", step=sid, probe=repr(probe_name)),
                     t("run 'kolla-wizard playbooks check' to list the probes"))
        spec = probes[probe_name]
        for arg in args:
            if getattr(spec, "args", None) is not None and arg not in spec.args:
                chk.fail(raw.line_of("probe"), t("step {step}: probe {probe} takes no argument {arg}", step=sid, probe=probe_name, arg=repr(arg)),
                         t("allowed: {keys}", keys=", ".join(spec.args) or t("none")))
        branches_raw = chk.mapping(raw.get("branches"), raw.line_of("branches"), f"step {sid}.branches")
        branches: dict[str, Branch] = {}
        for outcome, braw in branches_raw.items():
            if outcome not in spec.outcomes:
                chk.fail(branches_raw.line_of(str(outcome)),
                         t("step {step}: probe {probe} has no outcome {outcome}", step=sid, probe=probe_name,
                           outcome=repr(outcome)),
                         t("its outcomes: {outcomes}", outcomes=", ".join(spec.outcomes)))
            branches[str(outcome)] = _parse_branch(chk, braw, branches_raw.line_of(str(outcome)),
                                                   f"step {sid}.branches.{outcome}")
        missing = [o for o in spec.outcomes if o not in branches]
        if missing:
            chk.fail(raw.line_of("branches"), t("step {step}: no branch for outcome(s) {outcomes} of probe {probe}",
                                                       step=sid, outcomes=", ".join(missing), probe=probe_name))
        ask = None
        if "ask" in raw:
            araw = chk.mapping(raw["ask"], raw.line_of("ask"), f"step {sid}.ask")
            chk.keys(araw, ASK_KEYS, f"step {sid}.ask")
            choices_raw = chk.mapping(araw.get("choices"), araw.line_of("choices"), f"step {sid}.ask.choices")
            for choice in choices_raw:
                if choice not in branches:
                    chk.fail(choices_raw.line_of(str(choice)), t("step {step}: ask choice {choice} is not an outcome of {probe}",
                                                                  step=sid, choice=repr(choice), probe=probe_name))
            command = araw.get("command")
            if not isinstance(command, str) or not command.strip():
                chk.fail(araw.line, t("step {step}.ask: command is required (the exact command the operator runs)", step=sid))
            chk.text(command, araw.line_of("command"), f"step {sid}.ask.command")
            ask = Ask(
                question=chk.text(araw.get("question"), araw.line, f"step {sid}.ask.question"),  # type: ignore[arg-type]
                command=command,
                choices={str(k): chk.text(v, choices_raw.line_of(str(k)), f"step {sid}.ask.choices.{k}")  # type: ignore[misc]
                         for k, v in choices_raw.items()},
            )
        steps[str(sid)] = Step(
            id=str(sid),
            title=chk.text(raw.get("title"), raw.line_of("title"), f"step {sid}.title"),  # type: ignore[arg-type]
            why=chk.text(raw.get("why"), raw.line_of("why"), f"step {sid}.why"),  # type: ignore[arg-type]
            probe=probe_name,
            args=dict(args),
            branches=branches,
            ask=ask,
            line=line,
        )

    start = data["start"]
    if start not in steps:
        chk.fail(data.line_of("start"), t("start step {step} does not exist", step=repr(start)))
    # Dangling references.
    for step in steps.values():
        for outcome, branch in step.branches.items():
            if branch.next and branch.next not in steps:
                chk.fail(branch.line, t("step {step}: branch {outcome} goes to unknown step {next}", step=step.id,
                                              outcome=outcome, next=repr(branch.next)))
            if branch.finding and branch.finding not in findings:
                chk.fail(branch.line, t("step {step}: branch {outcome} names unknown finding {finding}", step=step.id,
                                              outcome=outcome, finding=repr(branch.finding)))
    for finding in findings.values():
        if finding.verify and finding.verify not in steps:
            chk.fail(finding.line, t("finding {finding}: verify names unknown step {step}", finding=finding.id,
                                           step=repr(finding.verify)))
    # Cycles (depth-first with colours).
    state: dict[str, int] = {}

    def visit(sid: str, trail: list[str]) -> None:
        state[sid] = 1
        for branch in steps[sid].branches.values():
            nxt = branch.next
            if not nxt:
                continue
            if state.get(nxt) == 1:
                chk.fail(steps[nxt].line, t("cycle: {path}", path=" -> ".join(trail + [sid, nxt])))
            if state.get(nxt) is None:
                visit(nxt, trail + [sid])
        state[sid] = 2

    visit(start, [])
    _check_facts(chk, steps, start, probes)
    unreachable = [sid for sid in steps if sid not in state]
    if unreachable:
        chk.fail(steps[unreachable[0]].line, t("step {step} is unreachable from start {start}", step=unreachable[0],
                                                        start=repr(start)))
    used = {b.finding for s in steps.values() for b in s.branches.values() if b.finding}
    unused = [fid for fid in findings if fid not in used]
    if unused:
        chk.fail(findings[unused[0]].line, t("finding {finding} is never reached by any branch", finding=unused[0]))
    order = data.get("order", DEFAULT_ORDER)
    if not isinstance(order, int) or isinstance(order, bool):
        chk.fail(data.line_of("order"), t("order must be a whole number (the place in the symptom lists)"))
    in_all = data.get("in_all", True)
    if not isinstance(in_all, bool):
        chk.fail(data.line_of("in_all"), t("in_all must be true or false"))
    return Tree(
        id=tree_id,
        title=chk.text(data["title"], data.line_of("title"), "title"),  # type: ignore[arg-type]
        symptom=chk.text(data["symptom"], data.line_of("symptom"), "symptom"),  # type: ignore[arg-type]
        start=start,
        steps=steps,
        findings=findings,
        path=path,
        applies_to=str(data.get("applies_to", "server")),
        order=order,
        in_all=in_all,
        hops=_flag(chk, data, "hops"),
        unexplained=_parse_unexplained(
            chk, data, [b for s in steps.values() for b in s.branches.values() if b.confirms_symptom]),
    )


def _check_facts(chk: _Checker, steps: Mapping[str, Step], start: str, probes: Mapping[str, Any]) -> None:
    """Every fact a step's probe needs must be provided by an earlier step on every path to it."""
    def walk(sid: str, have: frozenset[str], trail: list[str]) -> None:
        step = steps[sid]
        spec = probes[step.probe]
        for fact in getattr(spec, "needs", ()):
            if fact not in have:
                chk.fail(step.line, t("step {step}: probe {probe} needs fact {fact}, which no earlier step provides "
                                      "on the path {path}", step=sid, probe=step.probe, fact=repr(fact),
                                      path=" -> ".join(trail + [sid])),
                         t("put a step whose probe provides it first, or route this path through one"))
        have = have | frozenset(getattr(spec, "provides", ()))
        for branch in step.branches.values():
            if branch.next:
                walk(branch.next, have, trail + [sid])

    walk(start, frozenset(), [])


def load_tree(path: str | os.PathLike[str], probes: Mapping[str, Any] | None = None,
              known_remedies: Mapping[str, Any] | None = None) -> Tree:
    path = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(2_000_001)
    except OSError as exc:
        raise PlaybookError(path, t("cannot read: {error}", error=exc.strerror)) from None
    if len(raw) > 2_000_000:
        raise PlaybookError(path, t("is larger than 2 MB; a playbook is a small YAML file"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlaybookError(path, t("is not UTF-8 text (byte {byte})", byte=exc.start)) from None
    try:
        data = yamlpos.load(text, path)
    except ConfigError as exc:
        raise PlaybookError(exc.where, exc.message, exc.hint) from None
    if probes is None:
        from .probes.registry import registry
        load_probe_modules(Path(path).parent)
        probes = registry()
    return parse_tree(data, path, probes, known_remedies)


def load_probe_modules(directory: Path) -> None:
    """Import the ``*.py`` probe modules a playbook directory carries beside its trees (once each)."""
    if directory.resolve() == builtin_dir().resolve():
        return   # the shipped trees' probes are wizard.probes
    for file in sorted(directory.glob("*.py")):
        if file.name.startswith("_"):
            continue
        name = "wizard_playbook_probes_" + hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:16]
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise PlaybookError(str(file), t("cannot be loaded as a probe module"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise PlaybookError(str(file), t("its probes do not load: {kind}: {error}", kind=type(exc).__name__, error=exc),
                                t("fix the module or remove it from the playbook directory")) from None


def builtin_dir() -> Path:
    """Where the shipped playbooks are: inside the installed package, or the repo checkout."""
    try:
        packaged = resources.files("wizard.playbooks")
        candidate = Path(str(packaged))
        if any(candidate.glob("*.yaml")):
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "playbooks"


def extra_dirs() -> list[Path]:
    """The playbook directories named by $KOLLA_WIZARD_PLAYBOOKS, read after the shipped one."""
    return [Path(p) for p in os.environ.get(PLAYBOOKS_ENV, "").split(os.pathsep) if p.strip()]


def playbook_files(paths: Iterable[str | os.PathLike[str]] | None = None) -> list[Path]:
    if not paths:
        files = sorted(builtin_dir().glob("*.yaml"))
        for directory in extra_dirs():
            files.extend(sorted(directory.glob("*.yaml")))
        return files
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    return files


def load_all(paths: Iterable[str | os.PathLike[str]] | None = None) -> dict[str, Tree]:
    """Load and validate every tree; cross-tree references (run: [...]) are checked too."""
    trees: dict[str, Tree] = {}
    for file in playbook_files(paths):
        tree = load_tree(file)
        if tree.id in trees:
            raise PlaybookError(str(file), t("tree id {tree} is already used by {path}", tree=repr(tree.id),
                                                     path=trees[tree.id].path))
        trees[tree.id] = tree
    for tree in trees.values():
        for step in tree.steps.values():
            for branch in step.branches.values():
                for target in branch.run:
                    if target not in trees:
                        raise PlaybookError(f"{tree.path}:{step.line}", t("step {step}: run names unknown tree {tree}",
                                                                                 step=step.id, tree=repr(target)))
        for target in (tree.unexplained.run if tree.unexplained else ()):
            if target not in trees:
                raise PlaybookError(tree.path, t("unexplained.run names unknown tree {tree}", tree=repr(target)))
    return trees


@dataclass(frozen=True)
class TreeInfo:
    """What the symptom lists need of a tree, read without validating it (cheap: no probes load)."""
    id: str
    order: int
    in_all: bool
    path: str


_CATALOG_MEMO: dict[tuple, list[TreeInfo]] = {}


def catalog(paths: Iterable[str | os.PathLike[str]] | None = None) -> list[TreeInfo]:
    """The symptoms, in list order. A file that does not read is left out here; loading the trees
    (``load_all``, ``playbooks check``) says what is wrong with it. Read once per process while
    the files stay as they are (argv parsing and ``--symptom all`` both ask): only the top-level
    ``id``, ``order`` and ``in_all`` of each file are built."""
    import yaml
    files = playbook_files(paths)
    try:
        memo_key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        memo_key = None
    if memo_key is not None and memo_key in _CATALOG_MEMO:
        return list(_CATALOG_MEMO[memo_key])
    out: dict[str, TreeInfo] = {}
    for file in files:
        try:
            with open(file, "rb") as fh:
                data = yamlpos.top_level(fh.read(2_000_001).decode("utf-8"), ("id", "order", "in_all"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data.get("id"), str) or data["id"] in out:
            continue
        order, in_all = data.get("order", DEFAULT_ORDER), data.get("in_all", True)
        out[data["id"]] = TreeInfo(data["id"], order if isinstance(order, int) else DEFAULT_ORDER,
                                   in_all is not False, str(file))
    listed = sorted(out.values(), key=lambda t: (t.order, t.id))
    if memo_key is not None:
        _CATALOG_MEMO[memo_key] = listed
    return list(listed)


def in_order(trees: Iterable[Tree]) -> list[Tree]:
    """Trees in the order every symptom list shows them."""
    return sorted(trees, key=lambda t: (t.order, t.id))


def trees_in_all(paths: Iterable[str | os.PathLike[str]] | None = None) -> list[str]:
    """The tree ids ``--symptom all`` walks, in order."""
    return [t.id for t in catalog(paths) if t.in_all]
