"""`kolla-wizard lab --backend real [--scenario NAME|FILE] [--write-config DIR]`: run a scenario on
real Keystone, Neutron, Nova, Placement and RabbitMQ (kolla-ansible-rendered agent files) until
Ctrl-C or SIGTERM."""
from __future__ import annotations

import argparse
import shlex
import sys

from ..cli import run_until_stopped
from ..scenario import list_scenarios
from ..yamlpos import ScenarioError
from .lab import RealLab
from .venvs import RealTierUnavailable, venv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kolla-wizard lab --backend real",
                                     description="Run a lab scenario on real Keystone and Neutron on 127.0.0.1.")
    parser.add_argument("--backend", choices=("real",), default="real", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", default="seed-homelab",
                        help=f"a scenario name ({', '.join(list_scenarios())}) or a YAML file")
    parser.add_argument("--write-config", metavar="DIR", help="write the client configuration here")
    parser.add_argument("--compute", choices=("nova", "lab"), default="nova",
                        help="nova: real Nova, Placement and RabbitMQ build the servers (default); "
                             "lab: the lab's own small compute API")
    parser.add_argument("--agents", choices=("real", "lab"), default="real",
                        help="real: each node's neutron-openvswitch-agent is the real one, on a real "
                             "ovs-vswitchd in the node's own network namespace (default); lab: rows the lab writes")
    args = parser.parse_args(argv)
    try:
        lab = RealLab(args.scenario, config_dir=args.write_config, compute=args.compute, agents=args.agents)
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
    if lab.nova:
        print(f"  nova: {lab.nova.api.url}  placement: {lab.nova.placement.url}  "
              f"rabbitmq: 127.0.0.1:{lab.openstack.rabbitmq.port}")
        client = venv("nova") / "bin/openstack"
        print(f"  OS_CLIENT_CONFIG_FILE={q(str(cfg / 'clouds.yaml'))} {q(str(client))} --os-cloud {lab.cloud_name} "
              "server event list rocky-vm1", flush=True)
    print(f"  OS_CLIENT_CONFIG_FILE={q(str(cfg / 'clouds.yaml'))} openstack --os-cloud {lab.cloud_name} server list",
          flush=True)
    if lab.ovs_agents is not None:
        print(f"  OS_CLIENT_CONFIG_FILE={q(str(cfg / 'clouds.yaml'))} openstack --os-cloud {lab.cloud_name} "
              "network agent list --agent-type open-vswitch --long", flush=True)
    run_until_stopped(lab)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
