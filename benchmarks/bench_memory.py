"""Benchmark 5: peak RSS (ru_maxrss of the child, reaped with wait4) of the headless diagnosis
(against a running lab, and --demo with the lab inside the process) and of a TUI session
(benchmarks/tui_driver.py in session mode: --demo, headless, the three symptoms walked in turn)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LabProcess, Series, machine, save_json  # noqa: E402
import bench_manual  # noqa: E402
import bench_startup  # noqa: E402


def measure(runs: int = 3) -> dict:
    diag, demo, tui, tui_time = (Series("diagnose (running lab)", "MB"), Series("diagnose --demo", "MB"),
                                 Series("TUI session", "MB"), Series("TUI session wall", "s"))
    session = {}
    with LabProcess("seed-homelab") as lab:
        for _ in range(runs):
            diag.add(bench_manual.run_wizard(lab)[1].maxrss_mb)
    for _ in range(runs):
        demo.add(bench_manual.run_demo()[1].maxrss_mb)
        session, res = bench_startup.tui_run("session")
        tui.add(res.maxrss_mb)
        tui_time.add(res.wall)
    return {"machine": machine(), "diagnose": diag.to_dict(), "demo": demo.to_dict(), "tui": tui.to_dict(),
            "tui_wall": tui_time.to_dict(), "tui_session": session}


def report(r: dict) -> str:
    s = r["tui_session"]
    per = ", ".join(f"{k} {v['seconds']:.2f} s -> {', '.join(v['findings']) or 'no finding'}"
                    for k, v in (s.get("symptoms") or {}).items())
    return "\n".join([
        f"peak RSS diagnose --symptom all (running lab): {Series('', 'MB', r['diagnose']['values']).fmt(1)}",
        f"peak RSS diagnose --demo (lab in process):     {Series('', 'MB', r['demo']['values']).fmt(1)}",
        f"peak RSS TUI session (--demo, 3 symptoms):     {Series('', 'MB', r['tui']['values']).fmt(1)}",
        f"  TUI session (last run): first paint {s.get('first_paint', 0):.2f} s, lab ready {s.get('ready', 0):.2f} s, "
        f"done {s.get('done', 0):.2f} s; {per}"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    r = measure(args.runs)
    save_json("memory", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
