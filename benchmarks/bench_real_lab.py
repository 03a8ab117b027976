"""The real lab's start-up and its kolla-ansible: per scenario, the wall time of RealLab.start() by
phase, the CPU seconds Keystone, Neutron and the kolla-ansible render spent, and the wall time of one
``kolla-ansible reconfigure`` render through the lab (kolla-ansible's own templates, all targets in
one ansible run). Prints the figures (and the machine's load average: on a busy 2-core machine wall
times grow, CPU seconds do not); needs the real-tier venvs.

    .venv/bin/python benchmarks/bench_real_lab.py [--scenario NAME ...] [--renders 3]"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kolla_lab.real import lab as real_lab  # noqa: E402
from kolla_lab.real import services  # noqa: E402
from kolla_lab.reconfigure import kolla_ansible  # noqa: E402

PHASES = [(services.OpenStack, "start_keystone"), (services.OpenStack, "finish_keystone"),
          (services.OpenStack, "register"), (real_lab.RealLab, "_render_deployed_files"),
          (real_lab.RealLab, "_build_cloud"), (real_lab.RealLab, "_start_nodes")]
SCENARIOS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "kolla_lab/scenarios").glob("*.yaml"))


def _cpu(process) -> float:
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", action="append")
    parser.add_argument("--renders", type=int, default=3)
    args = parser.parse_args()
    spent: dict[str, float] = {}
    for owner, name in PHASES:
        original = getattr(owner, name)

        def timed(*a, _original=original, _name=name, **kw):
            start = time.monotonic()
            try:
                return _original(*a, **kw)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.monotonic() - start
        setattr(owner, name, timed)
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    starts, renders = [], []
    for scenario in args.scenario or SCENARIOS:
        spent.clear()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.monotonic()
        lab = real_lab.RealLab(scenario).start()
        wall = time.monotonic() - began
        starts.append(wall)
        keystone, neutron = _cpu(lab.openstack.keystone.process), _cpu(lab.openstack.neutron.process)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        ansible = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
        phases = "  ".join(f"{n.strip('_')} {spent.get(n, 0):.1f}" for _, n in PHASES)
        print(f"{scenario:<22} start {wall:5.1f} s  [{phases}]  CPU s: keystone {keystone:.1f} "
              f"neutron {neutron:.1f} render {ansible:.1f}")
        if scenario == (args.scenario or ["seed-homelab"])[0]:
            for _ in range(args.renders):
                began = time.monotonic()
                out, err, rc = kolla_ansible(lab.state, lab.state.deploy,
                                             ["kolla-ansible", "genconfig", "-i", "/etc/kolla/multinode"])
                renders.append(time.monotonic() - began)
                assert rc == 0, err
        lab.stop()
    print(f"RealLab.start: median {statistics.median(starts):.1f} s, min {min(starts):.1f}, max {max(starts):.1f}, "
          f"sum {sum(starts):.1f} s over {len(starts)} scenarios")
    if renders:
        print(f"lab kolla-ansible genconfig (Kolla's templates, all targets): median {statistics.median(renders):.2f} s "
              f"(n={len(renders)})")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
