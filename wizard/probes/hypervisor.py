"""The compute host's hypervisor as nova-compute uses it: the virt_type Kolla rendered into
nova-compute's nova.conf ([libvirt] virt_type = {{ nova_compute_virt_type }}, default kvm), and
whether the host can run KVM at all (vmx/svm in /proc/cpuinfo, /dev/kvm). A nested homelab VM
without nested virtualization has neither, and libvirt refuses every KVM guest there."""
from __future__ import annotations

from typing import Any

from ..errors import WizardError
from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from .registry import probe
from ..i18n import t
from ..probe_context import ProbeContext

NOVA_COMPUTE_CONF = "/etc/kolla/nova-compute/nova.conf"


def virt_type_of(text: str | None) -> str | None:
    from ..kolla.ini import parse_ini

    if text is None:
        return None
    try:
        option = parse_ini(text, NOVA_COMPUTE_CONF).get("libvirt", "virt_type")
    except WizardError:
        return None
    return option.value.strip() if option is not None else None


def host_virt_support(ctx: ProbeContext, host: str) -> dict[str, Any]:
    """virt_type, CPU virtualization flags and /dev/kvm on ``host`` (inventory name), read over SSH."""
    node = _nodeio.transport(ctx, host)
    sudo = bool(getattr(node, "become", False))
    conf = _nodeio.read_text(node, NOVA_COMPUTE_CONF)
    virt_type = virt_type_of(conf)
    flags = node.run(["grep", "-c", "-E", "-w", "vmx|svm", "/proc/cpuinfo"], sudo=False)
    cpu_flags = int(flags.stdout.strip() or 0) if flags.rc in (0, 1) and flags.stdout.strip().isdigit() else None
    kvm = node.run(["test", "-e", "/dev/kvm"], sudo=sudo)
    return {"host": host, "virt_type": virt_type or (t("kvm (Kolla's default)") if conf is None else "kvm"),
            "virt_type_value": virt_type or "kvm", "conf_read": conf is not None,
            "cpu_virt_flags": cpu_flags, "dev_kvm": kvm.rc == 0}


@probe("compute_virt_support",
       outcomes=("kvm-unavailable", "kvm-available", "not-kvm"),
       summary="nova-compute's virt_type against the host's CPU (vmx/svm) and /dev/kvm", requires="node",
       needs=("host",), provides=("virt",))
def compute_virt_support(ctx: ProbeContext, args, emit) -> Evidence:
    host = ctx.facts.get("host")
    if not host:
        raise ProbeUnavailable(t("the failing host is not known from the earlier steps"))
    inv = _nodeio.inventory_name(ctx, host)
    try:
        seen = host_virt_support(ctx, inv)
    except WizardError as exc:
        raise ProbeUnavailable(t("{inv}: {exc}; run `grep -c -E -w 'vmx|svm' /proc/cpuinfo; ls -l /dev/kvm` there and answer", inv=inv, exc=exc.one_line())) from None
    sources = [f"{inv}: {NOVA_COMPUTE_CONF}", f"{inv}: grep -c -E -w 'vmx|svm' /proc/cpuinfo", f"{inv}: test -e /dev/kvm"]
    flags = seen["cpu_virt_flags"]
    cpu = (t("no vmx/svm flag") if flags == 0 else t("vmx/svm on {flags} CPU(s)", flags=flags) if flags else t("CPU flags unread"))
    seen["cpu"] = cpu
    seen["kvm_device"] = t("/dev/kvm present") if seen["dev_kvm"] else t("no /dev/kvm")
    obs = [t("{inv}: nova-compute's [libvirt] virt_type is {virt_type} ({NOVA_COMPUTE_CONF}); "
             "/proc/cpuinfo has {cpu}; {kvm_device}.", inv=inv, virt_type=seen['virt_type'], NOVA_COMPUTE_CONF=NOVA_COMPUTE_CONF, cpu=cpu, kvm_device=seen['kvm_device'])]
    facts = {"virt": seen}
    if seen["virt_type_value"] != "kvm":
        return Evidence("not-kvm", facts=facts, observations=obs, sources=sources, host=host)
    if flags == 0 or not seen["dev_kvm"]:
        obs.append(t("virt_type kvm needs hardware virtualization: on a VM that is nested virtualization, which "
                     "this host does not have, so libvirt refuses every KVM guest here."))
        return Evidence("kvm-unavailable", facts=facts, observations=obs, sources=sources, host=host)
    return Evidence("kvm-available", facts=facts, observations=obs, sources=sources, host=host)
