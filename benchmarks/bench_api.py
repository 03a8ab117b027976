"""Benchmark 2: API requests per diagnosis, counted by the lab (server side), per symptom.

The lab runs in this process (so its counter can be read and reset); the diagnosis runs as
``kolla-wizard diagnose --symptom S --format json`` in a child process with the real-cloud options,
exactly as against a real cloud. The JSON's own client-side ``api_requests`` is shown beside the
lab's count. Scenarios: seed-homelab (1 compute) and the generated seed-5 / seed-500 (the seed
with 5 and 500 computes, every compute lacking the mapping as the seed's does)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import KOLLA_WIZARD, machine, run_child, save_json  # noqa: E402
import gen_scenarios  # noqa: E402

from wizard.playbook import trees_in_all  # noqa: E402

SYMPTOMS = tuple(trees_in_all())   # the playbooks say which trees "all" walks


def measure(sizes=(5, 500)) -> dict:
    from kolla_lab import Lab

    scenarios = [("seed-homelab", "seed-homelab")]
    scenarios += [(f"seed-{n}", str(gen_scenarios.write("seed", n))) for n in sizes]
    rows = []
    for label, ref in scenarios:
        with Lab(ref) as lab:
            # Which requests (method and path, query dropped): wrap this lab's own dispatcher.
            seen: list[str] = []
            handle = lab.api.handle

            def recording(method, raw_path, headers, body, _handle=handle, _seen=seen):
                _seen.append(f"{method} {raw_path.split('?')[0]}")
                return _handle(method, raw_path, headers, body)
            lab.api.handle = recording
            env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(lab.config_dir / "clouds.yaml"), OS_CLOUD=lab.cloud_name)
            c = lab.config_dir
            base = [KOLLA_WIZARD, "diagnose", "--os-cloud", lab.cloud_name, "--deploy-host", lab.deploy_host,
                    "--ssh-config", str(c / "ssh_config"), "--known-hosts", str(c / "known_hosts"),
                    "--inventory", "/etc/kolla/multinode", "--format", "json"]
            expect = lab.state.expect if hasattr(lab.state, "expect") else {}
            for symptom in (*SYMPTOMS, "all"):
                lab.reset_request_count()
                seen.clear()
                res = run_child(base + ["--symptom", symptom], env=env, timeout=300)
                counts = lab.request_counts()
                data = json.loads(res.stdout)
                ids = sorted(f["id"] for f in data.get("findings", []))
                want = sorted({i for s in (SYMPTOMS if symptom == "all" else (symptom,)) for i in (expect.get(s) or [])})
                rows.append({"scenario": label, "nodes": len(lab.state.nodes), "symptom": symptom,
                             "lab_requests": sum(counts.values()), "by_service": counts,
                             "client_requests": data.get("api_requests"), "findings": ids,
                             "findings_as_expected": ids == want, "seconds": res.wall,
                             "requests": list(seen)})
    return {"machine": machine(), "rows": rows}


def report(r: dict) -> str:
    lines = [f"{'scenario':<14}{'nodes':>6}  {'symptom':<12}{'lab count':>10}{'client':>8}  by service (identity/compute/network/image)  findings ok"]
    for row in r["rows"]:
        s = row["by_service"]
        lines.append(f"{row['scenario']:<14}{row['nodes']:>6}  {row['symptom']:<12}{row['lab_requests']:>10}"
                     f"{str(row['client_requests']):>8}  {s['identity']}/{s['compute']}/{s['network']}/{s['image']:<32}"
                     f"{'yes' if row['findings_as_expected'] else 'NO ' + ','.join(row['findings'])}")
    for row in r["rows"]:
        if row["scenario"] == "seed-homelab" and row["symptom"] != "all":
            lines.append(f"  {row['symptom']}: " + "; ".join(row["requests"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[5, 500])
    args = p.parse_args(argv)
    r = measure(args.sizes)
    save_json("api", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
