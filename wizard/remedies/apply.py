"""Applying one remedy the operator said yes to: check, lock, back up, write, run, verify, roll back.

Order of work for ``apply_remedy``:
1. Preview every action. Each FileEdit's file is re-read: if its sha256 differs from the content
   the diff was made against, refuse ("changed on disk since the preview; re-run the diagnosis").
   The new content must parse (yaml / ini / inventory) or nothing is written.
2. ``dry_run`` stops here and reports exactly what would change.
3. Lock every file (a ``<path>.kolla-wizard.lock`` beside it, on the same host; O_EXCL locally,
   write-and-read-back remotely; a lock older than LOCK_STALE_SECONDS is taken over), back it up to
   ``<path>.kolla-wizard-<timestamp>.bak`` on the same host, write the new content atomically.
4. Run the NodeCommands (deploy host when host is None), then the CloudCalls through openstacksdk.
5. ``ctx.refresh()`` and re-run the step that found the fault: verified when it no longer yields
   the finding's outcome; otherwise restore the backups, undo cloud calls where an undo exists,
   restart what the remedy restarted, and report rolled-back."""
from __future__ import annotations

import getpass
import os
import posixpath
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ..errors import ConfigError, WizardError
from ..evidence import ProbeUnavailable
from ..findings import Finding, Remedy
from ..status import ApplyStatus
from .actions import CLOUD_OPS, CloudCall, FileEdit, NodeCommand, describe_action, sha256
from .quoting import join
from ..i18n import t
from ..probe_context import ProbeContext

LOCK_SUFFIX = ".kolla-wizard.lock"
LOCK_STALE_SECONDS = 15 * 60
STATUSES = tuple(ApplyStatus)


class RemedyNotFound(WizardError):
    exit_code = 2


class ApplyRefused(WizardError):
    exit_code = 1


@dataclass
class ApplyResult:
    status: str
    message: str
    remedy: str = ""
    finding: str = ""
    backup: list[str] = field(default_factory=list)     # "host:path" of each backup taken
    changes: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)     # e.g. "floating IP 192.168.35.120"

    def to_dict(self) -> dict[str, Any]:
        return {"remedy": self.remedy, "finding": self.finding, "status": self.status, "result": self.status,
                "message": self.message, "backup": list(self.backup), "changes": list(self.changes)}


# -- local files (--output) ------------------------------------------------------------------------
def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write a local file atomically (the same temp-file, fsync, rename as LocalTransport)."""
    from ..transport.base import TransportError
    from ..transport.local import LocalTransport
    path = os.path.abspath(os.fspath(path))
    try:
        LocalTransport().write_file_atomic(path, text)
    except TransportError as exc:
        raise ConfigError(path, exc.message,
                          t("pick a writable place")) from None


# -- finding the remedy ----------------------------------------------------------------------------
def find_remedy(report: Any, remedy_id: str) -> tuple[Finding, Remedy]:
    available: list[str] = []
    for finding in report.findings:
        for remedy in finding.remedies:
            if remedy.id == remedy_id:
                return finding, remedy
            if remedy.id not in available:
                available.append(remedy.id)
    if not available:
        raise RemedyNotFound(t("--apply {remedy_id}: the diagnosis found nothing to fix, so there is no remedy to apply", remedy_id=remedy_id))
    raise RemedyNotFound(t("--apply {remedy_id}: no such remedy in this diagnosis; available: {available}", remedy_id=remedy_id, available=', '.join(available)))


def apply_by_id(ctx: ProbeContext, engine: Any, report: Any, remedy_id: str, *, dry_run: bool = False,
                emit: Callable[[str], None] = print, typed: str | None = None) -> ApplyResult:
    finding, remedy = find_remedy(report, remedy_id)
    return apply_remedy(ctx, engine, finding, remedy, dry_run=dry_run, emit=emit, typed=typed)


# -- transports ------------------------------------------------------------------------------------
def _transport(ctx: ProbeContext, host: str | None) -> Any:
    try:
        return ctx.deploy if host is None else ctx.node(host)
    except ProbeUnavailable as exc:
        raise WizardError(exc.reason) from None


def _where(host: str | None, path: str) -> str:
    return f"{host or 'deploy host'}:{path}"


def _read(transport: Any, path: str) -> str | None:
    from ..transport.base import FileMissing
    try:
        return transport.read_file(path)
    except FileMissing:
        return None


def validate_content(edit: FileEdit) -> str | None:
    """None when the new content parses as its kind; else one line saying why not."""
    try:
        if edit.validate == "yaml":
            import yaml
            yaml.safe_load(edit.new_content)
        elif edit.validate == "ini":
            from ..kolla.ini import parse_ini
            parse_ini(edit.new_content, edit.path)
        elif edit.validate == "inventory":
            from ..kolla.inventory import parse_inventory
            inventory = parse_inventory(edit.new_content, edit.path)
            problems = getattr(inventory, "problems", [])
            if problems:
                first = problems[0]
                return first.one_line() if hasattr(first, "one_line") else str(first)
    except WizardError as exc:
        return exc.one_line()
    except Exception as exc:  # yaml.YAMLError and friends
        return t("{path}: the edited file does not parse: {value}", path=edit.path, value=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return None


# -- locks -----------------------------------------------------------------------------------------
class _Lock:
    def __init__(self, transport: Any, path: str) -> None:
        self.transport = transport
        self.path = path + LOCK_SUFFIX
        self.token = f"held {secrets.token_hex(8)} {getpass.getuser()}@{socket.gethostname()} pid {os.getpid()} " \
                     f"at {int(time.time())}"
        self.held = False

    def acquire(self) -> None:
        self._acquire()
        self.held = True

    def _acquire(self) -> None:
        # Exclusive create (SFTP O_EXCL, or noclobber under sudo): of two wizards racing, exactly
        # one creates the lock. A lock older than LOCK_STALE_SECONDS is a dead wizard's: take it over.
        for _attempt in range(2):
            if self.transport.create_exclusive(self.path, self.token + "\n"):
                return
            current = _read(self.transport, self.path) or ""
            parts = current.split()
            stamp = int(parts[-1]) if parts and parts[-1].isdigit() else 0
            released = current.startswith("released")      # left by wizards before exclusive locks
            stale = current.startswith("held ") and current.endswith("\n") and \
                time.time() - stamp >= LOCK_STALE_SECONDS
            if not (released or stale):
                # Live, or being written right now (created empty, token not yet in): not ours.
                who = f" ({' '.join(parts[2:5])})" if current.startswith("held ") else ""
                raise ApplyRefused(t("{name}:{path}: another kolla-wizard is changing this file{who}; wait for it, or remove "
                                     "the lock if none is running", name=self.transport.name, path=self.path, who=who))
            self.transport.remove(self.path)   # stale: its owner died mid-apply
        raise ApplyRefused(t("{name}:{path}: another kolla-wizard took the lock at the same time", name=self.transport.name, path=self.path))

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            if (_read(self.transport, self.path) or "").strip() == self.token:   # never someone else's
                self.transport.remove(self.path)
        except (OSError, WizardError):
            pass


# -- the apply itself ------------------------------------------------------------------------------
def apply_remedy(ctx: ProbeContext, engine: Any, finding: Finding, remedy: Remedy, *, dry_run: bool = False,
                 emit: Callable[[str], None] = print, typed: str | None = None) -> ApplyResult:
    result = ApplyResult(ApplyStatus.REFUSED, "", remedy=remedy.id, finding=finding.id)
    kind = t("durable") if remedy.durable else t("quick")
    if not remedy.actions:
        result.message = (t("{id} is advice (commands for you to run and read), not something the wizard applies; run "
                            "its commands yourself", id=remedy.id))
        return result
    if remedy.confirm and not dry_run and (typed or "").strip() != remedy.confirm:
        result.message = (t("{id} changes nothing until you type {confirm!r} (--confirm {confirm}); you typed {typed!r}", id=remedy.id, confirm=remedy.confirm, typed=(typed or '').strip()[:80]))
        return result
    # 1. preview and checks
    edits = [a for a in remedy.actions if isinstance(a, FileEdit)]
    originals: dict[int, str] = {}
    for edit in edits:
        transport = _transport(ctx, edit.host)
        current = _read(transport, edit.path)
        if current is None or sha256(current) != edit.expected_sha256:
            result.message = (t("{host} changed on disk since the preview; re-run the diagnosis", host=_where(edit.host, edit.path)))
            return result
        problem = validate_content(edit)
        if problem:
            result.message = t("refusing to write {host}: {problem}", host=_where(edit.host, edit.path), problem=problem)
            return result
        originals[id(edit)] = current
    for action in remedy.actions:
        change: dict[str, Any] = {"action": describe_action(action)}
        if isinstance(action, FileEdit):
            from ._edits import unified_diff
            change["diff"] = unified_diff(action.path, originals[id(action)], action.new_content)
        result.changes.append(change)
    if dry_run:
        emit(t("dry run of {id} ({kind} fix for {id2}); nothing is changed:", id=remedy.id, kind=kind, id2=finding.id))
        for change in result.changes:
            emit("  " + t("would {action}", action=change['action']))
            if change.get("diff"):
                for line in change["diff"].splitlines():
                    emit(f"    {line}")
        result.status = ApplyStatus.DRY_RUN
        result.message = t("would make {count} change(s); nothing was changed", count=len(result.changes))
        return result

    locks: list[_Lock] = []
    backups: list[tuple[FileEdit, str, str]] = []   # (edit, backup path, original)
    restarts: list[NodeCommand] = []
    created: list[tuple[CloudCall, Any]] = []
    ran: list[NodeCommand] = []                     # commands that completed (their undo runs on rollback)
    try:
        # 3. lock, back up, write
        try:
            for edit in edits:
                lock = _Lock(_transport(ctx, edit.host), edit.path)
                lock.acquire()
                locks.append(lock)
            for edit in edits:
                transport = _transport(ctx, edit.host)
                current = _read(transport, edit.path)
                if current is None or sha256(current) != edit.expected_sha256:  # changed while we locked
                    raise ApplyRefused(t("{host} changed on disk since the preview; re-run the diagnosis", host=_where(edit.host, edit.path)))
                raw = _read_bytes(transport, edit.path, current)
                backup = _backup_path(transport, edit.path)
                _write(transport, backup, raw, like=edit.path)   # exact bytes, the original's mode and owner
                backups.append((edit, backup, raw))
                result.backup.append(_where(edit.host, backup))
                emit(t("backed up {host} to {backup}", host=_where(edit.host, edit.path), backup=backup))
                _write(transport, edit.path, keep_bytes(raw, current, edit.new_content))
                emit(f"wrote {_where(edit.host, edit.path)}")
        except ApplyRefused as exc:
            _restore(ctx, backups, [], emit, ran)
            result.status, result.message = ApplyStatus.REFUSED, exc.one_line()
            return result
        except WizardError as exc:   # a backup or a write failed (ENOSPC, a dropped connection)
            emit(t("{exc}; restoring every file changed so far", exc=exc.one_line()))
            _restore(ctx, backups, [], emit, ran)
            result.status = ApplyStatus.FAILED
            result.message = (t("could not back up and write every file ({exc}); nothing stays changed: the files written "
                                "so far were restored", exc=exc.one_line()))
            return result
        # 4. commands and cloud calls
        for action in remedy.actions:
            if isinstance(action, NodeCommand):
                transport = _transport(ctx, action.host)
                emit(t("running on {host}: {argv}", host=action.host or t("the deploy host"), argv=join(action.argv)))
                sudo = bool(action.sudo or getattr(transport, "become", False))
                try:
                    outcome = transport.run(list(action.argv), sudo=sudo, timeout=action.timeout)
                except WizardError as exc:   # connection dropped, timeout, sudo: do not leave a half fix
                    if _is_kolla_run(action.argv) or any(_is_kolla_run(c.argv) for c in ran):
                        return _left_in_place(result, backups, ran, action, t("did not complete ({exc})", exc=exc.one_line()), emit)
                    emit(t("{argv} did not complete: {exc}; restoring the backups", argv=join(action.argv), exc=exc.one_line()))
                    _restore(ctx, backups, restarts, emit, ran)
                    _undo_cloud(ctx, created, emit)
                    result.status = ApplyStatus.FAILED
                    result.message = (t("{argv} on {host} did not complete ({exc}); the files were restored from the backups "
                                        "({backup}); check the node, then re-run", argv=join(action.argv), host=action.host or t("the deploy host"), exc=exc.one_line(), backup=', '.join(result.backup) or t("none")))
                    return result
                if outcome.rc != 0:
                    if _is_kolla_run(action.argv) or any(_is_kolla_run(c.argv) for c in ran):
                        why = f"failed (rc {outcome.rc}): {(outcome.stderr or outcome.stdout).strip()[:300]}"
                        return _left_in_place(result, backups, ran, action, why, emit)
                    _restore(ctx, backups, restarts, emit, ran)
                    _undo_cloud(ctx, created, emit)
                    result.status = ApplyStatus.FAILED
                    result.message = (t("{argv} on {host} failed (rc {rc}): {stderr}; the files were restored", argv=join(action.argv), host=action.host or t("the deploy host"), rc=outcome.rc, stderr=(outcome.stderr or outcome.stdout).strip()[:300]))
                    return result
                ran.append(action)
                if _rereads_config(action.argv):
                    restarts.append(action)
            elif isinstance(action, CloudCall):
                op = CLOUD_OPS.get(action.op)
                if op is None:
                    raise WizardError(t("remedy {id}: unknown cloud operation {op!r}", id=remedy.id, op=action.op))
                emit(f"cloud: {action.describe or action.op}")
                try:
                    made = op(ctx.cloud.conn, **action.params)
                    created.append((action, made))
                    if isinstance(made, dict) and made.get("address"):
                        # What the operator needs next (the new floating IP), said where they look.
                        emit(t("cloud: new floating IP {address}", address=made['address']))
                        result.created.append(f"floating IP {made['address']}")
                except Exception as exc:
                    _restore(ctx, backups, restarts, emit, ran)
                    _undo_cloud(ctx, created, emit)
                    result.status = ApplyStatus.FAILED
                    result.message = f"{action.describe or action.op} failed: {type(exc).__name__}: {exc}"
                    return result
        # 5. verify
        if remedy.verify_after:
            # Nothing the wizard can re-read changes before the operator's next step (a guest's
            # first-boot console): say so instead of rolling back a change that may well be right.
            result.status = ApplyStatus.UNVERIFIED
            result.message = (t("applied, not proven yet: {verify_after}", verify_after=remedy.verify_after)
                              + (f"; backups: {', '.join(result.backup)}" if result.backup else ""))
            return result
        step_id = remedy.verify or finding.step
        walk = _verify(ctx, engine, finding, step_id)
        if walk.first is None:
            result.status = ApplyStatus.UNVERIFIED
            result.message = (t("applied; the check ({tree}/{step_id}) could not run, so the fix is not proven; backups "
                                "kept: {backup}", tree=finding.tree, step_id=step_id, backup=', '.join(result.backup) or t("none"))
                              + _why_stopped(walk))
            return result
        # A fault the diagnosis had not reported, met on the way: the fix is not proven (the original may
        # hide behind it, or the fix caused it). Faults already reported are the operator's next fixes.
        reported = {f.id for f in getattr(getattr(engine, "report", None), "findings", [])}
        new = [f for f in walk.others if f not in reported and f != finding.id]
        if walk.again or new:
            where, outcome = walk.path[-1]
            if not walk.again:
                outcome = f"{outcome}, raising {', '.join(new)} instead"
            if any(_is_kolla_run(c.argv) for c in ran):
                return _left_in_place(result, backups, ran, None,
                                      t("ran, but the check {tree}/{where} still finds {id} ({outcome})", tree=finding.tree, where=where, id=finding.id, outcome=outcome),
                                      emit)
            emit(t("verification: {tree}/{where} still says {outcome}; rolling back", tree=finding.tree, where=where, outcome=outcome))
            _restore(ctx, backups, restarts, emit, ran)
            _undo_cloud(ctx, created, emit)
            result.status = ApplyStatus.ROLLED_BACK
            result.message = (t("the check {tree}/{where} still finds {id} ({outcome}); the changes were undone", tree=finding.tree, where=where, id=finding.id, outcome=outcome) + (t(" and the backups restored") if backups else ""))
            return result
        if not walk.ended:
            result.status = ApplyStatus.UNVERIFIED
            where = walk.path[-1][0]
            result.message = (t("applied; the check walked to {tree}/{where} and could not go on, so the fix is not "
                                "proven; backups kept: {backup}", tree=finding.tree, where=where, backup=', '.join(result.backup) or t("none"))
                              + _why_stopped(walk))
            return result
        result.status = ApplyStatus.VERIFIED
        then = "".join(t(", then {step} says {outcome}", step=step, outcome=outcome) for step, outcome in walk.path[1:])
        result.message = (t("{kind} fix applied; {tree}/{step_id} now says {outcome}{then}", kind=kind, tree=finding.tree, step_id=step_id, outcome=walk.first.outcome, then=then)
                          + (f"; created: {', '.join(result.created)}" if result.created else "")
                          + (f"; backups: {', '.join(result.backup)}" if result.backup else ""))
        if not remedy.durable:
            result.message += t("; this is a quick fix: apply the durable one too")
        return result
    except BaseException:
        # Ctrl-C, a bug, anything unplanned: nothing stays half-applied. After a kolla-ansible run the
        # files are left as they are (restoring them does not undo the run): say where the backups are.
        if any(_is_kolla_run(c.argv) for c in ran):
            emit(t("interrupted after kolla-ansible ran; nothing was rolled back: backups at ")
                 + (", ".join(result.backup) or "none"))
        else:
            emit(t("interrupted; restoring every file changed so far"))
            _restore(ctx, backups, restarts, emit, ran)
            _undo_cloud(ctx, created, emit)
        raise
    finally:
        for lock in locks:
            lock.release()


def _rereads_config(argv: list[str]) -> bool:
    """A command after which something runs with the files just written (so after a rollback it
    must run again to read the restored ones): a container (re)start or a kolla-ansible reconfigure."""
    return (len(argv) > 2 and argv[1] in ("restart", "start")) or (bool(argv) and argv[0] == "kolla-ansible"
                                                                  and "reconfigure" in argv)


def _is_kolla_run(argv: list[str]) -> bool:
    return bool(argv) and posixpath.basename(argv[0]) == "kolla-ansible"


def _left_in_place(result: ApplyResult, backups: list[tuple[FileEdit, str, str]], ran: list[NodeCommand],
                   failed: NodeCommand | None, why: str, emit: Callable[[str], None]) -> ApplyResult:
    """After a kolla-ansible run nothing is rolled back automatically: restoring the files and running
    kolla-ansible again takes as long as the first run and still leaves what Kolla never removes (the
    bridge it created, the NIC it plugged). Say what changed, what remains, and how to undo it by hand."""
    kolla = failed if failed is not None and _is_kolla_run(failed.argv) else \
        next(c for c in reversed(ran) if _is_kolla_run(c.argv))
    lines = [t("{argv} {why}; nothing was rolled back automatically (a Kolla run is not undone by "
               "restoring its files).", argv=join(kolla.argv), why=why)]
    if backups:
        lines.append(t("Changed files, with the backup each was saved to: ") + "; ".join(
            f"{_where(edit.host, edit.path)} (backup {backup})" for edit, backup, _orig in backups) + ".")
    done = [c for c in ran if not _is_kolla_run(c.argv)]
    if done:
        lines.append(t("Commands that ran: ") + "; ".join(join(c.argv) for c in done) + ".")
    leftovers = [line for c in [*ran, *([failed] if failed else [])] for line in (c.manual_undo or [])]
    undo = [t("on {host}: {argv}", host=edit.host or t("the deploy host"), argv=join(['cp', '-p', backup, edit.path]))
            for edit, backup, _orig in backups]
    if undo:
        undo.append(t("on the deploy host: {argv}", argv=join(kolla.argv)))
    undo += [t("on {host}: {argv}", host=c.host or t("the deploy host"), argv=join(c.undo)) for c in reversed(done) if c.undo]
    undo += leftovers
    if leftovers:
        lines.append(t("What stays even after the files are restored and Kolla runs again: Kolla never removes a "
                       "bridge it created or a port it plugged."))
    if undo:
        lines.append(t("To undo by hand, in this order: ") + " ; ".join(undo))
    else:
        lines.append(t("Read the kolla-ansible output above, fix what it names, then run the same command again."))
    for line in lines:
        emit(line)
    result.status = ApplyStatus.NOT_FIXED if failed is None else ApplyStatus.FAILED
    result.message = " ".join(lines)
    return result


def _read_bytes(transport: Any, path: str, text: str) -> bytes:
    read = getattr(transport, "read_bytes", None)
    return read(path) if read else text.encode("utf-8", "surrogateescape")


def _write(transport: Any, path: str, data: bytes, *, like: str | None = None) -> None:
    transport.write_file_atomic(path, data, **({"like": like} if like else {}))


def _split_lines(data: Any) -> list[Any]:
    nl = b"\n" if isinstance(data, bytes) else "\n"
    parts = data.split(nl)
    lines = [part + nl for part in parts[:-1]]
    return lines + ([parts[-1]] if parts[-1] else [])


def keep_bytes(raw: bytes, text: str, new_text: str) -> bytes:
    """The new file as bytes, keeping every line the edit did not touch exactly as it was on disk
    (bytes that are not UTF-8, a BOM) and the file's CRLF line endings on the lines it adds. ``text``
    is ``raw`` as the remedy read it (undecodable bytes replaced), so their lines pair one to one."""
    import difflib

    old_lines, raw_lines, new_lines = _split_lines(text), _split_lines(raw), _split_lines(new_text)
    if len(old_lines) != len(raw_lines):     # cannot pair them: write the edit as it is
        return new_text.encode("utf-8", "surrogateescape")
    crlf = raw.count(b"\r\n") * 2 > raw.count(b"\n")
    out: list[bytes] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(raw_lines[i1:i2])
            continue
        for line in new_lines[j1:j2]:
            if crlf and line.endswith("\n") and not line.endswith("\r\n"):
                line = line[:-1] + "\r\n"
            out.append(line.encode("utf-8", "surrogateescape"))
    data = b"".join(out)
    bom = "\ufeff".encode("utf-8")
    if raw.startswith(bom) and not data.startswith(bom):
        data = bom + data
    return data


def _backup_path(transport: Any, path: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate = f"{path}.kolla-wizard-{stamp}.bak"
    n = 1
    while transport.exists(candidate):
        n += 1
        candidate = f"{path}.kolla-wizard-{stamp}-{n}.bak"
    return candidate


def _why_stopped(walk: Any) -> str:
    stopped = getattr(walk, "stopped", None)
    if not stopped:
        return ""
    return t(" ({step} could not run: {why})", step=stopped[0], why=stopped[1])


def _verify(ctx: ProbeContext, engine: Any, finding: Finding, step_id: str) -> Any:
    # The proof starts from what the walk that raised the finding knew (its facts), in a scope of its own.
    return engine.verify_walk(finding.tree, step_id, finding.id, facts=finding.facts)


def _restore(ctx: ProbeContext, backups: list[tuple[FileEdit, str, str]], restarts: list[NodeCommand],
             emit: Callable[[str], None], ran: list[NodeCommand] = ()) -> None:
    # What the fix created (a bridge, a port) goes first, newest first, so the restarts below
    # come back to the node as it was.
    for command in reversed(ran):
        if not command.undo:
            continue
        try:
            transport = _transport(ctx, command.host)
            emit(t("undoing on {host}: {argv}", host=command.host or t("the deploy host"), argv=join(command.undo)))
            outcome = transport.run(list(command.undo), sudo=bool(command.sudo or getattr(transport, "become", False)),
                                    timeout=command.timeout)
            if outcome.rc != 0:
                emit(t("could not undo {argv}: {stderr}", argv=join(command.argv), stderr=(outcome.stderr or outcome.stdout).strip()[:200]))
        except WizardError as exc:
            emit(t("could not undo {argv}: {exc}", argv=join(command.argv), exc=exc.one_line()))
    for edit, backup, original in reversed(backups):
        try:
            _transport(ctx, edit.host).write_file_atomic(edit.path, original)
            emit(f"restored {_where(edit.host, edit.path)} from {backup}")
        except Exception as exc:   # go on with the other files whatever this one did
            why = exc.one_line() if isinstance(exc, WizardError) else f"{type(exc).__name__}: {exc}"
            emit(t("could NOT restore {host}: {why}; copy {backup} back by hand", host=_where(edit.host, edit.path), why=why, backup=backup))
    # What read the new files (an agent restart, a reconfigure) must read the old ones again.
    for command in restarts:
        try:
            transport = _transport(ctx, command.host)
            emit(t("running again on {host}: {argv}", host=command.host or t("the deploy host"), argv=join(command.argv)))
            transport.run(list(command.argv), sudo=bool(command.sudo or getattr(transport, "become", False)),
                          timeout=command.timeout)
        except WizardError as exc:
            emit(t("could not re-run {argv}: {exc}", argv=join(command.argv), exc=exc.one_line()))


def _undo_cloud(ctx: ProbeContext, created: list[tuple[CloudCall, Any]], emit: Callable[[str], None]) -> None:
    for call, made in reversed(created):
        undo_name = getattr(call, "undo", None)
        undo = CLOUD_OPS.get(undo_name) if undo_name else None
        if undo is None:
            emit(t("cannot undo {describe} automatically", describe=call.describe or call.op))
            continue
        try:
            undo(ctx.cloud.conn, **(made if isinstance(made, dict) else {}))
            emit(f"undid {call.describe or call.op}")
        except Exception as exc:
            emit(t("could not undo {describe}: {error_type}: {exc}", describe=call.describe or call.op, error_type=type(exc).__name__, exc=exc))


__all__ = ["ApplyResult", "RemedyNotFound", "apply_by_id", "apply_remedy", "find_remedy", "write_text_atomic",
           "validate_content"]
