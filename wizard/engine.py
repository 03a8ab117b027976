"""Walks decision trees over a Context and yields events. Never touches the terminal.

The engine owns the branching; probes only report evidence. When a probe cannot run
(ProbeUnavailable, a transport error, a timeout) the step falls back to its ``ask`` block:
the operator is shown the exact command and picks what they saw. With nobody to ask
(headless, no pre-given answer) the step ends as ``unknown`` and nothing is concluded from it.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Generator, Iterator, Mapping

from . import safeformat, unexplained
from .errors import WizardError
from .events import (Asked, Done, Event, EvidenceSeen, FindingRaised, Output, Problem, RemedyOffered,
                     StepOutcome, StepStarted, TreeDone, TreeStarted)
from .evidence import Evidence, ProbeUnavailable
from .findings import Finding
from .i18n import t, tr
from .playbook import Branch, Step, Tree
from .probes.registry import ProbeSpec, registry
from .report import Report, StepRecord, TreeResult
from .status import StepStatus, TreeStatus
from .probe_context import ProbeContext

log = logging.getLogger(__name__)

# answerer(asked) -> a chosen outcome, or None when nobody can answer.
Answerer = Callable[[Asked], "str | None"]
MAX_STEPS_PER_TREE = 200


class VerifyWalk:
    """What a verification walk saw: the first step's evidence (None: it could not run), the
    (step, outcome) pairs in order, and whether the finding was reached again."""

    def __init__(self) -> None:
        self.first: Evidence | None = None
        self.path: list[tuple[str, str]] = []
        self.again = False
        self.others: list[str] = []    # other findings the walk raised: the fix is not proven then
        self.ended = False             # it reached a concluding branch (not a step that could not run)
        self.stopped: tuple[str, str] | None = None   # (step, why) when a step could not be decided


def _no_answer(_asked: Asked) -> None:
    return None


class Engine:
    def __init__(
        self,
        trees: Mapping[str, Tree],
        ctx: ProbeContext,
        *,
        answerer: Answerer | None = None,
        cancel: threading.Event | None = None,
        probe_timeout: float = 60.0,
        remedy_builder: Callable[[Any, Finding, tuple[str, ...]], list] | None = None,
    ) -> None:
        self.trees = trees
        self.ctx = ctx
        self.answerer = answerer or _no_answer
        self.cancel = cancel or threading.Event()
        self.probe_timeout = probe_timeout
        self.report = Report(started=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._probes = registry()
        if remedy_builder is None:
            from .remedies.registry import build_remedies
            remedy_builder = build_remedies
        self._build_remedies = remedy_builder
        self._pending_events: list[Any] = []
        self._explained: set[str] = set()  # trees that raised a finding explaining their symptom

    # -- public ---------------------------------------------------------------------------
    def run(self, tree_ids: list[str]) -> Iterator[Event]:
        """Walk the given trees (triage may add more) and yield events; the last is Done."""
        self.report.symptoms = list(tree_ids)
        self.report.target = dict(getattr(self.ctx, "target", {}) or {})
        queue = list(tree_ids)
        done: set[str] = set()
        while queue and not self.cancel.is_set():
            tree_id = queue.pop(0)
            if tree_id in done:
                continue
            done.add(tree_id)
            tree = self.trees[tree_id]
            extra = yield from self._walk(tree)
            for t in extra:
                if t not in done and t not in queue:
                    queue.append(t)
        unexplained.settle_hand_offs(self.report, self._explained)
        if self.cancel.is_set():
            self.report.cancelled = True
        self.report.api_requests = self._api_requests()
        self.report.problems.extend(p for p in getattr(self.ctx, "problems", []) if p not in self.report.problems)
        yield Done(self.report)

    def verify_walk(self, tree_id: str, step_id: str, finding_id: str,
                    facts: Mapping[str, Any] | None = None) -> "VerifyWalk":
        """Verification after a fix: the diagnosis's own walk (``_follow``), from ``step_id`` on,
        until a branch concludes or raises ``finding_id`` again. One step is not always enough: a
        fault can be named downstream of the step that shows it healed (a started agent: Neutron
        says alive at agent-state, while node-agent alone would read "container running" as "agent
        down"). It starts from ``facts`` (the finding's: what the walk that raised it knew), and
        what it sees stays in its own scope. A step that cannot run ends it; nobody is asked."""
        tree = self.trees[tree_id]
        walk = VerifyWalk()

        def decide(step: Step) -> Iterator[Any]:
            # Why a step could not be decided is part of the proof's answer: "not proven" alone
            # leaves the operator (and a failing test) guessing between a timeout and a wrong fix.
            try:
                try:
                    evidence = self._run_probe(self._probes[step.probe], step, tree_id, lambda _l: None)
                except (ProbeUnavailable, WizardError):
                    # Once more: a fix that restarts services (a Galera bootstrap, an agent start) can
                    # leave a node's read failing for a moment, and a proof that reads it a second time
                    # is still a proof. A timeout is not retried: it has already waited its bound.
                    evidence = self._run_probe(self._probes[step.probe], step, tree_id, lambda _l: None)
            except (ProbeUnavailable, WizardError, concurrent.futures.TimeoutError) as exc:
                walk.stopped = (step.id, self._why_not_run(step.probe, exc))
                return None, None
            if evidence.outcome not in step.branches:
                walk.stopped = (step.id, t("probe {probe} returned undeclared outcome {outcome}", probe=step.probe,
                                           outcome=repr(evidence.outcome)))
                return None, None
            self._remember(evidence)
            walk.path.append((step.id, evidence.outcome))
            walk.first = walk.first or evidence
            return evidence.outcome, evidence
            yield  # a generator, like the diagnosis's decide

        def on_branch(step: Step, outcome: str, branch: Branch, evidence: Evidence | None) -> Iterator[Any]:
            if branch.finding == finding_id:
                walk.again = True
                return False
            if branch.finding:
                walk.others.append(branch.finding)
            walk.ended = branch.next is None
            return True
            yield

        self.ctx.refresh()
        with self._facts_scope(dict(facts or {}), keep=False):
            for _event in self._follow(tree, step_id, decide, on_branch, cancellable=False):
                pass   # a proof walks silently; the apply says what it found
        return walk

    # -- walking --------------------------------------------------------------------------
    def _follow(self, tree: Tree, start: str, decide: Callable[[Step], Iterator[Any]],
                on_branch: Callable[[Step, str, Branch, Evidence | None], Iterator[Any]],
                cancellable: bool = True) -> Iterator[Any]:
        """The one walk over a tree, for the diagnosis and for the proof after a fix alike: from
        ``start``, ``decide`` each step's outcome, hand its branch to ``on_branch`` and go where the
        branch points, until a branch concludes (``"concluded"``), a step cannot be decided
        (``"undecided"``), ``on_branch`` says stop (``"stopped"``) or the walk is too long
        (``"too-long"``; validation forbids cycles, this is belt and braces). Yields the events of
        ``decide`` and ``on_branch``; returns how it ended."""
        step_id: str | None = start
        count = 0
        while step_id and not (cancellable and self.cancel.is_set()):
            count += 1
            if count > MAX_STEPS_PER_TREE:
                return "too-long"
            step = tree.steps[step_id]
            outcome, evidence = yield from decide(step)
            if outcome is None:
                return "undecided"
            branch = step.branches[outcome]
            if not (yield from on_branch(step, outcome, branch, evidence)):
                return "stopped"
            step_id = branch.next
        return "concluded"

    @contextlib.contextmanager
    def _facts_scope(self, facts: dict[str, Any], *, keep: bool) -> Iterator[dict[str, Any]]:
        """A walk's facts are its own: probes read and write ``ctx.facts``, which is the walk's dict
        while it runs, so no tree reads what another tree's walk left. Afterwards ``ctx.facts`` is
        what the diagnosis has seen (for the learn pages) with this walk's facts added when
        ``keep``; a proof after a fix (``keep=False``) leaves nothing behind."""
        seen = getattr(self.ctx, "facts", None)
        self.ctx.facts = facts
        try:
            yield facts
        finally:
            seen = dict(seen or {})
            if keep:
                seen.update(facts)
            self.ctx.facts = seen

    def _walk(self, tree: Tree) -> Generator[Event, None, list[str]]:
        result = TreeResult(tree.id, tr(tree.title), hops=tree.hops)
        self.report.trees.append(result)
        yield TreeStarted(tree.id, tr(tree.title), tree.step_order())
        run_next: list[str] = []
        raised_any = False
        confirmed: list[str] = []   # steps whose live check says the symptom stands
        explained = False
        records: dict[str, tuple[StepRecord, str]] = {}

        def decide(step: Step) -> Iterator[Any]:
            record = StepRecord(tree.id, step.id, self._text(step.title), self._text(step.why), step.probe)
            self.report.steps.append(record)
            yield StepStarted(tree.id, step.id, record.title, record.why, step.probe)
            outcome, via, evidence = yield from self._decide(tree, step, record)
            records[step.id] = (record, via)
            if outcome is None:
                record.status = StepStatus.UNKNOWN
                record.outcome = "unknown"
                record.via = via
                note = t("the probe could not run and no answer was given; nothing is concluded from this step")
                record.note = note
                self.report.assumptions.append(f"{tree.id}/{step.id}: " + t("{title}: not checked ({note}).",
                                                                            title=record.title, note=note))
                yield StepOutcome(tree.id, step.id, "unknown", StepStatus.UNKNOWN, via, None, note)
            return outcome, evidence

        def on_branch(step: Step, outcome: str, branch: Branch, evidence: Evidence | None) -> Iterator[Any]:
            nonlocal raised_any, explained, run_next
            record, via = records[step.id]
            record.outcome = outcome
            record.via = via
            status = StepStatus.FAULT if branch.finding else (StepStatus.UNKNOWN if branch.unknown else StepStatus.OK)
            record.status = status
            yield StepOutcome(tree.id, step.id, outcome, status, via, branch.next)
            if branch.confirms_symptom:
                confirmed.append(step.id)
            explained = explained or branch.explains_symptom or bool(
                branch.finding and tree.findings[branch.finding].explains_symptom)
            if branch.finding:
                raised_any = True
                yield from self._raise(tree, step, branch.finding, evidence)
            if branch.next:
                return True
            if branch.run:
                run_next = list(branch.run)
                result.result = TreeStatus.FAULT if raised_any else TreeStatus.OK
                result.message = t("continues in: {trees}", trees=", ".join(branch.run))
            elif branch.ok is not None:
                result.result = TreeStatus.FAULT if raised_any else TreeStatus.OK
                result.message = self._text(branch.ok)
            elif branch.unknown is not None:
                result.result = TreeStatus.FAULT if raised_any else TreeStatus.UNKNOWN
                result.message = self._text(branch.unknown)
            else:
                result.result = TreeStatus.FAULT
            return True

        with self._facts_scope({}, keep=True) as facts:
            ending = yield from self._follow(tree, tree.start, decide, on_branch)
            if ending == "undecided":
                result.result = TreeStatus.FAULT if raised_any else TreeStatus.UNKNOWN
                result.message = t("stopped: a step could not be checked")
            elif ending == "too-long":
                result.result = TreeStatus.UNKNOWN
            if explained:
                self._explained.add(tree.id)
            if self.cancel.is_set():
                result.result = TreeStatus.CANCELLED
            elif confirmed and not explained:  # never "ok" (nor a bare "unknown") while the symptom stands unexplained
                handed = list(run_next)   # a run: branch hands the symptom on (max-retries -> no-valid-host)
                run_next += unexplained.conclude(tree, self.report, result, confirmed, dict(facts))
                if handed and result.unexplained is not None:
                    result.unexplained["continues_in"] = list(dict.fromkeys(handed + result.unexplained["continues_in"]))
        yield TreeDone(tree.id, result.result, result.message, run_next)
        return run_next

    def _decide(self, tree: Tree, step: Step, record: StepRecord):
        """Run the probe; on failure ask. Returns (outcome|None, via, evidence|None)."""
        spec = self._probes[step.probe]
        lines: list[str] = []

        def emit(line: str) -> None:
            lines.append(line)

        reason = ""
        evidence: Evidence | None = None
        try:
            evidence = self._run_probe(spec, step, tree.id, emit)
        except (ProbeUnavailable, WizardError, concurrent.futures.TimeoutError) as exc:
            reason = self._why_not_run(spec.name, exc)
            if isinstance(exc, ProbeUnavailable):
                record.sources.extend(exc.sources)
        except Exception as exc:  # a probe bug must not end the diagnosis
            log.exception("probe %s failed", spec.name)
            reason = t("probe {probe} failed unexpectedly: {kind}: {error}", probe=spec.name,
                       kind=type(exc).__name__, error=exc)
        for line in lines:
            yield Output(tree.id, step.id, line)
        if evidence is not None:
            if evidence.outcome not in step.branches:
                reason = t("probe {probe} returned undeclared outcome {outcome}", probe=spec.name,
                           outcome=repr(evidence.outcome))
                evidence = None
            else:
                self._remember(evidence)
                record.observations.extend(evidence.observations)
                record.sources.extend(evidence.sources)
                record.host = evidence.host
                yield EvidenceSeen(tree.id, step.id, evidence)
                return evidence.outcome, "probe", evidence
        self.report.problems.append(f"{tree.id}/{step.id}: {reason}")
        yield Problem(f"{tree.id}/{step.id}", reason)
        if step.ask is None:
            return None, "none", None
        asked = Asked(
            tree.id, step.id, self._text(step.ask.question), self._text(step.ask.command, quoted=True),
            {k: self._text(v) for k, v in step.ask.choices.items()}, reason,
        )
        record.asked = {"question": asked.question, "command": asked.command, "reason": reason}
        yield asked
        answer = self._answer(asked)
        if answer is None or answer not in step.branches:
            return None, "none", None
        record.asked["answer"] = answer
        record.observations.append(t("Operator ran `{command}` and reported: {answer}", command=asked.command,
                                     answer=asked.choices.get(answer, answer)))
        self.report.assumptions.append(f"{tree.id}/{step.id}: " + t(
            "taken from the operator's answer, not probed: {answer}", answer=asked.choices.get(answer, answer)))
        return answer, "answer", None

    def _answer(self, asked: Asked) -> str | None:
        preset = (getattr(self.ctx, "answers", None) or {}).get(f"{asked.tree}/{asked.step}") or \
            (getattr(self.ctx, "answers", None) or {}).get(asked.step)
        if preset:
            return preset
        return self.answerer(asked)

    def _why_not_run(self, probe: str, exc: BaseException) -> str:
        """One line for a probe that could not decide its step: the diagnosis and the proof say it alike."""
        if isinstance(exc, ProbeUnavailable):
            return exc.reason
        if isinstance(exc, WizardError):
            return exc.one_line()
        return t("probe {probe} did not finish within {seconds} s", probe=probe, seconds=f"{self.probe_timeout:.0f}")

    def _run_probe(self, spec: ProbeSpec, step: Step, tree_id: str, emit) -> Evidence:
        args = dict(step.args)
        if self.probe_timeout <= 0:
            return spec.func(self.ctx, args, emit)
        # A probe has its own transport timeouts; this is the outer bound so the walk goes on. A daemon
        # thread, not an executor's: a probe stuck past the bound must not keep the process alive once
        # the report is out (concurrent.futures joins its workers at exit).
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = spec.func(self.ctx, args, emit)
            except BaseException as exc:   # handed to the walking thread below
                outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"probe-{spec.name}", daemon=True)
        worker.start()
        worker.join(self.probe_timeout)
        if worker.is_alive():
            raise concurrent.futures.TimeoutError()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def _remember(self, evidence: Evidence) -> None:
        facts = getattr(self.ctx, "facts", None)
        if facts is not None:
            facts.update(evidence.facts)
            if evidence.host:
                facts.setdefault("host", evidence.host)

    def _raise(self, tree: Tree, step: Step, finding_id: str, evidence: Evidence | None) -> Iterator[Event]:
        spec = tree.findings[finding_id]
        facts = dict(getattr(self.ctx, "facts", {}) or {})
        host = (evidence.host if evidence else None) or facts.get("host")
        # Each line once, first seen first: two steps on the path may report the same reading, and
        # every face (text, Markdown, JSON, TUI) shows the finding's evidence as it is here.
        evidence_lines = list(dict.fromkeys(line for rec in self.report.steps if rec.tree == tree.id
                                            for line in rec.observations))
        finding = Finding(
            id=spec.id,
            tree=tree.id,
            title=self._render(spec.title, facts),
            severity=spec.severity,
            root_cause=self._render(spec.root_cause, facts),
            host=host,
            evidence=evidence_lines,
            remedies=[],
            learn=spec.learn,
            step=spec.verify or step.id,
            facts=facts,
        )
        try:
            finding.remedies = list(self._build_remedies(self.ctx, finding, spec.remedies))
        except Exception as exc:  # a remedy builder must never hide the finding itself
            text = exc.one_line() if isinstance(exc, WizardError) else f"{type(exc).__name__}: {exc}"
            log.debug("remedy builders for %s failed", finding.id, exc_info=True)
            said = t("could not build the remedies: {error}", error=text)
            self.report.problems.append(f"{tree.id}/{finding.id}: {said}")
            yield Problem(f"{tree.id}/{finding.id}", said)
        self.report.findings.append(finding)
        yield FindingRaised(tree.id, finding)
        for remedy in finding.remedies:
            yield RemedyOffered(tree.id, finding.id, remedy)

    # -- helpers --------------------------------------------------------------------------
    def _text(self, text, quoted: bool = False) -> str:
        facts = getattr(self.ctx, "facts", {}) or {}
        if quoted:  # a command for the operator's shell: every value becomes one quoted word
            from .remedies.quoting import render_command
            return render_command(tr(text), facts)
        return safeformat.render(tr(text), facts)

    def _render(self, text, facts) -> str:
        return safeformat.render(tr(text), facts)

    def _api_requests(self) -> int:
        cloud = getattr(self.ctx, "cloud", None)
        return int(getattr(cloud, "request_count", 0) or 0)
