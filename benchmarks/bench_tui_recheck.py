"""Benchmark: the warm re-check in the TUI (issue 14: target <= 0.2 s).

Runs the real ``kolla-wizard --demo`` TUI headless (benchmarks/tui_driver.py, mode ``recheck``) and
walks one symptom's diagnosis screen several times in the same process: the first walk is cold
(openstacksdk and paramiko load, first connections), the rest are what an operator waits for when
re-checking after a fix. Each walk is timed from the diagnosis screen's start to its finish (new
Context, new API and SSH connections, every probe, the findings and their remedies, rendered).

Prints per symptom the cold walk, min / median / max of the warm ones and the process CPU (every
thread) each warm walk cost; writes
results/tui_recheck.json."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, PYTHON, Series, machine, run_child, save_json  # noqa: E402

TARGET = 0.2


def measure(symptom: str, rechecks: int, profile: str = "") -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    env = dict(os.environ, KOLLA_BENCH_MODE="recheck", KOLLA_BENCH_OUT=out, KOLLA_BENCH_T0=repr(time.time()),
               KOLLA_BENCH_SYMPTOM=symptom, KOLLA_BENCH_RECHECKS=str(rechecks + 1))
    if profile:
        env["KOLLA_BENCH_PROFILE"] = f"{profile}.{symptom}"
    res = run_child([PYTHON, str(BENCH_DIR / "tui_driver.py")], env=env, timeout=600)
    try:
        data = json.loads(Path(out).read_text() or "{}")
    finally:
        os.unlink(out)
    walks = data.get("walks") or []
    if len(walks) != rechecks + 1:
        raise RuntimeError(f"{symptom}: {len(walks)} walks finished (rc {res.rc}): {res.stderr[-800:]}")
    warm = Series(f"{symptom} warm re-check", "s", [w["seconds"] for w in walks[1:]])
    cpu = Series(f"{symptom} warm re-check cpu", "s", [w.get("cpu", 0.0) for w in walks[1:]])
    ui = Series(f"{symptom} warm re-check UI thread cpu", "s", [w.get("ui_cpu", 0.0) for w in walks[1:]])
    return {"symptom": symptom, "cold": walks[0]["seconds"], "warm": warm.to_dict(), "warm_cpu": cpu.to_dict(),
            "warm_ui_cpu": ui.to_dict(),
            "findings": walks[-1]["findings"], "same_findings": all(w["findings"] == walks[0]["findings"] for w in walks)}


def main(argv: list[str] | None = None) -> int:
    from wizard.playbook import trees_in_all
    p = argparse.ArgumentParser(description="warm re-check of a diagnosis in the TUI")
    p.add_argument("--rechecks", type=int, default=5)
    p.add_argument("--symptom", action="append", help="default: every symptom --symptom all walks")
    p.add_argument("--profile", metavar="PREFIX", default="",
                   help="cProfile the UI thread during the warm walks into PREFIX.<symptom>")
    args = p.parse_args(argv)
    load_start = [round(x, 2) for x in os.getloadavg()]
    rows = [measure(s, args.rechecks, args.profile) for s in (args.symptom or trees_in_all())]
    r = {"machine": machine(), "target": TARGET, "rows": rows, "loadavg_start": load_start,
         "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    save_json("tui_recheck", r)
    for row in rows:
        warm = Series("", "s", row["warm"]["values"])
        verdict = "meets" if warm.median <= TARGET else "misses"
        print(f"{row['symptom']:12} cold {row['cold']:.3f} s; warm re-check {warm.fmt()} ({verdict} <= {TARGET} s); "
              f"cpu {Series('', 's', row['warm_cpu']['values']).fmt()}, of which UI thread "
              f"{Series('', 's', row['warm_ui_cpu']['values']).fmt()}; "
              f"findings {', '.join(row['findings']) or 'none'}{'' if row['same_findings'] else ' (NOT the same every walk)'}")
    print(f"load average at start {r['loadavg_start']}, at end {r['loadavg_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
