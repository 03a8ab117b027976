"""Embedded lab start-up: what every embedded test and `--demo` pays before the first probe.
Prints, in one process: loading every shipped scenario (each validated against the playbooks'
finding IDs), the first `Lab(...).start()` and the median of the next starts. Run it on two
checkouts to compare them side by side:

    .venv/bin/python benchmarks/bench_lab_start.py [--scenario NAME] [--starts N]"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kolla_lab import Lab, list_scenarios, load_scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seed-homelab")
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    names = list_scenarios()
    began = time.perf_counter()
    for name in names:
        load_scenario(name)
    print(f"load and validate {len(names)} scenarios: {time.perf_counter() - began:.2f} s")
    times = []
    for _ in range(max(2, args.starts)):
        began = time.perf_counter()
        lab = Lab(args.scenario).start()
        times.append(time.perf_counter() - began)
        lab.stop()
    print(f"Lab({args.scenario!r}).start(): first {times[0] * 1000:.0f} ms, "
          f"median of the next {len(times) - 1}: {statistics.median(times[1:]) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
