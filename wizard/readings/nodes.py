"""Shared plumbing for the node probes of the max-retries tree: which inventory host a cloud host
name is, which container engine it runs, and reading files and command output over its transport.

This is a thin adapter over ``ctx.node(host)`` / ``ctx.nodes.fan_out`` (wizard/transport) and
``ctx.kolla`` (wizard/kolla): probes call these helpers so a missing piece (no Kolla model, no
SFTP, no grep) degrades to a clear ProbeUnavailable instead of a traceback."""
from __future__ import annotations

from ..i18n import t

import concurrent.futures
import weakref
from typing import Any, Callable, Iterable, TypeVar

from ..errors import WizardError
from ..evidence import ProbeUnavailable
from ..probe_context import ProbeContext

T = TypeVar("T")

OVS_AGENT_CONTAINER = "neutron_openvswitch_agent"
OVS_VSWITCHD_CONTAINER = "openvswitch_vswitchd"
OVS_AGENT_INI = "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini"
OVS_AGENT_LOG = "/var/log/kolla/neutron/neutron-openvswitch-agent.log"
NEUTRON_SERVER_LOG = "/var/log/kolla/neutron/neutron-server.log"
NOVA_COMPUTE_LOG = "/var/log/kolla/nova/nova-compute.log"
NOVA_CONDUCTOR_LOG = "/var/log/kolla/nova/nova-conductor.log"
NOVA_SCHEDULER_LOG = "/var/log/kolla/nova/nova-scheduler.log"
LOG_TAIL_LINES = 10000       # how far back a log is searched when grep's matches overflow the cap


def kolla_or_none(ctx: ProbeContext) -> Any:
    """The Kolla model, or None when it cannot be read (the reason is already in ctx.problems)."""
    try:
        return ctx.kolla
    except (ProbeUnavailable, WizardError):
        return None


def short(name: str | None) -> str:
    return (name or "").split(".")[0]


def inventory_name(ctx: ProbeContext, host: str) -> str:
    """The inventory name for a host name as Nova/Neutron report it (FQDN or short). When no
    inventory name matches (an inventory that says ``kvm1 ansible_host=...`` for the node whose
    hostname is compute01), each inventory host is asked its hostname once per context."""
    model = kolla_or_none(ctx)
    hosts = list(getattr(model, "hosts", []) or []) if model is not None else []
    if not host or not hosts or host in hosts:
        return host
    for candidate in hosts:
        if short(candidate) == short(host):
            return candidate
    for candidate, hostname in _inventory_hostnames(ctx, hosts).items():
        if hostname and (hostname == host or short(hostname) == short(host)):
            return candidate
    return host


_HOSTNAMES: "weakref.WeakKeyDictionary[Any, dict[str, str]]" = weakref.WeakKeyDictionary()


def _inventory_hostnames(ctx: ProbeContext, hosts: list[str]) -> dict[str, str]:
    """{inventory name: the node's own hostname} for the hosts that answered `hostname`."""
    try:
        cached = _HOSTNAMES.get(ctx)
    except TypeError:          # a context that cannot be weakly referenced: no cache
        cached = None
    if cached is not None:
        return cached

    def ask(node: Any) -> str:
        result = node.run(["hostname"], timeout=15.0)
        lines = result.stdout.strip().splitlines() if result.rc == 0 else []
        return lines[0][:255] if lines else ""
    names = {h: v for h, v in fan_out(ctx, [h for h in hosts if h != "localhost"], ask).items() if isinstance(v, str)}
    try:
        _HOSTNAMES[ctx] = names
    except TypeError:
        pass
    return names


def container_engine(ctx: ProbeContext, host: str) -> str:
    model = kolla_or_none(ctx)
    if model is not None:
        try:
            engine = model.container_engine(host)
            if engine in ("docker", "podman"):
                return engine
        except Exception:  # an unknown host in the model: Kolla's default applies
            pass
    return "docker"


def hosts_in_group(ctx: ProbeContext, *groups: str) -> list[str]:
    model = kolla_or_none(ctx)
    if model is None:
        return []
    out: list[str] = []
    for host in getattr(model, "hosts", []) or []:
        try:
            member = set(model.groups_of(host))
        except Exception:
            continue
        if member.intersection(groups) and host not in out:
            out.append(host)
    return out


def transport(ctx: ProbeContext, host: str) -> Any:
    try:
        return ctx.node(host)
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None


def read_text(node: Any, path: str) -> str | None:
    """A file's text, None if it does not exist. Falls back to ``cat`` where SFTP is missing."""
    from ..transport.base import FileMissing, TransportError

    try:
        return node.read_file(path)
    except FileMissing:
        return None
    except TransportError as exc:
        if "SFTP" not in exc.message:
            raise
    result = node.run(["cat", path], sudo=bool(getattr(node, "become", False)))
    if result.rc != 0:
        if "No such file" in result.stderr or result.rc == 1:
            return None
        raise ProbeUnavailable(f"{node.name}: cannot read {path}: {result.stderr.strip() or 'rc ' + str(result.rc)}")
    return result.stdout


def node_text(ctx: ProbeContext, node: Any, path: str) -> str | None:
    """``read_text`` once per diagnosis: a probe and the remedy builders of its finding share the read."""
    from . import memo

    readings = memo.of(ctx)
    if readings is None:
        return read_text(node, path)
    return readings.get((node.name, "text", path), lambda: read_text(node, path))


def deploy_file(ctx: ProbeContext, path: str) -> str | None:
    """A deploy-host file's text (None: missing), once per diagnosis: what the Kolla model read
    (globals.yml, the inventory, overrides) is not read again for a remedy's diff."""
    from ..transport.base import FileMissing
    from . import memo

    deploy = ctx.deploy
    readings = memo.of(ctx)
    try:
        if readings is None:
            return deploy.read_file(path)
        return readings.get((getattr(deploy, "name", "deploy"), "file", path), lambda: deploy.read_file(path))
    except FileMissing:
        return None


def node_command(ctx: ProbeContext, node: Any, argv: list[str], *, sudo: bool = False,
                 timeout: float | None = None) -> Any:
    """A read-only command's result (``ip -br link``, ``ovs-vsctl show``), run once per diagnosis."""
    from . import memo

    def run() -> Any:
        return node.run(argv, sudo=sudo, **({"timeout": timeout} if timeout is not None else {}))
    readings = memo.of(ctx)
    if readings is None:
        return run()
    return readings.get((node.name, "run", tuple(argv), sudo), run)


def grep_file(node: Any, pattern: str, path: str, *, max_lines: int = 200) -> list[str] | None:
    """Lines of ``path`` containing ``pattern`` (fixed string), last ``max_lines``; None if the file
    is missing. Uses grep on the node (an argv, no shell) so a big log never crosses the wire;
    falls back to reading the file where grep is missing."""
    result = node.run(["grep", "-F", "-e", pattern, path], sudo=bool(getattr(node, "become", False)))
    if result.rc == 0:
        return [line for line in result.stdout.splitlines() if pattern in line][-max_lines:]
    if result.rc == 1 and not result.stderr.strip():
        return []  # grep: no match
    if "No such file" in result.stderr:
        return None
    text = read_text(node, path)
    if text is None:
        return None
    return [line for line in text.splitlines() if pattern in line][-max_lines:]


def grep_log(node: Any, pattern: str, path: str, *, max_lines: int = 50) -> list[str] | None:
    """The last ``max_lines`` lines of a service log containing ``pattern``; None if the log is
    missing. grep runs on the node; when its matches overflow the transport's output cap, only
    the log's last LOG_TAIL_LINES lines (``tail -n``) are read and searched here."""
    from ..transport.base import OutputTooLarge

    try:
        return grep_file(node, pattern, path, max_lines=max_lines)
    except OutputTooLarge:
        try:
            result = node.run(["tail", "-n", str(LOG_TAIL_LINES), path], sudo=bool(getattr(node, "become", False)))
        except OutputTooLarge:
            raise ProbeUnavailable(t("{name}: the last {LOG_TAIL_LINES} lines of {path} are too large to read; run `grep -F "
                                     "{pattern!r} {path}` there", name=node.name, LOG_TAIL_LINES=LOG_TAIL_LINES, path=path, pattern=pattern)) from None
        if result.rc != 0:
            return None if "No such file" in result.stderr else []
        return [line for line in result.stdout.splitlines() if pattern in line][-max_lines:]


def fan_out(ctx: ProbeContext, hosts: Iterable[str], fn: Callable[[Any], T]) -> dict[str, T | Exception]:
    """Run fn(transport) on each host with bounded concurrency; errors come back as values."""
    hosts = list(dict.fromkeys(hosts))
    results: dict[str, T | Exception] = {}
    if not hosts:
        return results
    transports = {}
    for host in hosts:
        try:
            transports[host] = ctx.node(host)
        except (WizardError, ProbeUnavailable) as exc:
            results[host] = exc
    limit = max(1, int(getattr(getattr(ctx, "settings", None), "max_parallel", 8) or 8))

    def one(host: str) -> T | Exception:
        try:
            return fn(transports[host])
        except (WizardError, ProbeUnavailable) as exc:
            return exc
        finally:
            release = getattr(transports[host], "release", None)
            if release is not None:
                release()  # let the pool close finished hosts on a big fan-out

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(limit, len(transports) or 1),
                                               thread_name_prefix="node-probe") as pool:
        futures = {host: pool.submit(one, host) for host in transports}
        for host, future in futures.items():
            results[host] = future.result()
    return results


def error_line(exc: Exception) -> str:
    if isinstance(exc, ProbeUnavailable):
        return exc.reason
    if isinstance(exc, WizardError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"
