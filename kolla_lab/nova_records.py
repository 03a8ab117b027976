"""What Nova records of a failed build, as Nova writes it: the instance action events, the fault, and
the lines nova-compute and nova-conductor write to their logs. Shared by the embedded lab and the
real tier's stand-in so both backends write the same records. Each record follows upstream nova
(master of 2026-08) and oslo.log; the function that writes it is named beside each piece, and
docs/real-tier.md ("Records the trees read") lists them.

Never imports the wizard."""
from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Callable

NOVA_PY = "/var/lib/kolla/venv/lib64/python3.9/site-packages/nova"
COMPUTE_LOG = "/var/log/kolla/nova/nova-compute.log"
CONDUCTOR_LOG = "/var/log/kolla/nova/nova-conductor.log"
SCHEDULER_LOG = "/var/log/kolla/nova/nova-scheduler.log"
BUILD_EVENT = "compute__do_build_and_run_instance"
MAX_ATTEMPTS = 3                 # nova.conf [scheduler] max_attempts default; Kolla leaves it
COMPUTE_PID, CONDUCTOR_PID, SCHEDULER_PID = 7, 21, 19

# A node's log writer: (host name as Nova knows it, path, lines).
LogWriter = Callable[[str, str, list], None]


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def iso_us(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def stamp(t: _dt.datetime | None = None) -> str:
    """oslo.log's '%(asctime)s.%(msecs)03d'."""
    t = t or _now()
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def context_tag(request_id: str, user_id: str, project_id: str, global_id: str | None = None) -> str:
    """oslo.log's default logging_context_format_string part '[%(global_request_id)s %(request_id)s
    %(user_identity)s]', user_identity being '%(user)s %(project)s %(domain)s %(system_scope)s
    %(user_domain)s %(project_domain)s' with empty values as '-' (oslo_log/_options.py,
    formatters.py). A request that came in without a global id prints 'None'."""
    return f"[{global_id or 'None'} {request_id} {user_id} {project_id} - - default default]"


def log_record(level: str, logger: str, context: str, message: str, *, pid: int, instance: str | None = None,
               summary: str | None = None, traceback: str | None = None, when: _dt.datetime | None = None) -> list[str]:
    """One oslo.log record as its lines: the message (with ': <ExcClass>: <msg>' appended for a
    WARNING or worse logged while an exception is active, formatters._get_error_summary) and, for
    LOG.exception, each traceback line behind logging_exception_prefix
    '%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s'."""
    t = stamp(when)
    inst = f"[instance: {instance}] " if instance else ""
    text = f"{t} {pid} {level} {logger} {context} {inst}{message}" + (f": {summary}" if summary else "")
    lines = text.split("\n")
    if traceback:
        lines += [f"{t} {pid} ERROR {logger} {inst}{line}" for line in traceback.split("\n")]
    return lines


# --- instance action events (nova/compute/utils.py EventReporter, nova/db/main/api.py) -----------
def host_id(project_id: str, host: str) -> str:
    """nova/utils.py generate_hostid: sha224 of project id + host."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def event_start(action: dict, name: str, host: str) -> None:
    """db.action_event_start adds a new row, whatever rows of that name the action has."""
    t = iso_us(_now())
    action["events"].append({"event": name, "start_time": t, "finish_time": None, "result": None,
                             "traceback": None, "host": host or "", "hostId": host_id(action["project_id"], host),
                             "details": None})
    action["updated_at"] = t


def event_finish(action: dict, name: str, *, error: str | None = None, traceback: str | None = None) -> None:
    """db.action_event_finish updates the FIRST row of that name (filter_by(event=...).first()): a
    rescheduled build's second and third compute__do_build_and_run_instance rows keep no finish
    time and no result, and the first row carries the last attempt's finish. With no exception
    (a reschedule is caught inside _do_build_and_run_instance) the result is Success."""
    row = next((e for e in action["events"] if e["event"] == name), None)
    if row is None:
        return
    t = iso_us(_now())
    row["finish_time"] = t
    if error is None:
        row["result"] = "Success"
    else:
        row.update({"result": "Error", "traceback": traceback, "details": error[:255]})
        action["message"] = "Error"
    action["updated_at"] = t


def events_newest_first(action: dict) -> list[dict]:
    """db.action_events_get orders by created_at desc, id desc."""
    return list(reversed(action["events"]))


# --- tracebacks --------------------------------------------------------------------------------
def _frames(*frames: tuple[str, int, str, str]) -> str:
    return "".join(f"  File \"{NOVA_PY}/{path}\", line {line}, in {func}\n    {code}\n" for path, line, func, code in frames)


def binding_failed_message(port_id: str) -> str:
    """nova/exception.py PortBindingFailed."""
    return f"Binding failed for port {port_id}, please check neutron logs for more information."


def _network_setup_traceback(port_id: str) -> str:
    return ("Traceback (most recent call last):\n"
            + _frames(("compute/manager.py", 1996, "_allocate_network_async",
                       "nwinfo = self.network_api.allocate_for_instance("),
                      ("network/neutron.py", 1259, "allocate_for_instance",
                       "created_port_ids = self._update_ports_for_instance("),
                      ("network/neutron.py", 1373, "_update_ports_for_instance",
                       "updated_port = self._update_port("),
                      ("network/neutron.py", 589, "_update_port", "_ensure_no_port_binding_failure(port)"),
                      ("network/neutron.py", 277, "_ensure_no_port_binding_failure",
                       "raise exception.PortBindingFailed(port_id=port['id'])"))
            + f"nova.exception.PortBindingFailed: {binding_failed_message(port_id)}\n")


def _spawn_binding_traceback(port_id: str) -> str:
    return ("Traceback (most recent call last):\n"
            + _frames(("compute/manager.py", 2687, "_build_and_run_instance", "self.driver.spawn(context, instance, image_meta,"),
                      ("virt/libvirt/driver.py", 4750, "spawn", "xml = self._get_guest_xml(context, instance, network_info,"),
                      ("virt/libvirt/driver.py", 7921, "_get_guest_xml", "network_info_str = str(network_info)"),
                      ("network/model.py", 626, "__str__", "return self._sync_wrapper(fn, *args, **kwargs)"),
                      ("network/model.py", 609, "_sync_wrapper", "self.wait()"),
                      ("network/model.py", 641, "wait", "self[:] = self._gt.wait()"),
                      ("compute/manager.py", 2015, "_allocate_network_async", "raise e"),
                      ("network/neutron.py", 277, "_ensure_no_port_binding_failure",
                       "raise exception.PortBindingFailed(port_id=port['id'])"))
            + f"nova.exception.PortBindingFailed: {binding_failed_message(port_id)}\n")


def _spawn_virt_traceback(error: str) -> str:
    return ("Traceback (most recent call last):\n"
            + _frames(("compute/manager.py", 2687, "_build_and_run_instance", "self.driver.spawn(context, instance, image_meta,"),
                      ("virt/libvirt/driver.py", 4773, "spawn", "self._create_guest_with_network("),
                      ("virt/libvirt/driver.py", 8071, "_create_guest_with_network", "guest = self._create_guest("),
                      ("virt/libvirt/driver.py", 7993, "_create_guest", "guest = libvirt_guest.Guest.create(xml, self._host)"),
                      ("virt/libvirt/guest.py", 145, "create", "guest = host.write_instance_config(xml)"),
                      ("virt/libvirt/host.py", 1449, "write_instance_config", "domain = self.get_connection().defineXML(xml)"))
            + "  File \"/var/lib/kolla/venv/lib64/python3.9/site-packages/libvirt.py\", line 4578, in defineXML\n"
              "    raise libvirtError('virDomainDefineXML() failed')\n"
            + f"libvirt.libvirtError: {error}\n")


def rescheduled_exc(instance_id: str, cause_tb: str, reason: str) -> list[str]:
    """retry['exc'] = traceback.format_exception(*sys.exc_info()) of the RescheduledException
    (nova/compute/manager.py _do_build_and_run_instance), chained to its cause."""
    text = (cause_tb + "\nDuring handling of the above exception, another exception occurred:\n\n"
            "Traceback (most recent call last):\n"
            + _frames(("compute/manager.py", 2502, "_do_build_and_run_instance", "self._build_and_run_instance(context, instance, image,"),
                      ("compute/manager.py", 2795, "_build_and_run_instance", "raise exception.RescheduledException("))
            + f"nova.exception.RescheduledException: Build of instance {instance_id} was re-scheduled: {reason}\n")
    return [line + "\n" for line in text.rstrip("\n").split("\n")]


# --- one failed attempt on one compute ----------------------------------------------------------
class Attempt:
    """A build attempt that failed on ``host``: binding (``port_id``) or the hypervisor (``virt_error``)."""

    def __init__(self, host: str, *, port_id: str | None = None, virt_error: str | None = None):
        self.host, self.port_id, self.virt_error = host, port_id, virt_error

    @property
    def reason(self) -> str:
        """str(e) of the exception _build_and_run_instance caught: RescheduledException's reason."""
        return binding_failed_message(self.port_id) if self.port_id else str(self.virt_error)

    def summary(self) -> str:
        if self.port_id:
            return f"nova.exception.PortBindingFailed: {self.reason}"
        return f"libvirt.libvirtError: {self.virt_error}"

    def cause_traceback(self) -> str:
        return _spawn_binding_traceback(self.port_id) if self.port_id else _spawn_virt_traceback(str(self.virt_error))

    def compute_lines(self, instance_id: str, ctx: str, instance_name: str, virt_type: str) -> list[str]:
        """nova-compute.log on the attempt's host, non-DEBUG lines in order (nova/compute/manager.py;
        the binding case as real nova 34 wrote it in the real tier, /work/coord/real-nova-findings.md)."""
        def info(logger: str, message: str, context: str = ctx, instance: str | None = instance_id) -> list[str]:
            return log_record("INFO", logger, context, message, pid=COMPUTE_PID, instance=instance)

        lines = info("nova.compute.claims", f"Claim successful on node {self.host}")
        if self.port_id:
            # _allocate_network_async: LOG.exception without instance=, network_allocate_retries
            # default 0 -> 1 attempt
            lines += log_record("ERROR", "nova.compute.manager", ctx, "Instance failed network setup after 1 attempt(s)",
                                pid=COMPUTE_PID, summary=self.summary(),
                                traceback=_network_setup_traceback(self.port_id))
        else:
            # nova/virt/libvirt/guest.py Guest.create: LOG.error inside save_and_reraise_exception
            xml = (f"<domain type=\"{virt_type}\">\n  <uuid>{instance_id}</uuid>\n  <name>{instance_name}</name>\n"
                   "  <memory>2097152</memory>\n  <vcpu>1</vcpu>\n</domain>\n")
            lines += log_record("ERROR", "nova.virt.libvirt.guest", ctx, f"Error defining a guest with XML: {xml}",
                                pid=COMPUTE_PID, summary=self.summary())
        tb = self.cause_traceback()
        # _build_resources: LOG.exception('Instance failed to spawn'), then _shutdown_instance (which
        # deallocates the network itself when network_info is empty, from another thread: '[-]').
        lines += log_record("ERROR", "nova.compute.manager", ctx, "Instance failed to spawn", pid=COMPUTE_PID,
                            instance=instance_id, summary=self.summary(), traceback=tb)
        lines += info("nova.compute.manager", "Terminating instance")
        lines += info("nova.compute.manager", "Took 0.01 seconds to destroy the instance on the hypervisor.")
        if self.port_id:
            lines += info("nova.compute.manager", "Took 0.05 seconds to deallocate network for instance.", context="[-]")
        # _build_and_run_instance: LOG.exception('Failed to build and run instance') ->
        # RescheduledException(reason=str(e)); _do_build_and_run_instance cleans up and reschedules.
        lines += log_record("ERROR", "nova.compute.manager", ctx, "Failed to build and run instance", pid=COMPUTE_PID,
                            instance=instance_id, summary=self.summary(), traceback=tb)
        lines += info("nova.compute.manager", "Took 0.07 seconds to deallocate network for instance.")
        lines += info("nova.scheduler.client.report", f"Deleted allocations for instance {instance_id}", instance=None)
        return lines

    def conductor_lines(self, instance_id: str, ctx: str) -> list[str]:
        """nova-conductor.log at the reschedule: nova/scheduler/utils.py populate_retry ->
        _log_compute_error, LOG.error('Error from last host: %(last_host)s (node %(last_node)s):
        %(exc)s') with exc the list of traceback strings (printed as a Python list)."""
        exc = rescheduled_exc(instance_id, self.cause_traceback(), self.reason)
        return log_record("ERROR", "nova.scheduler.utils", ctx,
                          f"Error from last host: {self.host} (node {self.host}): {exc!r}",
                          pid=CONDUCTOR_PID, instance=instance_id)


def max_retries_reason(instance_id: str, tried: int, last_reason: str, max_attempts: int = MAX_ATTEMPTS) -> str:
    """The MaxRetriesExceeded reason nova/conductor/manager.py build_instances ends with: after the
    last alternate, populate_retry counts one more attempt; past max_attempts it raises with
    'Exceeded max scheduling attempts ...'; otherwise the empty host list gives 'Exhausted all
    hosts ...' (fewer candidates than max_attempts)."""
    if tried + 1 > max_attempts:
        return (f"Exceeded max scheduling attempts {max_attempts} for instance {instance_id}. "
                f"Last exception: {last_reason}")
    return f"Exhausted all hosts available for retrying build failures for instance {instance_id}."


def max_retries_fault(instance_id: str, tried: int, last_reason: str, max_attempts: int = MAX_ATTEMPTS) -> dict:
    """The server fault (nova/compute/utils.py add_instance_fault_from_exc via
    scheduler_utils.set_vm_state_and_notify: code 500, message truncated to 255, details the
    conductor's own traceback: the compute's exception stayed in the compute)."""
    reason = max_retries_reason(instance_id, tried, last_reason, max_attempts)
    message = f"Exceeded maximum number of retries. {reason}"
    if reason.startswith("Exceeded max scheduling attempts"):
        frames = _frames(("conductor/manager.py", 702, "build_instances", "scheduler_utils.populate_retry("),
                         ("scheduler/utils.py", 1079, "populate_retry", "raise exception.MaxRetriesExceeded(reason=msg)"))
    else:
        frames = _frames(("conductor/manager.py", 717, "build_instances", "raise exception.MaxRetriesExceeded(reason=msg)"))
    details = "Traceback (most recent call last):\n" + frames + f"nova.exception.MaxRetriesExceeded: {message}\n"
    return {"code": 500, "created": _now().strftime("%Y-%m-%dT%H:%M:%SZ"), "message": message[:255], "details": details}


def conductor_failure_lines(instance_id: str, ctx: str, message: str, exc_class: str) -> list[str]:
    """nova/scheduler/utils.py set_vm_state_and_notify: two WARNINGs inside the except block, so
    each carries the error summary."""
    summary = f"{exc_class}: {message}"
    return (log_record("WARNING", "nova.scheduler.utils", ctx, f"Failed to compute_task_build_instances: {message}",
                       pid=CONDUCTOR_PID, summary=summary)
            + log_record("WARNING", "nova.scheduler.utils", ctx, "Setting instance to ERROR state.",
                         pid=CONDUCTOR_PID, instance=instance_id, summary=summary))
