"""Benchmark: a cold ``kolla-wizard diagnose --symptom all`` beside one ``openstack server list``.

Issue 14's speed target: the whole diagnosis of every tree, from a fresh process, should cost at
most 0.4 x what one ``openstack server list`` costs against the same cloud. Both run here side by
side, alternating, against one lab in its own process (``kolla-wizard lab --write-config``, its
start excluded), each as a fresh process timed from fork to reaping (interpreter start and every
import included; the page cache is warm after one unmeasured run of each). The wizard uses the
real-cloud options, so it talks to the lab exactly as to a real cloud.

Prints min / median / max of each and the ratio of the medians; writes results/cold_vs_osc.json.
``--before DIR`` (a checkout of an earlier commit, e.g. ``git worktree add --detach DIR COMMIT``)
runs that wizard too, from the same venv with ``PYTHONPATH=DIR``, in the same alternation: a
before/after pair measured side by side under the same load."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import KOLLA_WIZARD, OPENSTACK, LabProcess, Series, machine, run_child, save_json  # noqa: E402

TARGET = 0.4
SCENARIO = "seed-homelab"


def measure(runs: int = 5, scenario: str = SCENARIO, before: str | None = None) -> dict:
    load_start = [round(x, 2) for x in os.getloadavg()]
    wizard = Series("kolla-wizard diagnose --symptom all (cold)", "s")
    osc = Series("openstack server list (cold)", "s")
    # CPU seconds of each child (user + system): on a shared, loaded machine the wall clock mostly
    # measures the run queue; the CPU a run costs is the steadier figure of what was cut.
    wizard_cpu = Series("kolla-wizard diagnose --symptom all (cold), cpu", "s")
    osc_cpu = Series("openstack server list (cold), cpu", "s")
    before_wall = Series("kolla-wizard diagnose --symptom all (cold), before", "s")
    before_cpu = Series("kolla-wizard diagnose --symptom all (cold), before, cpu", "s")
    with LabProcess(scenario) as lab:
        env = lab.env()
        # Sessions on this machine export PYTHONDONTWRITEBYTECODE=1: every cold run would then compile
        # the wizard's own ~70 modules from source (~0.17 s CPU) while openstackclient's come from the
        # .pyc pip wrote. An installed wizard has its .pyc too, so both sides keep theirs in a private
        # cache prefix (the source trees stay clean), written by the unmeasured run 0.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(lab.dir / "pycache")
        diagnose = [KOLLA_WIZARD, "diagnose", *lab.wizard_args(), "--symptom", "all", "--format", "json",
                    "--no-input"]
        server_list = [OPENSTACK, "server", "list"]
        findings: list[str] = []
        before_env = dict(env, PYTHONPATH=str(Path(before).resolve())) if before else None
        if before:
            # The editable install maps wizard.playbooks to this checkout's playbooks/; a link inside
            # the earlier checkout makes its wizard read its own trees (found first on PYTHONPATH).
            link = Path(before).resolve() / "wizard" / "playbooks"
            if not link.exists() and (link.parent.parent / "playbooks").is_dir():
                link.symlink_to(link.parent.parent / "playbooks")
        for i in range(runs + 1):            # run 0 warms the page cache and the .pyc files
            if before_env is not None:
                old = run_child(diagnose, env=before_env, timeout=300)
                if not old.stdout.strip().startswith("{"):
                    raise RuntimeError(f"diagnose (before) printed no report (rc {old.rc}): {old.stderr[-800:]}")
                if i:
                    before_wall.add(old.wall)
                    before_cpu.add(old.cpu)
            res = run_child(diagnose, env=env, timeout=300)
            try:
                findings = sorted(f["id"] for f in json.loads(res.stdout)["findings"])
            except (ValueError, KeyError):
                raise RuntimeError(f"diagnose printed no report (rc {res.rc}): {res.stderr[-800:]}")
            listed = run_child(server_list, env=env, timeout=300)
            if listed.rc != 0:
                raise RuntimeError(f"openstack server list failed (rc {listed.rc}): {listed.stderr[-800:]}")
            if i:
                wizard.add(res.wall)
                osc.add(listed.wall)
                wizard_cpu.add(res.cpu)
                osc_cpu.add(listed.cpu)
        out = {"machine": machine(), "scenario": scenario, "lab_start_seconds": lab.start_seconds,
               "wizard": wizard.to_dict(), "openstack_server_list": osc.to_dict(), "findings": findings,
               "ratio_median": wizard.median / osc.median, "target": TARGET,
               "wizard_cpu": wizard_cpu.to_dict(), "openstack_server_list_cpu": osc_cpu.to_dict(),
               "ratio_cpu_median": wizard_cpu.median / osc_cpu.median,
               "loadavg_start": load_start, "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
        if before:
            out.update({"before": str(before), "before_wizard": before_wall.to_dict(),
                        "before_wizard_cpu": before_cpu.to_dict(),
                        "before_ratio_median": before_wall.median / osc.median,
                        "before_ratio_cpu_median": before_cpu.median / osc_cpu.median})
    return out


def report(r: dict) -> str:
    w = Series("", "s", r["wizard"]["values"])
    o = Series("", "s", r["openstack_server_list"]["values"])
    verdict = "meets" if r["ratio_median"] <= r["target"] else "misses"
    return "\n".join([
        f"lab: {r['scenario']} in its own process (start {r['lab_start_seconds']:.2f} s, excluded)",
        f"kolla-wizard diagnose --symptom all (cold): {w.fmt()}  findings: {', '.join(r['findings'])}",
        f"openstack server list (cold):               {o.fmt()}",
        f"ratio of the medians: {r['ratio_median']:.2f} ({verdict} the target <= {r['target']})",
        *([f"cpu (user+sys) diagnose: {Series('', 's', r['wizard_cpu']['values']).fmt()}",
           f"cpu (user+sys) openstack server list: {Series('', 's', r['openstack_server_list_cpu']['values']).fmt()}",
           f"ratio of the cpu medians: {r['ratio_cpu_median']:.2f}",
           f"load average at start {r['loadavg_start']}, at end {r['loadavg_end']}"] if "wizard_cpu" in r else []),
        *([f"before ({r['before']}): {Series('', 's', r['before_wizard']['values']).fmt()}, "
           f"cpu {Series('', 's', r['before_wizard_cpu']['values']).fmt()}; ratios wall {r['before_ratio_median']:.2f}, "
           f"cpu {r['before_ratio_cpu_median']:.2f}"] if "before" in r else []),
    ])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="cold diagnose --symptom all vs one openstack server list")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--scenario", default=SCENARIO)
    p.add_argument("--before", metavar="DIR", help="also run the wizard of this checkout (an earlier commit)")
    args = p.parse_args(argv)
    r = measure(args.runs, args.scenario, args.before)
    save_json("cold_vs_osc", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
