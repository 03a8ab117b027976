"""The lab's Placement: one resource provider per nova-compute, its inventory as the libvirt driver
reports it (nova/virt/libvirt/driver.py update_provider_tree: total and max_unit the host's size,
reserved from reserved_host_cpus / reserved_host_memory_mb (default 512) / reserved_host_disk_mb,
allocation_ratio from [DEFAULT] cpu/ram/disk_allocation_ratio, else initial_* 4.0 / 1.0 / 1.0,
nova/conf/compute.py), its usage the flavors of the servers placed on it, and allocation
candidates as placement computes them (placement/objects/research_context.py: used + amount <=
(total - reserved) * allocation_ratio, amount <= max_unit; capacity int((total - reserved) *
allocation_ratio), objects/allocation_candidate.py). A disabled compute carries
COMPUTE_STATUS_DISABLED (nova/compute/manager.py), which the scheduler forbids."""
from __future__ import annotations

import math
import uuid

from .inifile import parse_ini
from .nodes import NOVA_COMPUTE_CONF

CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
# A homelab compute's size when the scenario does not say (resources: {vcpus, memory_mb, disk_gb}).
DEFAULT_SIZE = {"VCPU": 8, "MEMORY_MB": 16384, "DISK_GB": 200}
INITIAL_RATIO = {"VCPU": 4.0, "MEMORY_MB": 1.0, "DISK_GB": 1.0}
RATIO_OPT = {"VCPU": "cpu_allocation_ratio", "MEMORY_MB": "ram_allocation_ratio", "DISK_GB": "disk_allocation_ratio"}
BASE_TRAITS = ["COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_VOLUME_ATTACH_WITH_TAG", "HW_CPU_X86_SSE2"]
DISABLED_TRAIT = "COMPUTE_STATUS_DISABLED"
FLAVOR_CLASSES = (("VCPU", "vcpus"), ("MEMORY_MB", "ram"), ("DISK_GB", "disk"))


def provider_uuid(cloud, host: str) -> str:
    return str(uuid.uuid5(cloud._ns, f"rp-{host}"))


def providers(cloud) -> list[dict]:
    """Every nova-compute that registered (its container exists): uuid, name (the host), node."""
    out = []
    for svc in cloud.compute_services():
        if svc["binary"] != "nova-compute":
            continue
        node = cloud._compute_node(svc["host"])
        out.append({"uuid": provider_uuid(cloud, svc["host"]), "name": svc["host"], "host": svc["host"],
                    "node": node, "disabled": svc["status"] == "disabled"})
    return out


def find(cloud, rp_uuid: str) -> dict | None:
    return next((p for p in providers(cloud) if p["uuid"] == rp_uuid), None)


def inventory(cloud, provider: dict) -> dict[str, dict]:
    node = provider["node"]
    size = dict(DEFAULT_SIZE)
    size.update(getattr(node, "resources", None) or {})
    conf = parse_ini(node.read(NOVA_COMPUTE_CONF) or "").get("DEFAULT", {}) if node else {}

    def number(key: str, default: float) -> float:
        try:
            return float(conf.get(key, default))
        except ValueError:
            return default
    reserved = {"VCPU": int(number("reserved_host_cpus", 0)),
                "MEMORY_MB": int(number("reserved_host_memory_mb", 512)),
                "DISK_GB": int(math.ceil(number("reserved_host_disk_mb", 0) / 1024.0))}
    out = {}
    for rc in CLASSES:
        out[rc] = {"total": int(size[rc]), "reserved": reserved[rc], "min_unit": 1, "max_unit": int(size[rc]),
                   "step_size": 1, "allocation_ratio": number(RATIO_OPT[rc], INITIAL_RATIO[rc])}
    return out


def usages(cloud, provider: dict) -> dict[str, int]:
    used = dict.fromkeys(CLASSES, 0)
    for server in cloud.servers.values():
        if server.get("host") == provider["host"]:
            for rc, key in FLAVOR_CLASSES:
                used[rc] += int(server["flavor"].get(key) or 0)
    return used


def capacity(inv: dict) -> int:
    return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])


def fits(inv: dict, used: int, amount: int) -> bool:
    return (amount <= inv["max_unit"] and amount >= inv["min_unit"] and amount % inv["step_size"] == 0
            and used + amount <= (inv["total"] - inv["reserved"]) * inv["allocation_ratio"])


def traits(provider: dict) -> list[str]:
    return sorted(BASE_TRAITS + ([DISABLED_TRAIT] if provider["disabled"] else []))


def flavor_resources(flavor: dict) -> dict[str, int]:
    return {rc: int(flavor.get(key) or 0) for rc, key in FLAVOR_CLASSES if int(flavor.get(key) or 0) > 0}


def candidates(cloud, resources: dict[str, int], forbidden: tuple[str, ...] = ()) -> list[dict]:
    """The providers that can take every requested amount and carry no forbidden trait."""
    out = []
    for p in providers(cloud):
        if set(forbidden) & set(traits(p)):
            continue
        inv, used = inventory(cloud, p), usages(cloud, p)
        if all(rc in inv and fits(inv[rc], used[rc], amount) for rc, amount in resources.items()):
            out.append(p)
    return out
