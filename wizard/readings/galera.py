"""MariaDB Galera's own state files and log lines, read as Galera and Kolla write them, and the
rule for which node may bootstrap a cluster that is down everywhere.

Where the facts come from (docs/real-tier.md, "Galera"):
- grastate.dat: galera/src/saved_state.cpp ``SavedState::write_file``: ``# GALERA saved state``,
  ``version: 2.1``, ``uuid:    <uuid>``, ``seqno:   <n>``, ``safe_to_bootstrap: <0|1>``, rewritten
  in place (a shorter state is padded with spaces). A running node writes seqno -1; a clean
  shutdown writes the last committed seqno; a crash leaves -1.
- gvwstate.dat: the last primary view (``my_uuid``, ``#vwbeg``, ``view_id``, ``bootstrap``,
  ``member`` lines, ``#vwend``); present while a node is in a primary component and after a crash,
  removed by a clean shutdown.
- "WSREP: Recovered position: <uuid>:<seqno>" (mariadbd --wsrep-recover) or mysqld_safe's
  "WSREP: Recovered position <uuid>:<seqno>": the position InnoDB really committed.
- Kolla: the datadir is the ``mariadb`` volume (/var/lib/docker/volumes/mariadb/_data), the log
  /var/log/kolla/mariadb/mariadb.log (galera.cnf.j2 log_error); kolla-ansible's recover_cluster.yml
  reads the last "Recovered position" of that log and bootstraps the host with the largest seqno.

The rule (``decide``): a node may be bootstrapped only when every node's committed position is
known and they share one history (uuid); the highest seqno wins; among equals one marked
safe_to_bootstrap, else the first in inventory order (equal seqnos hold the same data). A -1 is
known only from a "Recovered position" line logged after the node last ran in a primary
component (no commit happens outside one); anything else is unknown, and nothing is chosen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from ..i18n import t

VOLUME_DIR = "/var/lib/docker/volumes/mariadb/_data"
PODMAN_VOLUME_DIR = "/var/lib/containers/storage/volumes/mariadb/_data"
LOG = "/var/log/kolla/mariadb/mariadb.log"
CONTAINER = "mariadb"

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RECOVERED_RE = re.compile(r"WSREP: Recovered position:? (" + UUID_RE + r"):(-?\d+)")
# Lines a node writes once it is (again) in a primary component and may commit.
PRIMARY_RE = re.compile(r"WSREP: (Synchronized with group, ready for connections"
                        r"|Shifting JOINED -> SYNCED|Server status change joined -> synced)")


def volume_dir(engine: str) -> str:
    return PODMAN_VOLUME_DIR if engine == "podman" else VOLUME_DIR


@dataclass(frozen=True)
class GraState:
    uuid: str
    seqno: int
    safe_to_bootstrap: bool
    version: str = ""


def parse_grastate(text: str) -> GraState | None:
    """grastate.dat as Galera's SavedState reads it (one ``key: value`` per line, '#' comments,
    trailing padding ignored). None when there is no uuid or seqno line."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and parts[0].endswith(":"):
            values[parts[0][:-1]] = parts[1]
    try:
        uuid = values["uuid"].lower()
        seqno = int(values["seqno"])
    except (KeyError, ValueError):
        return None
    if not re.fullmatch(UUID_RE, uuid):
        return None
    return GraState(uuid, seqno, values.get("safe_to_bootstrap", "0") == "1", values.get("version", ""))


@dataclass(frozen=True)
class ViewState:
    my_uuid: str
    view_id: str
    members: tuple[str, ...]


def parse_gvwstate(text: str) -> ViewState | None:
    my_uuid, view_id, members = "", "", []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "my_uuid:" and len(parts) > 1:
            my_uuid = parts[1]
        elif parts[0] == "view_id:":
            view_id = " ".join(parts[1:])
        elif parts[0] == "member:" and len(parts) > 1:
            members.append(parts[1])
    if not my_uuid or not members:
        return None
    return ViewState(my_uuid, view_id, tuple(members))


@dataclass(frozen=True)
class Recovered:
    uuid: str
    seqno: int
    line: str
    # True: logged after the node last joined a primary component, so no commit came after it.
    current: bool


def recovered_position(log_lines: Iterable[str]) -> Recovered | None:
    """The last "Recovered position" of a mariadb log, and whether it is still current."""
    last: Recovered | None = None
    for line in log_lines:
        match = RECOVERED_RE.search(line)
        if match:
            last = Recovered(match.group(1).lower(), int(match.group(2)), line.strip(), True)
        elif last is not None and last.current and PRIMARY_RE.search(line):
            last = Recovered(last.uuid, last.seqno, last.line, False)
    return last


@dataclass
class NodeGalera:
    host: str
    container: str = "unknown"            # running | exited | restarting | missing | unknown
    grastate: GraState | None = None
    gvwstate: ViewState | None = None
    recovered: Recovered | None = None
    wsrep: dict[str, str] = field(default_factory=dict)   # SHOW GLOBAL STATUS LIKE 'wsrep_%'
    image: str = ""                       # the container's image (the recovery runs the same one)

    @property
    def synced(self) -> bool:
        return (self.container == "running" and self.wsrep.get("wsrep_local_state_comment") == "Synced"
                and self.wsrep.get("wsrep_cluster_status") == "Primary")

    def position(self) -> tuple[int | None, str]:
        """(committed seqno or None when unknown, where it was read)."""
        if self.grastate is None:
            return None, "no grastate.dat"
        if self.grastate.seqno >= 0:
            return self.grastate.seqno, "grastate.dat"
        rec = self.recovered
        if rec is not None and rec.current and rec.uuid == self.grastate.uuid and rec.seqno >= 0:
            return rec.seqno, "recovered position in the mariadb log"
        return None, "seqno -1 and no current recovered position"


@dataclass
class Decision:
    outcome: str              # healthy | partial | bootstrap-from-saved | bootstrap-from-recovered
    #                           | position-unknown | diverged
    host: str | None = None
    seqno: int | None = None
    reasons: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)
    positions: dict[str, int | None] = field(default_factory=dict)


def decide(nodes: list[NodeGalera]) -> Decision:
    synced = [n.host for n in nodes if n.synced]
    if synced and len(synced) == len(nodes):
        return Decision("healthy", reasons=[t("all {count} nodes are Synced in the Primary component", count=len(nodes))])
    if synced:
        down = [n.host for n in nodes if n.host not in synced]
        return Decision("partial", host=synced[0], down=down,
                        reasons=[t("{synced} still form the Primary component; {down} can rejoin it (no bootstrap)",
                                   synced=', '.join(synced), down=', '.join(down))])
    positions: dict[str, int | None] = {}
    sources: dict[str, str] = {}
    for n in nodes:
        positions[n.host], sources[n.host] = n.position()
    uuids = {n.grastate.uuid for n in nodes if n.grastate is not None}
    if len(uuids) > 1:
        return Decision("diverged", positions=positions,
                        reasons=[t("the nodes hold {count} different cluster histories (uuids {uuids}); no seqno "
                                   "comparison is meaningful across them", count=len(uuids),
                                   uuids=', '.join(sorted(uuids)))])
    unknown = [h for h, p in positions.items() if p is None]
    if unknown:
        return Decision("position-unknown", unknown=unknown, positions=positions,
                        reasons=[f"{h}: {t(sources[h])}" for h in unknown])
    best = max(p for p in positions.values() if p is not None)
    top = [n for n in nodes if positions[n.host] == best]
    chosen = next((n for n in top if n.grastate is not None and n.grastate.safe_to_bootstrap), top[0])
    reasons = [t("{host}: seqno {seqno} ({source})", host=h, seqno=p, source=t(sources[h]))
               for h, p in positions.items()]
    if len(top) > 1:
        reasons.append(t("{hosts} share the highest seqno {seqno}: they hold the same data",
                         hosts=', '.join(n.host for n in top), seqno=best))
    outcome = "bootstrap-from-recovered" if sources[chosen.host] != "grastate.dat" else "bootstrap-from-saved"
    return Decision(outcome, host=chosen.host, seqno=best, reasons=reasons, positions=positions)
