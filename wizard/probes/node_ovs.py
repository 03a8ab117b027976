"""Node probes over SSH for the max-retries tree: the OVS agent container on the failing host, the
bridges Open vSwitch really has there, and the agent's own log.

Commands are Kolla's (container names from the roles' defaults/main.yml):
  docker inspect neutron_openvswitch_agent
  docker exec openvswitch_vswitchd ovs-vsctl show
(podman instead of docker when kolla_container_engine is podman). The agent's fatal line is
neutron's: "Bridge %(bridge)s for physical network %(physical_network)s does not exist. Agent terminated!"
"""
from __future__ import annotations

import json
import re
from typing import Any

from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from .registry import probe
from ..i18n import t
from ..probe_context import ProbeContext

TERMINATED_RE = re.compile(r"Bridge (?P<bridge>\S+) for physical network (?P<physnet>\S+) does not exist\. Agent terminated!")


def parse_ovs_show(text: str) -> dict[str, dict[str, Any]]:
    """``ovs-vsctl show`` → {bridge: {"ports": {port: {"type", "options", "tag"}}, "fail_mode", ...}}.
    Bridge and port order changes from run to run; nothing here depends on it."""
    bridges: dict[str, dict[str, Any]] = {}
    bridge: dict[str, Any] | None = None
    port: dict[str, Any] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if line.startswith("Bridge "):
            name = line.split(None, 1)[1].strip('"')
            bridge = bridges.setdefault(name, {"ports": {}})
            port = None
        elif bridge is not None and line.startswith("Port ") and indent >= 8:
            name = line.split(None, 1)[1].strip('"')
            port = bridge["ports"].setdefault(name, {"type": "", "options": "", "tag": None})
        elif port is not None and line.startswith("type:"):
            port["type"] = line.split(":", 1)[1].strip()
        elif port is not None and line.startswith("options:"):
            port["options"] = line.split(":", 1)[1].strip()
        elif port is not None and line.startswith("tag:"):
            port["tag"] = line.split(":", 1)[1].strip()
        elif port is not None and line.startswith("error:"):
            port["error"] = line.split(":", 1)[1].strip()
        elif bridge is not None and port is None and ":" in line and not line.startswith(("Controller", "Interface")):
            key, _, value = line.partition(":")
            bridge[key.strip()] = value.strip()
        elif line.startswith("ovs_version:"):
            bridge, port = None, None
    return bridges


def ovs_show(ctx: ProbeContext, node: Any, host: str) -> tuple[dict[str, dict[str, Any]], str, str]:
    """(bridges, raw text, command) from the host's openvswitch_vswitchd container."""
    engine = _nodeio.container_engine(ctx, host)
    argv = [engine, "exec", _nodeio.OVS_VSWITCHD_CONTAINER, "ovs-vsctl", "show"]
    result = _nodeio.node_command(ctx, node, argv, sudo=bool(getattr(node, "become", False)))
    command = " ".join(argv)
    if result.rc != 0:
        raise ProbeUnavailable(t("{host}: `{command}` failed (rc {rc}): {error}", host=host, command=command, rc=result.rc,
                                 error=(result.stderr or result.stdout).strip()[:200]), sources=[f"{host}: {command}"])
    return parse_ovs_show(result.stdout), result.stdout, command


def container_state(ctx: ProbeContext, node: Any, host: str, name: str) -> dict[str, Any]:
    engine = _nodeio.container_engine(ctx, host)
    argv = [engine, "inspect", name]
    result = node.run(argv, sudo=bool(getattr(node, "become", False)))
    state: dict[str, Any] = {"name": name, "engine": engine, "command": " ".join(argv)}
    if result.rc != 0:
        text = (result.stderr or result.stdout).strip()
        if "no such" in text.lower():
            state.update(status="missing", restart_count=0)
            return state
        raise ProbeUnavailable(t("{host}: `{command}` failed (rc {rc}): {error}", host=host, command=state['command'],
                                 rc=result.rc, error=text[:200]))
    try:
        data = json.loads(result.stdout)
        item = data[0] if isinstance(data, list) else data
        st = item.get("State") or {}
        state.update(status=str(st.get("Status") or "unknown"), exit_code=st.get("ExitCode"),
                     restart_count=int(item.get("RestartCount") or 0), started_at=st.get("StartedAt"),
                     restarting=bool(st.get("Restarting")))
    except (ValueError, TypeError, IndexError, AttributeError):
        raise ProbeUnavailable(t("{host}: `{command}` did not print container JSON", host=host, command=state['command'])) from None
    return state


def deployed_mappings(node: Any, ctx: ProbeContext | None = None) -> tuple[dict[str, str] | None, str | None]:
    """The deployed openvswitch_agent.ini's [ovs] bridge_mappings (None: no file) and its file:line
    (read once per diagnosis when ``ctx`` is given: the hand-edit remedy diffs the same text)."""
    from ..errors import ConfigError
    from ..kolla.ini import parse_bridge_mappings, parse_ini

    text = _nodeio.node_text(ctx, node, _nodeio.OVS_AGENT_INI) if ctx is not None else \
        _nodeio.read_text(node, _nodeio.OVS_AGENT_INI)
    if text is None:
        return None, None
    where = f"{node.name}:{_nodeio.OVS_AGENT_INI}"
    try:
        ini = parse_ini(text, where)
        value = ini.get("ovs", "bridge_mappings")
        if value is None:
            return {}, None
        return parse_bridge_mappings(value.value, value.where), value.where
    except ConfigError as exc:
        raise ProbeUnavailable(exc.one_line()) from None


@probe("ovs_agent_node_state",
       outcomes=("bridge-missing", "container-down", "container-running"),
       summary="On the failing host: the OVS agent container, its log, and the bridges OVS has", requires="node", needs=("host",), provides=("ovs",))
def ovs_agent_node_state(ctx: ProbeContext, args, emit) -> Evidence:
    host = ctx.facts.get("host")
    if not host:
        raise ProbeUnavailable(t("the failing host is not known from the earlier steps"))
    inv = _nodeio.inventory_name(ctx, host)
    node = _nodeio.transport(ctx, inv)
    emit(t("{inv}: inspecting {OVS_AGENT_CONTAINER} and Open vSwitch", inv=inv, OVS_AGENT_CONTAINER=_nodeio.OVS_AGENT_CONTAINER))
    state = container_state(ctx, node, inv, _nodeio.OVS_AGENT_CONTAINER)
    sources = [f"{inv}: {state['command']}"]
    obs = [f"{inv}: container {_nodeio.OVS_AGENT_CONTAINER} is {state['status']}"
           + (f", restarted {state['restart_count']} time(s)" if state.get("restart_count") else "") + "."]
    bridges: dict[str, Any] = {}
    try:
        bridges, _raw, command = ovs_show(ctx, node, inv)
        sources.append(f"{inv}: {command}")
        obs.append(t("{host}: OVS bridges: {bridges}.", host=inv, bridges=', '.join(sorted(bridges)) or t("none")))
    except ProbeUnavailable as exc:
        obs.append(exc.reason)
    mappings, where = deployed_mappings(node, ctx)
    sources.append(f"{inv}: read {_nodeio.OVS_AGENT_INI}")
    log_lines = _nodeio.grep_file(node, "Agent terminated!", _nodeio.OVS_AGENT_LOG, max_lines=5) or []
    sources.append(f"{inv}: grep -F 'Agent terminated!' {_nodeio.OVS_AGENT_LOG}")
    terminated = [TERMINATED_RE.search(line) for line in log_lines]
    terminated = [m for m in terminated if m]
    missing = {physnet: bridge for physnet, bridge in (mappings or {}).items() if bridges and bridge not in bridges}
    facts: dict[str, Any] = {"container": {k: v for k, v in state.items() if k != "command"},
                             "ovs": {"bridges": sorted(bridges), "inventory_host": inv}}
    if terminated:
        last = terminated[-1]
        obs.append(f"{inv}: {_nodeio.OVS_AGENT_LOG}: {last.group(0)}")
        if not bridges or last.group("bridge") not in bridges:
            missing.setdefault(last.group("physnet"), last.group("bridge"))
    if missing and (state["status"] != "running" or terminated):
        physnet, bridge = next(iter(missing.items()))
        facts["ovs"].update(missing_bridge=bridge, physnet=physnet, mapping_where=where or "")
        obs.append(t("{inv}: bridge_mappings{value} maps {physnet} to {bridge}, but Open vSwitch has no bridge "
                     "{bridge}: the agent exits at start.", inv=inv, value=' at ' + where if where else '', physnet=physnet, bridge=bridge))
        return Evidence("bridge-missing", facts=facts, observations=obs, sources=sources, host=host)
    if state["status"] != "running":
        return Evidence("container-down", facts=facts, observations=obs, sources=sources, host=host)
    return Evidence("container-running", facts=facts, observations=obs, sources=sources, host=host)
