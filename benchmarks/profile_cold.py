"""Where a cold ``kolla-wizard diagnose --symptom all`` spends its time (issue 14's speed target).

Runs one diagnosis in a fresh child process against a lab in its own process (as
bench_cold_vs_osc.py does) and prints, for that one run:
- the process's CPU and wall at each phase (interpreter start, the wizard's imports, argv parsing,
  the cloud checks, loading the trees, each tree's walk, the report),
- the heaviest imports (``-X importtime`` of the same command, cumulative),
- every API request (method, path) and every SSH round trip (command, SFTP operation, new
  connection) per host, and which tree/step made it.

Not a benchmark of record (one run; cProfile is not used, so the figures are not inflated); it
says what to cut. ``--runs N`` repeats the phase timing N times and prints the medians."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import KOLLA_WIZARD, PYTHON, LabProcess  # noqa: E402

# The child: the same entry point as the console script, with counters wrapped around the
# transport and the HTTP session before anything runs. Timestamps are process CPU and wall since
# the interpreter started (time.perf_counter at exec is not available: the launcher's own fork
# time is the zero, written to the environment).
_CHILD = r"""
import json, os, sys, threading, time
T0 = float(os.environ["PROFILE_T0"])
marks = []
def mark(name):
    marks.append((name, time.process_time(), time.time() - T0))
mark("interpreter up")
import kolla_wizard.main as root
mark("import kolla_wizard.main (wizard.cli)")
from wizard import cli, cloud, playbook, engine as engine_mod, runbook
mark("import wizard.cloud/playbook/engine/runbook")
import wizard.transport.ssh as ssh   # imported here to count its round trips (the walk imports it anyway)
mark("import wizard.transport.ssh (paramiko), moved here from the walk")
current = threading.local()
where = {"step": "(outside a step)"}
ops = []
def op(kind, host, what):
    ops.append({"kind": kind, "host": host, "what": what, "step": where["step"], "t": round(time.time() - T0, 4)})

def wrap(obj, name, fn):
    orig = getattr(obj, name)
    def wrapped(*a, **kw):
        return fn(orig, *a, **kw)
    setattr(obj, name, wrapped)

def timed(label):
    def fn(orig, *a, **kw):
        try:
            return orig(*a, **kw)
        finally:
            mark(label)
    return fn
wrap(cli, "build_parser", timed("argv parsed (build_parser: symptom choices from the playbooks)"))
wrap(cloud, "check_clouds_files", timed("check_clouds_files (imports openstack.config)"))
wrap(cloud, "check_cloud_entry", timed("check_cloud_entry"))
wrap(playbook, "load_all", timed("playbook.load_all (trees validated, probes imported)"))
wrap(runbook, "to_json", timed("report rendered"))

orig_decide = engine_mod.Engine._decide
def decide(self, tree, step, record):
    where["step"] = f"{tree.id}/{step.id}"
    t_cpu, t_wall = time.process_time(), time.time()
    result = yield from orig_decide(self, tree, step, record)
    steps.append({"step": where["step"], "probe": step.probe, "wall": round(time.time() - t_wall, 4),
                  "cpu": round(time.process_time() - t_cpu, 4)})
    return result
steps = []
engine_mod.Engine._decide = decide
orig_raise = engine_mod.Engine._raise
def raise_(self, tree, step, finding_id, evidence):
    where["step"] = f"{tree.id}/{step.id} (remedies of {finding_id})"
    return (yield from orig_raise(self, tree, step, finding_id, evidence))
engine_mod.Engine._raise = raise_

def exec_(orig, self, text, timeout, stdin=None):
    op("command", self.name, text[:120])
    return orig(self, text, timeout, stdin)
wrap(ssh.SSHTransport, "_exec", exec_)
def sftp(orig, self, what, path, fn):
    op("sftp " + what, self.name, path)
    return orig(self, what, path, fn)
wrap(ssh.SSHTransport, "_sftp_call", sftp)
def connect(orig, self, endpoint):
    op("connect", endpoint.alias, "")
    return orig(self, endpoint)
wrap(ssh.SSHPool, "_connect", connect)

orig_count = cloud.CloudReader._count_requests
def count(self, conn):
    orig_count(self, conn)
    def hook(response, *a, **kw):
        req = response.request
        op("http", req.url.split("/")[2] if req is not None else "?",
           f"{req.method} {req.url.split('?')[0].split('/', 3)[-1]} -> {response.status_code}" if req is not None else "?")
        return response
    conn.session.session.hooks.setdefault("response", []).append(hook)
cloud.CloudReader._count_requests = count

code = 0
try:
    code = root.main(sys.argv[1:])
finally:
    mark("exit")
    with open(os.environ["PROFILE_OUT"], "w") as fh:
        json.dump({"marks": marks, "ops": ops, "steps": steps, "rc": code}, fh)
"""


def run_once(lab: LabProcess, env: dict) -> dict:
    import time
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    argv = [PYTHON, "-c", _CHILD, "diagnose", *lab.wizard_args(), "--symptom", "all", "--format", "json",
            "--no-input"]
    child_env = dict(env, PROFILE_OUT=path, PROFILE_T0=repr(time.time()))
    subprocess.run(argv, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    try:
        return json.loads(Path(path).read_text())
    finally:
        os.unlink(path)


def importtime(lab: LabProcess, env: dict, top: int = 15) -> list[tuple[int, str]]:
    res = subprocess.run([PYTHON, "-X", "importtime", KOLLA_WIZARD, "diagnose", *lab.wizard_args(),
                          "--symptom", "all", "--format", "json", "--no-input"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    rows = []
    for line in res.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 2:     # the top levels say what pulled the weight in
            rows.append((int(parts[1]), name))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--scenario", default="seed-homelab")
    args = p.parse_args(argv)
    with LabProcess(args.scenario) as lab:
        env = lab.env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(lab.dir / "pycache")
        run_once(lab, env)      # writes the .pyc files and warms the page cache
        runs = [run_once(lab, env) for _ in range(max(1, args.runs))]
        imports = importtime(lab, env)
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}; phases, median of {len(runs)} runs "
          "(cumulative since exec: cpu s / wall s):")
    names = [m[0] for m in runs[0]["marks"]]
    for i, name in enumerate(names):
        cpu = statistics.median(r["marks"][i][1] for r in runs if len(r["marks"]) > i)
        wall = statistics.median(r["marks"][i][2] for r in runs if len(r["marks"]) > i)
        print(f"  {cpu:6.3f} / {wall:6.3f}  {name}")
    last = runs[-1]
    print("steps of the last run (wall / cpu of the process while the step ran):")
    for s in last["steps"]:
        print(f"  {s['wall']:6.3f} / {s['cpu']:6.3f}  {s['step']} [{s['probe']}]")
    ops = last["ops"]
    kinds: dict[str, int] = {}
    for o in ops:
        kinds[o["kind"].split()[0]] = kinds.get(o["kind"].split()[0], 0) + 1
    print(f"round trips of the last run: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}")
    for o in ops:
        print(f"  {o['t']:6.3f}  {o['kind']:12} {o['host']:16} {o['what'][:90]}  <- {o['step']}")
    print("heaviest imports (-X importtime, cumulative microseconds, one run):")
    for cum, name in imports:
        print(f"  {cum:8d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
