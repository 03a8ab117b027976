"""`kolla-wizard lab --backend real [--scenario NAME|FILE] [--write-config DIR]`: run a scenario on
real Keystone and Neutron (kolla-ansible-rendered agent files) until Ctrl-C or SIGTERM."""
from __future__ import annotations

import argparse
import shlex
import sys

from ..cli import run_until_stopped
from ..scenario import list_scenarios
from ..yamlpos import ScenarioError
from .lab import RealLab
from .venvs import RealTierUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kolla-wizard lab --backend real",
                                     description="Run a lab scenario on real Keystone and Neutron on 127.0.0.1.")
    parser.add_argument("--backend", choices=("real",), default="real", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", default="seed-homelab",
                        help=f"a scenario name ({', '.join(list_scenarios())}) or a YAML file")
    parser.add_argument("--write-config", metavar="DIR", help="write the client configuration here")
    args = parser.parse_args(argv)
    try:
        lab = RealLab(args.scenario, config_dir=args.write_config)
        lab.start()
    except ScenarioError as exc:
        print(f"kolla-wizard lab: {exc}", file=sys.stderr)
        return 2
    except RealTierUnavailable as exc:
        print(f"kolla-wizard lab: {exc}", file=sys.stderr)
        return 1
    cfg = lab.config_dir
    q = shlex.quote
    print(f"kolla-lab (real backend): scenario {lab.name!r} is up on 127.0.0.1 (Ctrl-C to stop)")
    print(f"  keystone: {lab.openstack.keystone.url}  neutron: {lab.openstack.neutron.url}")
    print(f"  OS_CLIENT_CONFIG_FILE={q(str(cfg / 'clouds.yaml'))} openstack --os-cloud {lab.cloud_name} server list",
          flush=True)
    run_until_stopped(lab)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
