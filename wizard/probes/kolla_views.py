"""The three views of a host's OVS bridge_mappings, side by side:

- expected: what Kolla would render for the host now. Where kolla-ansible is installed on the
  machine the wizard runs on, Kolla's own templates render it (``ctx.kolla_oracle``, once per
  host per diagnosis); otherwise, or when that render fails, the built-in model
  (``ctx.kolla.expected_ovs``: the template's condition, computes_need_external_bridge and the
  /etc/kolla/config overrides), with a one-line note saying why. The model always gives the
  reason and the precedence chain; the evidence names where "expected" came from;
- deployed: the file on the node, /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini;
- live: what the agent reports through the API (configurations.bridge_mappings).

Their disagreement is the finding. When all three lack the mapping, the question is whether the
operator tried to turn it on somewhere that lost (an INI ``[compute:vars]`` entry beaten by Kolla's
group_vars/all): that is the seed report's "config not propagated", explained with file:line."""
from __future__ import annotations

from typing import Any

from ..evidence import Evidence, ProbeUnavailable
from ..readings import nodes as _nodeio
from .agents import _ovs_agents, agent_facts
from .node_ovs import deployed_mappings
from .registry import probe
from ..probe_context import ProbeContext
from ..i18n import t

# Variables that, when true, make Kolla render bridge_mappings on computes (kolla-facts §1.2).
SWITCHES = ("enable_neutron_provider_networks", "computes_need_external_bridge", "enable_neutron_dvr")


def _text(mappings: dict[str, str] | None) -> str:
    if mappings is None:
        return t("no bridge_mappings")
    return ",".join(f"{k}:{v}" for k, v in mappings.items()) or t("{{}} (empty)")


def expected_from_kolla(ctx: ProbeContext, model: Any, host: str) -> Any:
    """Kolla's templates' answer for the host (an ExpectedFromKolla), or None when this context
    has no oracle. Never raises: the oracle is a cross-check, the diagnosis goes on without it."""
    oracle = getattr(ctx, "kolla_oracle", None)
    if oracle is None:
        return None
    try:
        return oracle.expected(model, host)
    except Exception as exc:  # a defect in the oracle must not cost the operator the diagnosis
        from ..kolla.oracle import ExpectedFromKolla
        return ExpectedFromKolla(host, False, note=t("kolla-ansible oracle failed: {error_type}: {exc}", error_type=type(exc).__name__, exc=exc),
                                 problem=True)


def _truthy(value: Any) -> bool:
    from ..kolla.defaults import ansible_bool
    try:
        return ansible_bool(value)
    except Exception:
        return False


def precedence_facts(resolution: Any) -> dict[str, Any]:
    """A Resolution as plain facts: the chain lowest first, who won, and the one-line reason."""
    chain = []
    for source in resolution.sources:
        chain.append({"level": source.level, "label": source.label, "place": source.place,
                      "value": source.value, "won": bool(source.won)})
    winner = resolution.winner
    return {"name": resolution.var, "host": resolution.host, "value": resolution.value,
            "winner": (f"{winner.label + ' ' if winner.label else ''}{winner.level} at {winner.place}" if winner else "unset"),
            "chain": chain, "explain": resolution.explain()}


def find_attempt(model: Any, host: str) -> tuple[dict[str, Any] | None, Any]:
    """A place where the operator set one of the switches true for this host, which lost.
    Returns (attempt facts or None, the Resolution of the variable at fault)."""
    primary = None
    for var in SWITCHES:
        try:
            res = model.resolve(var, host)
        except Exception:
            continue
        if primary is None:
            primary = res
        if _truthy(res.value):
            continue
        losers = [s for s in res.sources if not s.won and _truthy(s.value)]
        if losers:
            loser = losers[-1]
            winner = res.winner
            return ({"var": var, "value": loser.value, "where": loser.place, "label": loser.label or loser.level,
                     "level": loser.level,
                     "lost_to": f"{winner.describe()} ({winner.value!r})" if winner else "nothing"}, res)
    return None, primary


@probe("kolla_three_views",
       outcomes=("excluded-despite-attempt", "excluded-by-default", "not-deployed", "not-restarted",
                 "live-has-mapping", "file-lacks-mapping"),
       summary="Expected (Kolla now) vs deployed (file on the node) vs live (agent API) bridge_mappings",
       requires="node", needs=("host", "network"), provides=("views",))
def kolla_three_views(ctx: ProbeContext, args, emit) -> Evidence:
    host = ctx.facts.get("host")
    network = ctx.facts.get("network") or {}
    physnet = network.get("physnet")
    if not host or not physnet:
        raise ProbeUnavailable(t("the failing host and the network's physical network are not known from earlier steps"))
    inv = _nodeio.inventory_name(ctx, host)
    sources: list[str] = []
    # live
    agents = [a for a in _ovs_agents(ctx) if a.get("host") == host]
    live = agent_facts(agents[0])["bridge_mappings"] if agents else {}
    sources.append("GET /v2.0/agents")
    # deployed
    node = _nodeio.transport(ctx, inv)
    deployed, deployed_where = deployed_mappings(node, ctx)
    sources.append(f"{inv}: read {_nodeio.OVS_AGENT_INI}")
    # expected
    model = _nodeio.kolla_or_none(ctx)
    expected = None
    expected_reason = t("the Kolla configuration could not be read")
    expected_mappings: dict[str, str] | None = None
    creates_bridge = False
    expected_source = "unknown"
    expected_note = ""
    source_obs: list[str] = []
    if model is not None:
        expected = model.expected_ovs(inv)
        expected_mappings = expected.bridge_mappings
        expected_reason = expected.reason
        creates_bridge = bool(expected.bridges_created)
        sources.append(f"Kolla model of {model.config_dir} ({model.defaults_source})")
        expected_source = t("built-in model of Kolla {release}", release=model.release)
        kolla = expected_from_kolla(ctx, model, inv)
        if kolla is not None and kolla.rendered:
            sources.append(kolla.detail)
            expected_source = kolla.source
            if kolla.mappings != expected_mappings:
                # Kolla itself is the authority; the disagreement is a defect of the built-in model.
                source_obs.append(t("Expected comes from {source}: {kolla}. The wizard's built-in model reads "
                                    "{model}; Kolla's templates win (please report the difference).",
                                    source=kolla.source, kolla=_text(kolla.mappings), model=_text(expected_mappings)))
                expected_mappings = kolla.mappings
            else:
                source_obs.append(t("Expected comes from {source} (the wizard's built-in model agrees).",
                                    source=kolla.source))
        else:
            if kolla is not None:
                expected_note = kolla.note
                problems = getattr(ctx, "problems", None)
                if kolla.problem and problems is not None:
                    line = t("expected view from the built-in model, not Kolla's templates: {note}", note=kolla.note)
                    if line not in problems:
                        problems.append(line)
            if expected_note:
                source_obs.append(t("Expected comes from the {source}: {note}.", source=expected_source,
                                    note=expected_note))
            else:
                source_obs.append(t("Expected comes from the {source}.", source=expected_source))
    views = {
        "host": inv, "physnet": physnet,
        "expected": _text(expected_mappings) if model is not None else t("unknown"),
        "expected_reason": expected_reason,
        "expected_source": expected_source,
        "expected_note": expected_note,
        "expected_from": " ".join(source_obs),
        "deployed": (t("file missing") if deployed is None else
                     t("no bridge_mappings line") if not deployed and not deployed_where else _text(deployed)),
        "deployed_path": _nodeio.OVS_AGENT_INI, "deployed_where": deployed_where or f"{inv}:{_nodeio.OVS_AGENT_INI}",
        "live": _text(live),
        "kolla_creates_bridge": creates_bridge,
        "warnings": list(getattr(expected, "warnings", []) or []),
    }
    views["table"] = (t("| view | {host} bridge_mappings |", host=inv) + "\n|---|---|\n"
                      + t("| expected (Kolla now) | {value} |", value=views['expected']) + "\n"
                      + t("| deployed ({path}) | {value} |", path=_nodeio.OVS_AGENT_INI, value=views['deployed'])
                      + "\n" + t("| live (agent API) | {value} |", value=views['live']))
    facts: dict[str, Any] = {"views": views}
    obs = [t("Three views of bridge_mappings on {host} for {physnet}: expected {expected}; deployed {deployed}; "
             "live {live}.", host=inv, physnet=physnet, expected=views['expected'], deployed=views['deployed'],
             live=views['live']), *source_obs]
    if model is not None:
        obs.append(t("Why Kolla renders that: {reason}.", reason=expected_reason))
    has = {"expected": bool(expected_mappings and physnet in expected_mappings),
           "deployed": bool(deployed and physnet in deployed), "live": physnet in live}
    if has["live"]:
        return Evidence("live-has-mapping", facts=facts, observations=obs, sources=sources, host=host)
    if has["deployed"]:
        obs.append(t("The deployed file has {physnet} but the running agent does not: it was not restarted since.",
                     physnet=physnet))
        return Evidence("not-restarted", facts=facts, observations=obs, sources=sources, host=host)
    if model is None:
        raise ProbeUnavailable(t("{host}: the deployed file has no {physnet} mapping, and the Kolla configuration on "
                                 "the deploy host could not be read to say why", host=inv, physnet=physnet),
                               sources=sources)
    if has["expected"]:
        obs.append(t("Kolla would render {physnet} for {host} now, but the deployed file lacks it: the change was "
                     "not deployed to this host (no reconfigure since, or it was --limit'ed elsewhere).",
                     physnet=physnet, host=inv))
        return Evidence("not-deployed", facts=facts, observations=obs, sources=sources, host=host)
    attempt, resolution = find_attempt(model, inv)
    if resolution is not None:
        facts["kolla_var"] = precedence_facts(resolution)
    if attempt:
        facts["attempt"] = attempt
        obs.append(t("An attempt to turn it on did not take effect: {var}={value} at {where} ({label}) loses to "
                     "{lost_to}.", var=attempt['var'], value=attempt['value'], where=attempt['where'],
                     label=attempt['label'], lost_to=attempt['lost_to']))
        return Evidence("excluded-despite-attempt", facts=facts, observations=obs, sources=sources, host=host)
    obs.append(t("Nothing in the configuration asks Kolla to give computes an external bridge (plain defaults)."))
    return Evidence("excluded-by-default", facts=facts, observations=obs, sources=sources, host=host)
