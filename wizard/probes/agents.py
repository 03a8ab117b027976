"""Neutron probes for the max-retries tree: the segment the failed port was on, the OVS agent of
the failing host (alive, bridge_mappings), and nova/neutron host-name agreement.

The failed port is usually gone (Nova's _cleanup_allocated_networks deletes it), so its network
comes from neutron-server's ERROR line (neutron/plugins/ml2/managers.py):
  "Failed to bind port %(port)s on host %(host)s for vnic_type %(vnic_type)s using segments %(segments)s"
read on the controllers over SSH, or from the port itself when it still exists. Each API
collection is read once per diagnosis (CloudReader caches), whatever the number of nodes."""
from __future__ import annotations

import ast
import re
from typing import Any

from ..cloud import CloudError
from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from .registry import probe
from ..probe_context import ProbeContext
from ..i18n import t

OVS_AGENT_TYPE = "Open vSwitch agent"
OVS_BINARY = "neutron-openvswitch-agent"
PROVIDER_TYPES = ("flat", "vlan")
FAILED_BIND_RE = re.compile(
    r"Failed to bind port (?P<port>\S+) on host (?P<host>\S+) for vnic_type (?P<vnic>\S+) using segments (?P<segments>\[.*\])")
AGENT_LIST = "openstack network agent list --agent-type open-vswitch --long"


def parse_failed_bind(line: str) -> dict[str, Any] | None:
    """One 'Failed to bind port' line → port, host and the segments (a Python literal in the log)."""
    match = FAILED_BIND_RE.search(line)
    if not match:
        return None
    try:
        segments = ast.literal_eval(match.group("segments"))  # a literal, never evaluated as code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        segments = []
    if not isinstance(segments, list):
        segments = []
    return {"port": match.group("port"), "host": match.group("host"), "vnic_type": match.group("vnic"),
            "segments": [s for s in segments if isinstance(s, dict)]}


def network_facts(net: dict[str, Any] | None, segment: dict[str, Any] | None = None) -> dict[str, Any]:
    net = net or {}
    segment = segment or {}
    ntype = net.get("provider_network_type") or net.get("provider:network_type") or segment.get("network_type")
    physnet = net.get("provider_physical_network") or net.get("provider:physical_network") or segment.get("physical_network")
    seg_id = net.get("provider_segmentation_id") or net.get("provider:segmentation_id") or segment.get("segmentation_id")
    external = net.get("is_router_external", net.get("router:external"))
    return {"id": net.get("id") or segment.get("network_id"), "name": net.get("name") or net.get("id") or segment.get("network_id"),
            "type": ntype, "physnet": physnet, "segmentation_id": seg_id, "external": bool(external)}


def segment_text(network: dict[str, Any]) -> str:
    if network.get("type") in PROVIDER_TYPES:
        return t("{type} on physical network {physnet}", type=network.get('type'), physnet=network.get('physnet'))
    return t("{type} (tunnelled)", type=network.get('type') or t("unknown type"))


def _controllers(ctx: ProbeContext) -> list[str]:
    hosts = _nodeio.hosts_in_group(ctx, "neutron-server")
    return hosts or _nodeio.hosts_in_group(ctx, "control")


@probe("failed_port_segment",
       outcomes=("provider", "tunnel"),
       summary="Find the failed port's network segment (the port itself is usually deleted)", requires="cloud", needs=("port",), provides=("network", "port"))
def failed_port_segment(ctx: ProbeContext, args, emit) -> Evidence:
    port_id = (ctx.facts.get("port") or {}).get("id")
    host = ctx.facts.get("host")
    obs: list[str] = []
    sources: list[str] = []
    segment: dict[str, Any] = {}
    network_id = None
    try:
        networks = {n.get("id"): n for n in ctx.cloud.networks()}
        sources.append("GET /v2.0/networks")
    except CloudError as exc:
        raise ProbeUnavailable(t("{error}; run `{command}` and answer", error=exc.one_line(),
                                 command="openstack network list --long")) from None
    # 1. The port, if Nova has not deleted it yet.
    if port_id:
        try:
            port = next((p for p in ctx.cloud.ports() if p.get("id") == port_id), None)
            sources.append("GET /v2.0/ports")
        except CloudError:
            port = None
        if port:
            network_id = port.get("network_id")
            host = host or port.get("binding_host_id") or port.get("binding:host_id")
            obs.append(t("Port {port} still exists on network {network}, vif_type {vif_type}.", port=port_id,
                         network=network_id, vif_type=port.get('binding_vif_type') or port.get('binding:vif_type')))
    # 2. neutron-server.log on the controllers: the ERROR line names host and segments.
    unsearched: list[str] = []   # why a controller's log could not be searched (for the reason line)
    if network_id is None and port_id:
        controllers = _controllers(ctx)
        if not controllers:
            if _nodeio.kolla_or_none(ctx) is None:
                why = t("the Kolla inventory could not be read, so no controller was searched")
            else:
                why = t("the Kolla inventory lists no host in [neutron-server] or [control]")
            obs.append(t("The controllers' neutron-server.log was not searched: {why}.", why=why))
            unsearched.append(why)
        pattern = f"Failed to bind port {port_id}"
        results = _nodeio.fan_out(ctx, controllers,
                                  lambda node: _nodeio.grep_file(node, pattern, _nodeio.NEUTRON_SERVER_LOG))
        for ctl, lines in results.items():
            sources.append(f"{ctl}: grep -F {pattern!r} {_nodeio.NEUTRON_SERVER_LOG}")
            if isinstance(lines, Exception):
                obs.append(t("Could not search neutron-server.log on {host}: {error}", host=ctl,
                             error=_nodeio.error_line(lines)))
                unsearched.append(_nodeio.error_line(lines))
                continue
            # neutron retries a binding up to 10 times, one ERROR line each: the last one speaks for all.
            matched = [p for p in (parse_failed_bind(line) for line in lines or []) if p]
            for parsed in matched[-1:]:
                host = host or parsed["host"]
                if parsed["segments"]:
                    segment = parsed["segments"][0]
                    network_id = segment.get("network_id")
                obs.append(t("{host} {path}: Failed to bind port {port} on host {bound_host} using segment {segment}.",
                             host=ctl, path=_nodeio.NEUTRON_SERVER_LOG, port=port_id, bound_host=parsed['host'],
                             segment=f"{segment.get('network_type')}/{segment.get('physical_network')}"))
                if not network_id and parsed["segments"] == []:
                    obs.append(t("The log line names no segment: the network has no segment this host can use."))
    if network_id is None and unsearched:
        # Not "no line found": the logs were not read at all; say why, so the operator fixes access.
        raise ProbeUnavailable(
            t("the failed port {port} is gone and neutron-server.log could not be searched: {why}; check which "
              "network the server was booted on with `openstack network list --long`",
              port=port_id or t("(unknown)"), why="; ".join(unsearched)),
            sources=sources)
    if network_id is None:
        raise ProbeUnavailable(
            t("the failed port {port} is gone and no 'Failed to bind port' line was found on the "
              "controllers; check which network the server was booted on with `openstack network list --long`",
              port=port_id or t("(unknown)")),
            sources=sources)
    net = networks.get(network_id)
    facts_net = network_facts(net, segment)
    facts: dict[str, Any] = {"network": facts_net,
                             "port": {**(ctx.facts.get("port") or {}), "id": port_id, "network_id": network_id,
                                      "host_id": host, "vif_type": "binding_failed"}}
    if host:
        facts["host"] = host
    if facts_net["external"]:
        obs.append(t("Network {network} ({id}) is {segment}, external.", network=facts_net['name'], id=network_id,
                     segment=segment_text(facts_net)))
    else:
        obs.append(t("Network {network} ({id}) is {segment}.", network=facts_net['name'], id=network_id,
                     segment=segment_text(facts_net)))
    outcome = "provider" if facts_net.get("type") in PROVIDER_TYPES else "tunnel"
    return Evidence(outcome, facts=facts, observations=obs, sources=sources, host=host)


def _ovs_agents(ctx: ProbeContext) -> list[dict[str, Any]]:
    try:
        agents = ctx.cloud.agents()
    except CloudError as exc:
        raise ProbeUnavailable(t("{error}; run `{command}` as admin and answer", error=exc.one_line(),
                                 command=AGENT_LIST)) from None
    return [a for a in agents if a.get("agent_type") == OVS_AGENT_TYPE or a.get("binary") == OVS_BINARY]


def agent_facts(agent: dict[str, Any]) -> dict[str, Any]:
    conf = agent.get("configuration") or agent.get("configurations") or {}
    return {"id": agent.get("id"), "host": agent.get("host"), "alive": bool(agent.get("is_alive", agent.get("alive"))),
            "admin_state_up": agent.get("is_admin_state_up", agent.get("admin_state_up")),
            "bridge_mappings": dict(conf.get("bridge_mappings") or {}),
            "tunnel_types": list(conf.get("tunnel_types") or []),
            "heartbeat": agent.get("last_heartbeat_at") or agent.get("heartbeat_timestamp")}


@probe("ovs_agent_state",
       outcomes=("alive", "dead", "missing"),
       summary="The failing host's Open vSwitch agent: registered, alive, its bridge_mappings", requires="cloud",
       needs=("host",), provides=("agent",))
def ovs_agent_state(ctx: ProbeContext, args, emit) -> Evidence:
    host = ctx.facts.get("host")
    if not host:
        raise ProbeUnavailable(t("the failing host is not known from the earlier steps"))
    agents = _ovs_agents(ctx)
    mine = [a for a in agents if a.get("host") == host]
    sources = ["GET /v2.0/agents"]
    if not mine:
        names = ", ".join(sorted(str(a.get("host")) for a in agents)) or t("none")
        return Evidence("missing", facts={"agent": {"host": host, "alive": False, "bridge_mappings": {}}},
                        observations=[t("No Open vSwitch agent is registered under host {host!r} "
                                        "(OVS agents are registered on: {names}).", host=host, names=names)],
                        sources=sources, host=host)
    agent = agent_facts(mine[0])
    mappings = ", ".join(f"{k}:{v}" for k, v in agent["bridge_mappings"].items()) or t("{{}} (none)")
    obs = [t("OVS agent on {host}: {state}, bridge_mappings {mappings}, tunnel_types {tunnel_types}.", host=host,
             state=t("alive") if agent['alive'] else t("DEAD (no heartbeat)"), mappings=mappings,
             tunnel_types=', '.join(agent['tunnel_types']) or t("none"))]
    return Evidence("alive" if agent["alive"] else "dead", facts={"agent": agent}, observations=obs,
                    sources=sources, host=host)


@probe("agent_host_names",
       outcomes=("mismatch", "no-agent"),
       summary="Compare nova-compute's host name with the OVS agents' host names", requires="cloud",
       needs=("host",))
def agent_host_names(ctx: ProbeContext, args, emit) -> Evidence:
    host = ctx.facts.get("host")
    if not host:
        raise ProbeUnavailable(t("the failing host is not known from the earlier steps"))
    agents = _ovs_agents(ctx)
    try:
        services = [s for s in ctx.cloud.compute_services() if s.get("binary") == "nova-compute"]
    except CloudError as exc:
        raise ProbeUnavailable(t("{error}; run `{command}` and `{agents}` and compare the Host columns",
                                 error=exc.one_line(), command="openstack compute service list --service nova-compute",
                                 agents=AGENT_LIST)) from None
    sources = ["GET /v2.0/agents", "GET /os-services"]
    twins = [a for a in agents if _nodeio.short(a.get("host")) == _nodeio.short(host) and a.get("host") != host]
    if twins:
        agent = agent_facts(twins[0])
        facts = {"host_names": {"nova": host, "neutron": agent["host"]}, "agent": agent}
        return Evidence("mismatch", facts=facts, sources=sources, host=host, observations=[
            t("nova-compute reports host {host!r} but the OVS agent on that node registered as {agent!r}. "
              "Nova asks Neutron to bind ports to {host!r}, where no agent exists.", host=host, agent=agent['host'])])
    nova_hosts = [s.get("host") for s in services]
    return Evidence("no-agent", facts={"host_names": {"nova": host, "neutron": None}}, sources=sources, host=host,
                    observations=[t("No OVS agent under any spelling of {host!r}; nova-compute hosts: {hosts}.",
                                    host=host, hosts=', '.join(map(str, nova_hosts)) or t("none"))])


@probe("agent_physnet_mapping",
       outcomes=("serves", "no-mapping", "other-physnet", "tunnel-type-missing"),
       summary="Does the live agent map the network's physical network (or serve its tunnel type)?",
       requires="cloud", needs=("host", "network"), provides=("agent",))
def agent_physnet_mapping(ctx: ProbeContext, args, emit) -> Evidence:
    network = ctx.facts.get("network") or {}
    host = ctx.facts.get("host")
    # Read the agent fresh from the (cached) collection so a re-run after a fix sees the new state.
    agents = [a for a in _ovs_agents(ctx) if a.get("host") == host]
    if not agents:
        raise ProbeUnavailable(t("no OVS agent registered for host {host!r}; run `{command}`", host=host,
                                 command=AGENT_LIST))
    agent = agent_facts(agents[0])
    facts: dict[str, Any] = {"agent": agent}
    sources = ["GET /v2.0/agents"]
    ntype, physnet = network.get("type"), network.get("physnet")
    mappings = agent["bridge_mappings"]
    if ntype in PROVIDER_TYPES:
        if physnet in mappings:
            return Evidence("serves", facts=facts, sources=sources, host=host, observations=[
                t("The live agent on {host} now maps {physnet} to {bridge}.", host=host, physnet=physnet,
                  bridge=mappings[physnet])])
        if mappings:
            facts["physnet_mismatch"] = {"network": physnet, "agent": ", ".join(mappings)}
            others = [a.get("host") for a in _ovs_agents(ctx)
                      if physnet in ((a.get("configuration") or a.get("configurations") or {}).get("bridge_mappings") or {})]
            facts["physnet_mismatch"]["hosts_with_it"] = ", ".join(map(str, others)) or t("no host")
            if others:
                facts["physnet_mismatch"]["side"] = "host"
                facts["physnet_mismatch"]["explain"] = t(
                    "Other hosts ({hosts}) map {physnet}, so the network is right and "
                    "{host}'s mapping is the odd one out (a hand edit or a per-host override)",
                    hosts=', '.join(map(str, others)), physnet=physnet, host=host)
            else:
                facts["physnet_mismatch"]["side"] = "network"
                facts["physnet_mismatch"]["explain"] = t(
                    "No agent maps {physnet}, so the network names a physical network this deployment does not "
                    "have: Kolla names them from neutron_physical_networks (physnet1, physnet2, ... by default)",
                    physnet=physnet)
            return Evidence("other-physnet", facts=facts, sources=sources, host=host, observations=[
                t("Network {network} is on physical network {physnet!r}, but the agent on {host} maps "
                  "only {mappings}; hosts mapping {physnet!r}: {hosts}.", network=network.get('name'), physnet=physnet,
                  host=host, mappings=', '.join(f'{k}:{v}' for k, v in mappings.items()),
                  hosts=facts['physnet_mismatch']['hosts_with_it'])])
        return Evidence("no-mapping", facts=facts, sources=sources, host=host, observations=[
            t("The live agent on {host} has no bridge_mappings at all, so it cannot bind any port on "
              "physical network {physnet!r}: only tunnelled (VXLAN) ports can bind there.", host=host,
              physnet=physnet)])
    if ntype in agent["tunnel_types"] or ntype == "local":
        return Evidence("serves", facts=facts, sources=sources, host=host, observations=[
            t("The live agent on {host} serves {type} networks.", host=host, type=ntype)])
    return Evidence("tunnel-type-missing", facts=facts, sources=sources, host=host, observations=[
        t("Network {network} is {type}, but the agent on {host} reports tunnel_types {tunnel_types}.",
          network=network.get('name'), type=ntype, host=host,
          tunnel_types=', '.join(agent['tunnel_types']) or t("none"))])
