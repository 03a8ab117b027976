"""Triage: one look at the cloud's state to say which symptom trees apply.

- instances in ERROR with a fault: the build failed (max-retries tree), or, when every one of them
  says "No valid host was found" (or its host is in no cell), the scheduler placed none of them
  (no-valid-host tree);
- ACTIVE instances on a tenant network without a floating IP and without a router path to an
  external network: a floating IP cannot be created (fip-404 tree);
- ACTIVE instances at all: SSH is the next thing that can go wrong (ssh-refused tree)."""
from __future__ import annotations

from typing import Any, Mapping

from ..evidence import Evidence
from ..readings import neutron as nx
from .cloud_network import choose_external_network, router_path
from .registry import probe
from ..i18n import t
from .scheduling import _is_no_valid_host, _unplaced_build
from ..probe_context import ProbeContext

OUTCOMES = ("nothing", "build-failures", "access-only", "network-gaps", "build-and-access", "build-and-network",
            "no-host", "no-host-and-access", "no-host-and-network")


@probe("cloud_overview", outcomes=OUTCOMES,
       summary="Servers in ERROR, servers without a way to get a floating IP, servers to SSH to", requires="cloud")
def cloud_overview(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    servers = sorted(ctx.cloud.servers(), key=lambda s: (s.get("name") or "", s.get("id") or ""))
    failed = [s for s in servers if s.get("status") == "ERROR"]
    stuck = [s for s in servers if _unplaced_build(s)]
    active = [s for s in servers if s.get("status") == "ACTIVE"]
    obs = [t("{count} instance(s): {count2} ACTIVE, {count3} ERROR, {value} other.", count=len(servers), count2=len(active), count3=len(failed), value=len(servers) - len(active) - len(failed))]
    for s in failed:
        msg = (s.get("fault") or {}).get("message") or t("no fault message")
        obs.append(t("  {name} is ERROR: {message}", name=s.get('name'), message=msg))
    for s in stuck:
        obs.append(t("  {name} is BUILD and no compute has taken it yet", name=s.get('name')))
    gaps: list[str] = []
    if active:
        ports = ctx.cloud.ports()
        fips = ctx.cloud.floating_ips()
        networks = nx.by_id(ctx.cloud.networks())
        for s in active:
            for port in nx.server_ports(s["id"], ports):
                if nx.is_external(networks.get(port.get("network_id"))) or nx.fip_for_port(port["id"], fips):
                    continue
                subnet_id, _ = nx.first_ipv4(port)
                ext, _all = choose_external_network(ctx, subnet_id)
                if ext is None or router_path(ctx, subnet_id, ext["id"])["outcome"] != "path-ok":
                    gaps.append(s.get("name") or s["id"])
                    obs.append(t("  {name} has no floating IP and no router joins its subnet to an external network: "
                                 "floating ip create would fail with 404.", name=s.get('name')))
                break
    no_host = bool(failed or stuck) and all(_is_no_valid_host(s) for s in failed)
    failed = failed + stuck
    facts = {"triage": {"failed": [s.get("name") or s["id"] for s in failed],
                        "active": [s.get("name") or s["id"] for s in active], "network_gaps": gaps}}
    build, network, access = bool(failed), bool(gaps), bool(active)
    if build and network:
        outcome = "build-and-network"
    elif build and access:
        outcome = "build-and-access"
    elif build:
        outcome = "build-failures"
    elif network:
        outcome = "network-gaps"
    elif access:
        outcome = "access-only"
    else:
        outcome = "nothing"
    if no_host:
        outcome = outcome.replace("build-failures", "no-host").replace("build-", "no-host-")
    return Evidence(outcome, facts, obs, ["GET /servers/detail", "GET /v2.0/ports", "GET /v2.0/floatingips",
                                          "GET /v2.0/networks", "GET /v2.0/routers"])
