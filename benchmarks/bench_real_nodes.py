"""The real lab's nodes (kolla_lab/real/nodes.py): how long a node takes to start (sshd in its own
namespaces + its ovsdb-server), what one SSH command costs (real OpenSSH client with a new
connection each time; the wizard's paramiko pool on a kept connection), and how long a whole
RealLab takes to start. Prints the figures; needs root, sshd, ovsdb-server and the real-tier venvs.

    .venv/bin/python benchmarks/bench_real_nodes.py [--fleets 10] [--commands 20] [--labs 2]"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kolla_lab.build import LabState  # noqa: E402
from kolla_lab.lab import _new_key  # noqa: E402
from kolla_lab.real.nodes import RealNodeFleet  # noqa: E402
from kolla_lab.scenario import load_scenario  # noqa: E402


def line(name: str, values: list[float], unit: str = "s") -> None:
    values = sorted(values)
    print(f"{name:<52} median {statistics.median(values):.3f} {unit}  min {values[0]:.3f}  "
          f"max {values[-1]:.3f}  (n={len(values)})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleets", type=int, default=10)
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--labs", type=int, default=2)
    args = parser.parse_args()
    private, public = _new_key()
    scenario = load_scenario("seed-homelab")
    per_node, per_fleet = [], []
    for _ in range(args.fleets):
        state = LabState(scenario, public)
        workdir = Path(tempfile.mkdtemp(prefix="bench-real-nodes-"))
        fleet = RealNodeFleet(state, public, workdir / "nodes")
        began = time.monotonic()
        try:
            fleet.start()
            per_fleet.append(time.monotonic() - began)
            per_node += list(fleet.timings.values())
        finally:
            fleet.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    line("node start (sshd + ovsdb-server, 3 in parallel)", per_node)
    line(f"fleet start ({len(scenario['nodes'])} nodes)", per_fleet)

    from kolla_lab.real import RealLab
    from wizard.transport.ssh import SSHPool
    starts, openssh, paramiko_cmds = [], [], []
    for n in range(args.labs):
        began = time.monotonic()
        lab = RealLab("seed-homelab").start()
        starts.append(time.monotonic() - began)
        try:
            if n == 0:
                config = str(lab.config_dir / "ssh_config")
                for _ in range(args.commands):
                    began = time.monotonic()
                    subprocess.run(["ssh", "-F", config, "-o", "BatchMode=yes", "compute01",
                                    "docker exec openvswitch_vswitchd ovs-vsctl show"], capture_output=True, check=True)
                    openssh.append(time.monotonic() - began)
                pool = SSHPool(ssh_config=config, known_hosts=[lab.config_dir / "known_hosts"], use_agent=False)
                node = pool.transport("compute01")
                node.run(["true"])                     # connect once
                for argv in (["hostname"], ["docker", "exec", "openvswitch_vswitchd", "ovs-vsctl", "show"]):
                    for _ in range(args.commands):
                        began = time.monotonic()
                        node.run(argv)
                        paramiko_cmds.append(time.monotonic() - began)
                    line(f"paramiko, kept connection: {' '.join(argv)[:24]}", paramiko_cmds)
                    paramiko_cmds = []
                pool.close()
        finally:
            lab.stop()
    line("OpenSSH client, new connection: docker exec ovs-vsctl show", openssh)
    line("whole RealLab('seed-homelab').start()", starts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
