"""`kolla-wizard lab [--scenario NAME|FILE] [--write-config DIR]`: run the lab in the foreground."""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading

from .lab import Lab
from .scenario import list_scenarios
from .yamlpos import ScenarioError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kolla-wizard lab",
                                     description="Run the embedded Kolla homelab on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--scenario", default="seed-homelab",
                        help=f"a scenario name ({', '.join(list_scenarios())}) or a YAML file")
    parser.add_argument("--write-config", metavar="DIR",
                        help="write clouds.yaml, ssh_config, known_hosts, the key and the inventory here "
                             "(default: a temporary directory, removed on exit)")
    parser.add_argument("--list", action="store_true", help="list the shipped scenarios and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(list_scenarios()))
        return 0
    try:
        lab = Lab(args.scenario, config_dir=args.write_config)
    except ScenarioError as exc:
        print(f"kolla-wizard lab: {exc}", file=sys.stderr)
        return 2
    try:
        lab.start()
    except OSError as exc:
        print(f"kolla-wizard lab: cannot start: {exc.strerror or exc}", file=sys.stderr)
        return 1
    cfg = lab.config_dir
    q = shlex.quote
    print(f"kolla-lab: scenario {lab.name!r} is up on 127.0.0.1 (Ctrl-C to stop)")
    print(f"  config:  {cfg}")
    print(f"  OS_CLIENT_CONFIG_FILE={q(str(cfg / 'clouds.yaml'))} openstack --os-cloud {lab.cloud_name} server list")
    print(f"  ssh -F {q(str(cfg / 'ssh_config'))} compute01")
    print(f"  nodes:   {', '.join(lab.state.nodes)} (deploy host: {lab.deploy_host})", flush=True)
    run_until_stopped(lab)
    return 0


def run_until_stopped(lab) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop the lab (both backends use this)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        lab.stop()
        print("kolla-lab: stopped", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
