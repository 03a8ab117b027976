"""Probes and remedy builders are typed against ProbeContext, and Context provides all of it."""
from __future__ import annotations

from wizard.context import Context, Settings
from wizard.probe_context import ProbeContext
from wizard.probes.registry import registry as probes
from wizard.remedies.registry import registry as remedies

MEMBERS = ("settings", "facts", "answers", "target", "problems", "cloud", "nodes", "node", "deploy", "kolla",
           "kolla_oracle", "refresh")


def test_the_protocol_names_what_probes_reach():
    declared = {n for n in dir(ProbeContext) if not n.startswith("_")} | set(ProbeContext.__annotations__)
    assert declared == set(MEMBERS)


def test_context_provides_every_member_without_connecting():
    ctx = Context(Settings())
    for name in MEMBERS:   # on the class for the lazy properties (reading them would connect)
        assert name in vars(ctx) or hasattr(Context, name), name


def test_every_shipped_probe_and_builder_takes_a_probe_context():
    untyped = [f"probe {name}" for name, spec in probes().items()
               if spec.func.__module__.startswith("wizard.") and spec.func.__annotations__.get("ctx") != "ProbeContext"]
    untyped += [f"remedy {name}" for name, spec in remedies().items()
                if spec.func.__module__.startswith("wizard.") and spec.func.__annotations__.get("ctx") != "ProbeContext"]
    assert untyped == []
    assert len([s for s in probes().values() if s.func.__module__.startswith("wizard.")]) >= 20
