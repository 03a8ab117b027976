"""Run every benchmark side by side, print the figures and write docs/benchmarks.md.

    .venv/bin/python benchmarks/run_all.py [--quick]

Each part also runs alone: bench_manual.py, bench_api.py, bench_fanout.py, bench_startup.py,
bench_memory.py. Only 127.0.0.1 is ever connected to (the lab binds there)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api  # noqa: E402
import bench_fanout  # noqa: E402
import bench_manual  # noqa: E402
import bench_memory  # noqa: E402
import bench_startup  # noqa: E402
from _common import ROOT, machine, save_json, textual_version  # noqa: E402

NOTES = Path(__file__).resolve().parent / "notes.md"


def verdict(ok: bool, text: str) -> str:
    return f"{'met' if ok else '**missed**'}: {text}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer runs and no 500-node case")
    p.add_argument("--no-write", action="store_true", help="print only; do not write docs/benchmarks.md")
    p.add_argument("--reuse", default="", metavar="PARTS",
                   help="comma list of parts (manual,api,fanout,startup,memory) taken from the previous run's "
                        "benchmarks/results/all.json instead of measured again")
    args = p.parse_args(argv)
    reuse = {x.strip() for x in args.reuse.split(",") if x.strip()}
    previous = {}
    if reuse:
        import json
        previous = json.loads((Path(__file__).resolve().parent / "results" / "all.json").read_text())

    # Where each part's figures were measured: a reused part keeps the run that measured it (a chain of
    # --reuse runs must not pass old figures off as the last run's).
    provenance: dict[str, dict] = {}

    def measured_in(name) -> dict:
        earlier = (previous.get("parts") or {}).get(name)
        return earlier or {"finished": previous.get("finished", "?"), "machine": previous.get("machine")}

    def part(name, fn):
        if name in reuse:
            provenance[name] = measured_in(name)
            print(f"(reused from the run of {provenance[name]['finished']})", flush=True)
            return previous[name]
        provenance[name] = {"finished": None, "machine": None}  # filled in at the end: this run
        return fn()
    runs = 2 if args.quick else 5
    started = time.time()
    m0 = machine()
    sections = []

    print("== 1. wizard vs the manual way ==", flush=True)
    r1 = part("manual", lambda: bench_manual.measure(runs, 1 if args.quick else 3))
    t1 = bench_manual.report(r1)
    print(t1, flush=True)
    wiz_med = r1["wizard"]["median"]
    v1 = [verdict(wiz_med < 1.5, f"whole diagnosis {wiz_med:.2f} s median (target < 1.5 s"
                  + ("" if wiz_med < 1.5 else f", over by {wiz_med - 1.5:.2f} s, x{wiz_med / 1.5:.1f}") + ")"),
          verdict(r1["ratio_median"] >= 15, f"{r1['ratio_median']:.1f}x faster than the manual sequence (target >= 15x)")]
    steps = "\n".join(f"| {i + 1} | {s['symptom']} | `{s['command'].replace(str(ROOT), '.')}` | {s['why']} | "
                      f"{s['seconds']:.2f} |" for i, s in enumerate(r1["manual_detail"]["steps"]))
    sections.append(("1. Time to the root cause: wizard vs the manual way", t1, v1,
                     "| # | symptom | command (last run) | what it tells the operator | s |\n|---|---|---|---|---|\n" + steps))

    print("== 2. API requests per diagnosis ==", flush=True)
    r2 = part("api", lambda: bench_api.measure((5,) if args.quick else (5, 500)))
    t2 = bench_api.report(r2)
    print(t2, flush=True)
    per = {}
    for row in r2["rows"]:
        if row["symptom"] != "all":
            per.setdefault(row["symptom"], set()).add(row["lab_requests"])
    worst = max(max(v) for v in per.values())
    constant = all(len(v) == 1 for v in per.values())
    v2 = [verdict(worst <= 8, "at most 8 requests per symptom: " + ", ".join(f"{k} {sorted(v)}" for k, v in per.items())
                  + ("" if worst <= 8 else f" (worst over by {worst - 8})")),
          verdict(constant, "same count for 1, 5 and 500 computes" if constant else "count changes with the lab size")]
    sections.append(("2. API requests per diagnosis (the lab's counter)", t2, v2, ""))

    print("== 3. fan-out ==", flush=True)
    sizes = (10, 50) if args.quick else (10, 50, 200, 500)
    r3 = part("fanout", lambda: bench_fanout.measure(sizes, runs, 1))
    t3 = bench_fanout.report(r3)
    print(t3, flush=True)
    rows = {row["computes"]: row for row in r3["rows"]}
    big = rows[max(rows)]
    big_med = big["total"]["median"]
    per_host = [row["total"]["median"] / row["computes"] for row in r3["rows"]]
    linear = per_host[-1] <= 1.5 * min(per_host)
    reused = all({int(k) for k in row["detail"]["connections_per_host_histogram"]} == {1} for row in r3["rows"])
    bounded = all(row["detail"]["peak_in_flight"] <= row["detail"]["max_parallel"] for row in r3["rows"])
    found = all(row["detail"]["found_right_one"] for row in r3["rows"])
    v3 = [verdict(big_med < 10 and max(rows) >= 500, f"{max(rows)} computes in {big_med:.2f} s median (target 500 in < 10 s"
                  + ("" if big_med < 10 else f", over by {big_med - 10:.1f} s") + ")"),
          verdict(linear, "growth no worse than linear: " + ", ".join(f"{row['computes']}: {1000 * x:.0f} ms/host"
                                                                      for row, x in zip(r3["rows"], per_host))),
          verdict(bounded, "bounded concurrency (peak in flight <= max_parallel)"),
          verdict(reused, "one SSH connection per host, reused for both operations"),
          verdict(found, "the broken compute found every time, and only it"),
          verdict(not any(row["detail"]["errors"] for row in r3["rows"]),
                  "every host answered: " + ", ".join(f"{row['computes']}: {len(row['detail']['errors'])} failed"
                                                     for row in r3["rows"]))]
    sections.append(("3. Fan-out to N computes over SSH", t3, v3, ""))

    print("== 4. start-up ==", flush=True)
    r4 = part("startup", lambda: bench_startup.measure(runs))
    t4 = bench_startup.report(r4)
    print(t4, flush=True)
    fp = r4["first_paint"]["median"]
    v4 = [verdict(fp < 0.5, f"TUI first paint {fp:.2f} s median (target < 0.5 s" + ("" if fp < 0.5 else f", over by {fp - 0.5:.2f} s") + ")"),
          verdict(not r4["flags"].get("openstack_imported_at_paint") and not r4["flags"].get("paramiko_imported_at_paint"),
                  "openstacksdk and paramiko not imported before the first paint")]
    sections.append(("4. Start-up", t4, v4, ""))

    print("== 5. memory ==", flush=True)
    r5 = part("memory", lambda: bench_memory.measure(2 if args.quick else 3))
    t5 = bench_memory.report(r5)
    print(t5, flush=True)
    peak = max(r5["diagnose"]["max"], r5["demo"]["max"], r5["tui"]["max"])
    v5 = [verdict(peak < 150, f"largest peak RSS {peak:.1f} MB (target < 150 MB)")]
    sections.append(("5. Memory (peak RSS)", t5, v5, ""))

    m1 = machine()
    elapsed = time.time() - started
    finished = time.strftime("%Y-%m-%d %H:%M:%S")
    for name, where in provenance.items():
        if where["finished"] is None:
            provenance[name] = {"finished": finished, "machine": [m0, m1]}
    save_json("all", {"finished": finished, "reused": sorted(reuse), "parts": provenance,
                      "machine": [m0, m1], "manual": r1, "api": r2, "fanout": r3, "startup": r4, "memory": r5})
    if args.no_write:
        return 0
    md = [
        "# Benchmarks",
        "",
        "Generated by `.venv/bin/python benchmarks/run_all.py` (do not edit by hand; the analysis below the "
        "figures is kept in `benchmarks/notes.md`). Each part runs alone too: `benchmarks/bench_manual.py`, "
        "`bench_api.py`, `bench_fanout.py`, `bench_startup.py`, `bench_memory.py`. Figures are "
        "min / median / max over n runs. Everything runs against the embedded lab on 127.0.0.1.",
        "",
        "## Machine",
        f"- {m0['nproc']} CPUs ({m0['cpu']}), {m0['mem_mb']} MB RAM, {m0['platform']}",
        f"- Python {m0['python']}, Textual {textual_version()}",
        f"- load average at start {m0['loadavg']}, at end {m1['loadavg']} (other sessions share this machine: "
        "wall times are inflated when they are busy; CPU times are given where they tell more)",
        *[f"- parts {', '.join(names)} not measured again: taken from the run of {when} (same machine, the code "
          f"of that day), which saw load averages from {load[0]} to {load[1]}"
          for when, names, load in _reused_runs(provenance, reuse)],
        f"- whole run: {elapsed / 60:.1f} min{' (--quick)' if args.quick else ''}",
        "",
        "## Targets",
    ]
    for title, _, verdicts, _ in sections:
        md.append(f"- **{title}**")
        md += [f"  - {v}" for v in verdicts]
    for title, text, _, extra in sections:
        md += ["", f"## {title}", "", "```", text, "```"]
        if extra:
            md += ["", extra]
    if NOTES.exists():
        md += ["", NOTES.read_text().rstrip()]
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(md) + "\n")
    print(f"wrote {out}")
    return 0


def _reused_runs(provenance: dict, reuse: set) -> list[tuple[str, list[str], tuple]]:
    """(when, parts, (load at start, load at end)) for each earlier run the reused parts come from."""
    runs: dict[str, list[str]] = {}
    for name in sorted(reuse):
        runs.setdefault(provenance[name]["finished"], []).append(name)
    out = []
    for when, names in sorted(runs.items()):
        machine = provenance[names[0]].get("machine") or [{}, {}]
        out.append((when, names, (machine[0].get("loadavg", "?"), machine[1].get("loadavg", "?"))))
    return out


if __name__ == "__main__":
    sys.exit(main())
