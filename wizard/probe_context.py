"""What probes, remedy builders and learn pages may use of a diagnosis: ``ProbeContext``.

``wizard.context.Context`` is the one implementation; tests may pass any object with these
members. Typing the ``ctx`` parameter with it (instead of ``Any``) says what a probe can reach:
the cloud reader, the nodes and the deploy host as transports, the Kolla model, and the facts of
the walk it runs in (``facts``: what earlier steps of the same tree saw; never another tree's)."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .transport.base import Transport


@runtime_checkable
class ProbeContext(Protocol):
    settings: Any                 # wizard.context.Settings
    facts: dict[str, Any]         # the current walk's facts (the engine scopes them per walk)
    answers: dict[str, str]       # pre-given answers to ask steps (--answer STEP=OUTCOME)
    target: dict[str, Any]        # what the symptom is about: {"server": name-or-id}, ...

    @property
    def problems(self) -> list[str]:
        """One line per broken input met so far; appending records one."""
        ...

    @property
    def cloud(self) -> Any:
        """The cloud reader (wizard.cloud.CloudReader): each collection read once per diagnosis."""
        ...

    @property
    def nodes(self) -> Any:
        """The node pool (SSH), by inventory name."""
        ...

    def node(self, host: str) -> Transport:
        """A transport to one node, by its inventory name."""
        ...

    @property
    def deploy(self) -> Transport:
        """The deploy host (local, or over SSH)."""
        ...

    @property
    def kolla(self) -> Any:
        """The Kolla configuration model (wizard.kolla), loaded once from the deploy host."""
        ...

    @property
    def kolla_oracle(self) -> Any:
        """Kolla's own templates where kolla-ansible is installed, else None."""
        ...

    def refresh(self) -> None:
        """Forget what was read, so a check after a fix reads the cloud and the nodes again."""
        ...
