"""The real neutron-openvswitch-agents (kolla_lab/real/ovs_agents.py): how long a RealLab takes to
start with them and without them (same scenario, lab compute, one after the other), and how long
each agent takes from its first log line to "Agent initialized successfully" and to its first
report_state (the row's created_at). Prints the figures, with the machine's load; needs root, the
real-tier packages (bash .ci/real-tier-deps) and venvs.

    .venv/bin/python benchmarks/bench_real_agents.py [--labs 1] [--scenario seed-homelab]"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kolla_lab.real import RealLab  # noqa: E402

STAMP = "%Y-%m-%d %H:%M:%S.%f"


def line(name: str, values: list[float]) -> None:
    values = sorted(values)
    print(f"{name:<52} median {statistics.median(values):.1f} s  min {values[0]:.1f}  max {values[-1]:.1f}"
          f"  (n={len(values)})")


def _log_times(log: Path) -> tuple[dt.datetime | None, dt.datetime | None]:
    first = ready = None
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None, None
    for text in lines:
        try:
            moment = dt.datetime.strptime(text[:23], "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            continue
        first = first or moment
        if "Agent initialized successfully" in text:
            ready = moment
            break
    return first, ready


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labs", type=int, default=1)
    parser.add_argument("--scenario", default="seed-homelab")
    args = parser.parse_args()
    starts: dict[str, list[float]] = {"real": [], "lab": []}
    to_ready, to_report = [], []
    for _ in range(args.labs):
        for agents in ("real", "lab"):
            began = time.monotonic()
            lab = RealLab(args.scenario, agents=agents).start()
            starts[agents].append(time.monotonic() - began)
            try:
                if agents != "real":
                    continue
                with sqlite3.connect(lab.openstack.neutron_db) as db:
                    created = dict(db.execute("SELECT host, created_at FROM agents WHERE binary = ?",
                                              ("neutron-openvswitch-agent",)).fetchall())
                for agent in lab.ovs_agents.agents.values():
                    first, ready = _log_times(agent.root / "var-log/kolla/neutron/neutron-openvswitch-agent.log")
                    if first and ready:
                        to_ready.append((ready - first).total_seconds())
                    if first and agent.hostname in created:
                        # the log's clock is local time, the row's UTC
                        row = dt.datetime.strptime(created[agent.hostname], STAMP).replace(tzinfo=dt.timezone.utc)
                        to_report.append((row - first.astimezone(dt.timezone.utc)).total_seconds())
            finally:
                lab.stop()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    line("RealLab start, real OVS agents", starts["real"])
    line("RealLab start, the lab's agent rows", starts["lab"])
    if to_ready:
        line("agent: first log line -> initialized", to_ready)
    if to_report:
        line("agent: first log line -> first report_state", to_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
