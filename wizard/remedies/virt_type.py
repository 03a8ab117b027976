"""Remedies for a compute that cannot run KVM guests (virt-type-unsupported): durable first,
globals.yml nova_compute_virt_type: "qemu" and a nova reconfigure (Kolla renders
[libvirt] virt_type from it into nova-compute's nova.conf, roles/nova-cell/templates/
nova.conf.d/libvirt.conf.j2); or nested virtualization on the machine hosting the compute."""
from __future__ import annotations

import posixpath
from typing import Any

import yaml

from ..findings import Finding, Remedy
from ..kolla.cli_syntax import reconfigure_argv
from . import _edits
from .actions import NodeCommand
from .provider_networks import model_or_none, read_deploy_file
from .quoting import join
from .registry import remedy
from ..i18n import t
from ..probe_context import ProbeContext

VIRT_VAR = "nova_compute_virt_type"


@remedy("virt-type-qemu", also=("enable-nested-virt",), summary="Run guests with QEMU emulation (globals.yml) and reconfigure nova")
def virt_type_qemu(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    host = (finding.facts.get("virt") or {}).get("host") or finding.host
    model = model_or_none(ctx)
    out: list[Remedy] = []
    if model is not None:
        globals_path = posixpath.join(model.config_dir, "globals.yml")
        old = read_deploy_file(ctx, globals_path)
        if old is not None:
            new = _edits.set_yaml_scalar(old, VIRT_VAR, "qemu",
                                         "the computes have no hardware virtualization: emulate guests with QEMU")
            yaml.safe_load(new)
            argv = reconfigure_argv(model.inventory_path, tags="nova", release=getattr(model, "release", None))
            out.append(Remedy(
                id="virt-type-qemu", kind="file_edit", durable=True,
                title=t("Set {VIRT_VAR}: \"qemu\" in globals.yml and reconfigure nova", VIRT_VAR=VIRT_VAR),
                explain=(t("Set {VIRT_VAR}: \"qemu\" in {globals_path} (extra vars, so it wins over every other place), "
                           "then `{argv}`: Kolla renders [libvirt] virt_type = qemu into nova-compute's nova.conf on "
                           "every compute and restarts nova_compute. Guests then run with QEMU's software emulation: "
                           "slower than KVM, but it needs no vmx/svm. The reconfigure is not limited to {host}: "
                           "Kolla's docs advise against --limit (known bugs with nova, kolla-ansible bug 2054348), "
                           "and the variable applies to every compute. Servers already in ERROR stay there: delete "
                           "and create them again.", VIRT_VAR=VIRT_VAR, globals_path=globals_path, argv=join(argv), host=host)),
                path=globals_path, host=None, diff=_edits.unified_diff(globals_path, old, new),
                command=join(argv), actions=[_edits.file_edit(None, globals_path, old, new, "yaml"),
                                             NodeCommand(None, argv, timeout=3600.0)],
                verify=finding.step))
    out.append(Remedy(
        id="enable-nested-virt", kind="command", durable=True,
        title=t("Turn on nested virtualization for the VM that is {host}", host=host),
        explain=(t("{host} is a VM. On the machine that hosts it, enable nested virtualization (kvm_intel "
                   "nested=1 or kvm_amd nested=1, checked in /sys/module/kvm_intel/parameters/nested) and "
                   "give the VM the host's CPU model (host-passthrough), then power-cycle {host}: vmx or svm "
                   "appears in its /proc/cpuinfo and /dev/kvm exists, and KVM guests run at full speed. The "
                   "wizard cannot do this: it is outside the cloud.", host=host)),
        command=None, actions=[], verify=None))
    return out
