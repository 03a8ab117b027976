"""Nova's own records of a failed build, as the trees read them: the lines nova-compute and
nova-conductor write (oslo.log's default format, under /var/log/kolla/nova/ in Kolla) and what a
failure's exception says. Strings are Nova's and libvirt's own (docs/real-tier.md, "Records the
trees read", names the upstream file and function of each)."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

# nova/compute/manager.py _build_and_run_instance: LOG.exception('Failed to build and run instance',
# instance=instance); oslo.log appends ': <module.Class>: <message>' of the active exception.
BUILD_FAILED = "Failed to build and run instance"
# nova/scheduler/utils.py _log_compute_error (conductor, at each reschedule).
LAST_HOST = "Error from last host"
BINDING_FAILED_RE = re.compile(r"Binding failed for port ([0-9a-fA-F-]{8,})")
LAST_HOST_RE = re.compile(r"Error from last host: (?P<host>\S+) \(node (?P<node>[^)]*)\): (?P<exc>.*)$")
STAMP_RE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))? +\d+ +(\w+) +(\S+)")
# libvirt's refusals of a KVM guest where KVM is missing or unusable (nested homelab VMs):
# qemu_capabilities.c "Emulator '%s' does not support virt type '%s'" (older: "could not find
# capabilities for domaintype=kvm"), qemu_process.c "Domain requires KVM, but it is not available",
# and qemu's own "failed to initialize KVM: Permission denied" / "Could not access KVM kernel module".
KVM_RE = re.compile(r"does not support virt type '?kvm'?|domaintype=kvm|Domain requires KVM|"
                    r"failed to initiali[sz]e KVM|Could not access KVM kernel module|KVM: permission denied", re.I)
# nova/compute/manager.py _build_resources: a vif plug that never reported ('Timeout waiting for
# [('network-vif-plugged', ...)]') ends in VirtualInterfaceCreateException.
VIF_RE = re.compile(r"VirtualInterfaceCreateException|network-vif-plugged|Virtual Interface creation failed")
VOLUME_RE = re.compile(r"VolumeNotCreated|VolumeDeviceNotFound|InvalidBDM|cinder|Failure prepping block device", re.I)


def instance_pattern(instance_id: str, message: str) -> str:
    """The fixed string a build's own log line carries (oslo.log instance_format '[instance: %(uuid)s] ')."""
    return f"[instance: {instance_id}] {message}"


def line_time(line: str) -> _dt.datetime | None:
    match = STAMP_RE.match(line)
    if not match:
        return None
    try:
        return _dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def without_stamp(line: str) -> str:
    """A log line as evidence: level, logger and message, without the time, pid and request
    context (they change on every run; the time is kept in the facts)."""
    match = STAMP_RE.match(line)
    if not match:
        return line.strip()
    rest = line[match.end():].lstrip()
    if rest.startswith("[") and "] " in rest:
        rest = rest.split("] ", 1)[1]
    return f"{match.group(3)} {match.group(4)} {rest}".strip()


def exception_text(line: str, message: str) -> str:
    """What follows '<message>: ' on the line: the exception's class and text."""
    _, _, rest = line.partition(message)
    return rest[2:].strip() if rest.startswith(": ") else rest.strip()


def classify(text: str) -> dict[str, Any]:
    """A build failure's kind from its exception text: port-binding (with the port), kvm, vif-plugging,
    volume or other."""
    match = BINDING_FAILED_RE.search(text)
    if match:
        return {"kind": "port-binding", "port": match.group(1)}
    if KVM_RE.search(text):
        return {"kind": "kvm"}
    if VIF_RE.search(text):
        return {"kind": "vif-plugging"}
    if VOLUME_RE.search(text):
        return {"kind": "volume"}
    return {"kind": "other"}


def parse_last_host(line: str) -> dict[str, Any] | None:
    """A conductor 'Error from last host' line: the host, and the compute's exception (the last
    line of the traceback list, which names the RescheduledException's reason)."""
    match = LAST_HOST_RE.search(line)
    if not match:
        return None
    exc = match.group("exc")
    reason = ""
    found = re.findall(r"nova\.exception\.RescheduledException: (.*?)(?:\\n)?['\"]\]?\s*$", exc)
    if found:
        reason = found[-1]
    else:
        reason = exc[-400:]
    return {"host": match.group("host"), "node": match.group("node"), "reason": reason, **classify(exc)}
