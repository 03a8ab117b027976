"""Benchmark 4: start-up. ``kolla-wizard --help`` wall time, and the TUI's first paint headless
(benchmarks/tui_driver.py: process start -> first rendered frame of the StartScreen, through the
real ``kolla-wizard --demo`` code path). Also: the import cost of the pieces on the paint path
(``python -X importtime``), to say where the time goes."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, KOLLA_WIZARD, PYTHON, ROOT, Series, machine, run_child, save_json  # noqa: E402


def tui_run(mode: str) -> tuple[dict, object]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    env = dict(os.environ, KOLLA_BENCH_MODE=mode, KOLLA_BENCH_OUT=out, KOLLA_BENCH_T0=repr(time.time()))
    res = run_child([PYTHON, str(BENCH_DIR / "tui_driver.py")], env=env, timeout=300)
    try:
        data = json.loads(Path(out).read_text() or "{}")
    finally:
        os.unlink(out)
    if "first_paint" not in data:
        raise RuntimeError(f"tui driver failed (rc {res.rc}): {res.stderr[-1500:]}")
    return data, res


def import_profile(module: str) -> list[tuple[float, str]]:
    """Top cumulative import times (seconds) of ``import module`` in a fresh interpreter."""
    res = run_child([PYTHON, "-X", "importtime", "-c", f"import {module}"], timeout=120)
    rows = []
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(3)) <= 3:   # top-level and first-level imports only
            rows.append((int(m.group(2)) / 1e6, m.group(4)))
    return sorted(rows, reverse=True)[:8]


def measure(runs: int = 5) -> dict:
    help_, paint, paint_cpu, bare = Series("--help", "s"), Series("first paint", "s"), Series("cpu", "s"), Series("python -c pass", "s")
    run_child([KOLLA_WIZARD, "--help"])  # warm
    flags = {}
    for _ in range(runs):
        bare.add(run_child([PYTHON, "-c", "pass"]).wall)
        help_.add(run_child([KOLLA_WIZARD, "--help"]).wall)
        data, res = tui_run("paint")
        paint.add(data["first_paint"])
        paint_cpu.add(res.cpu)
        flags = {k: v for k, v in data.items() if k.endswith("_at_paint")}
    return {"machine": machine(), "help": help_.to_dict(), "first_paint": paint.to_dict(),
            "paint_process_cpu": paint_cpu.to_dict(), "python_bare": bare.to_dict(), "flags": flags,
            "imports": {m: import_profile(m) for m in ("textual.app", "screens.app", "kolla_wizard.main")}}


def report(r: dict) -> str:
    lines = [f"python -c pass:               {Series('', 's', r['python_bare']['values']).fmt()}",
             f"kolla-wizard --help:          {Series('', 's', r['help']['values']).fmt()}",
             f"TUI first paint (headless):   {Series('', 's', r['first_paint']['values']).fmt()}",
             f"  (paint-and-exit process cpu {Series('', 's', r['paint_process_cpu']['values']).fmt()}; "
             f"openstacksdk imported before paint: {r['flags'].get('openstack_imported_at_paint')}, "
             f"paramiko: {r['flags'].get('paramiko_imported_at_paint')})"]
    for mod, rows in r["imports"].items():
        lines.append(f"  import {mod}: " + ", ".join(f"{name} {sec:.3f}s" for sec, name in rows[:5]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    r = measure(args.runs)
    save_json("startup", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
