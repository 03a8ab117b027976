"""Benchmark: what the Kolla oracle costs a diagnosis (issue 9, "Kolla oracle in the product").

The same ``kolla-wizard diagnose --symptom S --format json`` against seed-homelab (the lab in its
own process, the real-cloud options: the deploy host is an SSH node, so the render reads its files
over SFTP) three ways:

* ``--kolla-ansible off``: the built-in model only;
* auto-detection where kolla-ansible is not installed (the lab, the demo, CI's venv): what every
  operator without kolla-ansible pays;
* ``--kolla-ansible <real-tier venv-kolla>``: Kolla's own templates render the expected view.

Printed: wall time per diagnosis (min / median / max), where the three-views step says "expected"
came from, and whether the finding IDs are the same in all three. The render happens only when a
tree reaches the three-views step (max-retries on this scenario)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import KOLLA_WIZARD, LabProcess, Series, machine, run_child, save_json  # noqa: E402

SCENARIO = "seed-homelab"


def kolla_venv() -> Path | None:
    home = Path(os.environ.get("KOLLA_WIZARD_REAL_TIER_HOME") or Path.home() / ".cache/kolla-wizard/real-tier")
    venv = home / "venv-kolla"
    return venv if (venv / ".stamp").is_file() else None


def run(lab: LabProcess, symptom: str, flag: list[str]) -> tuple[dict, float]:
    env = lab.env()
    env.pop("KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX", None)
    res = run_child([KOLLA_WIZARD, "diagnose", *lab.wizard_args(), *flag, "--symptom", symptom, "--format", "json"],
                    env=env, timeout=180)
    try:
        return json.loads(res.stdout), res.wall
    except ValueError:
        raise RuntimeError(f"diagnose printed no JSON (rc {res.rc}): {res.stderr[-800:]}") from None


def expected_from(data: dict) -> str:
    for step in data.get("steps", []):
        if step.get("step") == "three-views":
            return next((o for o in step.get("observations", []) if o.startswith("Expected comes from")), "?")
    return "(three-views not reached)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/oracle.json")
    args = parser.parse_args()
    venv = kolla_venv()
    modes = [("off", ["--kolla-ansible", "off"]), ("auto (not installed)", [])]
    if venv is not None:
        modes.append(("kolla-ansible venv", ["--kolla-ansible", str(venv)]))
    else:
        print("venv-kolla absent (bash tools/real-tier/build-venvs.sh): the oracle row is skipped")
    out: dict = {"machine": machine(), "scenario": SCENARIO, "rows": []}
    with LabProcess(SCENARIO) as lab:
        run(lab, "all", modes[0][1])        # warm the page cache and .pyc once; not counted
        for symptom in ("max-retries", "all"):
            findings = {}
            for label, flag in modes:
                series = Series(f"{symptom} {label}", "s")
                data: dict = {}
                for _ in range(args.runs):
                    data, wall = run(lab, symptom, flag)
                    series.add(wall)
                findings[label] = sorted(f["id"] for f in data.get("findings", []))
                print(f"{symptom:12} {label:22} {series.fmt(2)}")
                print(f"{'':35} {expected_from(data)}")
                out["rows"].append({"symptom": symptom, "mode": label, "wall": series.to_dict(),
                                    "expected_from": expected_from(data), "findings": findings[label]})
            same = len({tuple(v) for v in findings.values()}) == 1
            print(f"{symptom:12} same finding IDs in every mode: {same} {findings[modes[0][0]]}")
    if args.save:
        print(f"wrote {save_json('oracle', out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
