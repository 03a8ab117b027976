"""Benchmark 3: fan-out. Find the one broken compute among N (10, 50, 200, 500) with the wizard's
own node probes over SSH.

The lab (generated fanout-N: healthy, one compute's deployed openvswitch_agent.ini lacks
bridge_mappings) runs in its own process. In this process the wizard does what a probe does:
``Context(Settings(real-cloud options))`` reads the Kolla model from the deploy host over SSH,
takes the hosts of the ``compute`` group, and runs on each, through ``wizard.readings.nodes.fan_out``
(bounded by ``Settings.max_parallel``) over ``Context.node(host)`` transports:

  1. ``node_ovs.deployed_mappings(node)``: SFTP read of the deployed openvswitch_agent.ini, parsed;
  2. ``node_ovs.container_state(...)``: ``docker inspect neutron_openvswitch_agent`` (exec).

Two operations per host show whether the SSH connection is reused (the pool's _connect is
counted per host). The clock starts before the Context is built and stops when the broken host
is known; the Kolla model load (one SSH session to the deploy host, the N-host inventory) is
timed separately as well."""
from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LabProcess, Series, machine, save_json  # noqa: E402
import gen_scenarios  # noqa: E402


def find_broken(lab: LabProcess, max_parallel: int = 32) -> dict:
    from wizard.context import Context, Settings
    from wizard.readings import nodes as _nodeio
from wizard.probes import node_ovs

    c = lab.config
    cpu0, lab0 = _self_cpu(), _proc_cpu(lab.proc.pid)
    t0 = time.perf_counter()
    ctx = Context(Settings(os_cloud="kolla-lab", inventory="/etc/kolla/multinode", deploy_host="deploy",
                           ssh_config=str(c / "ssh_config"), known_hosts=[str(c / "known_hosts")],
                           ssh_timeout=30.0, max_parallel=max_parallel))
    pool = ctx.nodes
    connects: collections.Counter = collections.Counter()
    real_connect = pool._connect

    def counting_connect(endpoint):           # instrumentation of this pool instance only
        connects[endpoint.alias] += 1
        return real_connect(endpoint)
    pool._connect = counting_connect

    hosts = _nodeio.hosts_in_group(ctx, "compute")
    t_model = time.perf_counter() - t0
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def probe(node):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            mappings, _where = node_ovs.deployed_mappings(node)
            state = node_ovs.container_state(ctx, node, node.name, _nodeio.OVS_AGENT_CONTAINER)
            return mappings, state["status"]
        finally:
            with lock:
                in_flight -= 1

    t1 = time.perf_counter()
    results = _nodeio.fan_out(ctx, hosts, probe)
    t_fan = time.perf_counter() - t1
    broken = sorted(h for h, r in results.items()
                    if not isinstance(r, Exception) and "physnet1" not in (r[0] or {}))
    errors = {h: _nodeio.error_line(r) for h, r in results.items() if isinstance(r, Exception)}
    total = time.perf_counter() - t0
    threads_open = threading.active_count()
    client_cpu, lab_cpu = _self_cpu() - cpu0, _proc_cpu(lab.proc.pid) - lab0
    ctx.close()
    per_host = collections.Counter(connects.values())
    return {"hosts": len(hosts), "broken": broken, "errors": errors, "total": total, "model": t_model,
            "fan_out": t_fan, "peak_in_flight": peak, "max_parallel": max_parallel,
            "connections": sum(connects.values()), "hosts_connected": len(connects),
            "connections_per_host_histogram": dict(per_host), "ops_per_host": 2,
            "client_cpu": client_cpu, "lab_cpu": lab_cpu, "client_threads_at_end": threads_open}


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _proc_cpu(pid: int) -> float:
    """utime + stime of another process (the lab), from /proc/PID/stat."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def measure(sizes=(10, 50, 200, 500), runs: int = 5, big_runs: int = 3) -> dict:
    rows = []
    for n in sizes:
        path = gen_scenarios.write("fanout", n)
        want = [gen_scenarios.compute_name(gen_scenarios.broken_index(n))]
        total, fan, model = Series(f"fan-out {n}", "s"), Series("fan", "s"), Series("model", "s")
        with LabProcess(str(path)) as lab:
            detail = None
            for _ in range(big_runs if n >= 200 else runs):
                d = find_broken(lab)
                total.add(d["total"]); fan.add(d["fan_out"]); model.add(d["model"])
                d["found_right_one"] = d["broken"] == want
                detail = d
            rows.append({"computes": n, "lab_start": lab.start_seconds, "total": total.to_dict(),
                         "fan_out": fan.to_dict(), "model": model.to_dict(), "detail": detail, "expected": want})
    return {"machine": machine(), "rows": rows}


def report(r: dict) -> str:
    lines = [f"{'computes':>8}  {'total (min/med/max)':<28}{'of which fan-out':<26}{'ms/host':>8}  "
             f"{'conn/host':<10}{'peak':>5}  found"]
    for row in r["rows"]:
        t = Series("", "s", row["total"]["values"])
        f = Series("", "s", row["fan_out"]["values"])
        d = row["detail"]
        hist = ",".join(f"{k}x{v}" for k, v in sorted(d["connections_per_host_histogram"].items()))
        lines.append(f"{row['computes']:>8}  {t.min:6.2f}/{t.median:6.2f}/{t.max:6.2f} s      "
                     f"{f.min:6.2f}/{f.median:6.2f}/{f.max:6.2f} s   {1000 * t.median / row['computes']:8.1f}  "
                     f"{hist:<10}{d['peak_in_flight']:>5}  {', '.join(d['broken']) or '-'}"
                     f"{'' if d['found_right_one'] else ' (WRONG, expected ' + ','.join(row['expected']) + ')'}"
                     f"{'  errors: ' + str(len(d['errors'])) if d['errors'] else ''}")
    lines.append("conn/host: SSH connections opened per host (AxB = A connections on B hosts; the deploy host "
                 "included); peak: most probes in flight at once (bound: Settings.max_parallel = "
                 f"{r['rows'][0]['detail']['max_parallel'] if r['rows'] else '?'})")
    for row in r["rows"]:
        d = row["detail"]
        lines.append(f"  {row['computes']} computes, last run: cpu client {d['client_cpu']:.1f} s, lab {d['lab_cpu']:.1f} s; "
                     f"client threads alive before close {d['client_threads_at_end']}; lab start {row['lab_start']:.1f} s"
                     + (f"; first error: {next(iter(d['errors'].values()))}" if d["errors"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 50, 200, 500])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--big-runs", type=int, default=3, help="runs for 200 computes and more")
    args = p.parse_args(argv)
    r = measure(args.sizes, args.runs, args.big_runs)
    save_json("fanout", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
