"""A real three-node MariaDB Galera cluster judges the cloud-down tree's Galera rules: the
grastate.dat bytes the lab's model writes are the ones real Galera writes for the same events (a
clean stop of all nodes together, a crash), and the bootstrap node the wizard names from the real
files is the one whose data survives, including when only one node has the last write and its
seqno is -1 until ``mariadbd --wsrep-recover`` reads it. The wrong host is refused.

One cluster per module (its start is most of the cost); the tests run in order on it."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from kolla_lab.galera_model import grastate_after
from kolla_lab.real.galera import GaleraCluster, GaleraUnavailable
from wizard.evidence import ProbeUnavailable
from wizard.findings import Finding
from wizard.readings import galera as gx
from wizard.remedies.apply import apply_remedy
from wizard.remedies.control_plane import mariadb_recovery

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster():
    try:
        c = GaleraCluster(3)
    except GaleraUnavailable as exc:
        pytest.skip(f"real Galera: {exc}")
    try:
        c.create()
        yield c
    finally:
        c.close()


def wizard_view(c: GaleraCluster) -> list[gx.NodeGalera]:
    """What the galera_cluster probe reads on each node, taken from the real files."""
    out = []
    for n in c.nodes:
        running = n.process is not None and n.process.poll() is None
        info = gx.NodeGalera(n.name, container="running" if running else "exited")
        text = c.grastate(n)
        info.grastate = gx.parse_grastate(text) if text is not None else None
        gvw = c.gvwstate(n)
        info.gvwstate = gx.parse_gvwstate(gvw) if gvw is not None else None
        info.recovered = gx.recovered_position(c.log_lines(n))
        if running:
            info.wsrep = c.status(n)
        out.append(info)
    return out


def rows(c: GaleraCluster, node) -> list[str]:
    return c.sql(node, "SELECT what FROM judge.writes ORDER BY id").split()


class _NoKolla:
    settings = SimpleNamespace(inventory="/etc/kolla/multinode", kolla_config_dir="/etc/kolla")

    @property
    def kolla(self):
        raise ProbeUnavailable("no Kolla model here")


def test_running_cluster_is_healthy_to_the_wizard(cluster):
    decision = gx.decide(wizard_view(cluster))
    assert decision.outcome == "healthy", decision.reasons
    for n in cluster.nodes:
        state = gx.parse_grastate(cluster.grastate(n))
        assert state.seqno == -1 and not state.safe_to_bootstrap   # a running member of three


def test_clean_stop_of_all_together_matches_the_model_and_the_highest_survives(cluster):
    first = cluster.nodes[0]
    cluster.sql(first, "INSERT INTO judge.writes VALUES (1, 'before-reboot')")
    uuid = cluster.status(first)["wsrep_local_state_uuid"]
    cluster.stop_together()
    for n in cluster.nodes:
        real = cluster.grastate(n)
        state = gx.parse_grastate(real)
        assert state.seqno >= 0 and state.uuid == uuid
        assert cluster.gvwstate(n) is None   # a clean shutdown removes it
        model = grastate_after(n.grastate_at_start, [(uuid, -1, False), (uuid, state.seqno, state.safe_to_bootstrap)])
        assert model == real, (n.name, model, real)
    decision = gx.decide(wizard_view(cluster))
    assert decision.outcome == "bootstrap-from-saved", decision.reasons
    chosen = next(n for n in cluster.nodes if n.name == decision.host)
    cluster.bootstrap(chosen)
    cluster.join(*[n for n in cluster.nodes if n is not chosen])
    for n in cluster.nodes:
        assert rows(cluster, n) == ["before-reboot"]


def test_only_one_node_has_the_last_write_after_a_crash(cluster):
    n1, n2, n3 = cluster.nodes
    uuid = cluster.status(n1)["wsrep_local_state_uuid"]
    cluster.stop(n3)
    cluster.stop(n2)
    cluster.sql(n1, "INSERT INTO judge.writes VALUES (2, 'last-write')")
    cluster.kill(n1)

    # What real Galera left: n1 crashed alone in its primary component (seqno -1, marked safe,
    # gvwstate.dat kept); n2 and n3 saved their positions. The model writes the same bytes.
    g1 = gx.parse_grastate(cluster.grastate(n1))
    assert (g1.seqno, g1.safe_to_bootstrap) == (-1, True)
    assert gx.parse_gvwstate(cluster.gvwstate(n1)) is not None
    assert grastate_after(n1.grastate_at_start, [(uuid, -1, False), (uuid, -1, True)]) == cluster.grastate(n1)
    for n in (n2, n3):
        state = gx.parse_grastate(cluster.grastate(n))
        assert state.seqno >= 0 and not state.safe_to_bootstrap
        assert grastate_after(n.grastate_at_start, [(uuid, -1, False), (uuid, state.seqno, False)]) == cluster.grastate(n)

    # seqno -1 and no recovered position since n1 last synced: the wizard names nobody.
    before = gx.decide(wizard_view(cluster))
    assert before.outcome == "position-unknown" and before.unknown == ["node1"], before.reasons

    # Kolla's wsrep recovery step, on the real files: now the log says where n1 really is.
    position = cluster.wsrep_recover(n1)
    decision = gx.decide(wizard_view(cluster))
    assert decision.outcome == "bootstrap-from-recovered" and decision.host == "node1", decision.reasons
    saved = {n.name: gx.parse_grastate(cluster.grastate(n)).seqno for n in (n2, n3)}
    assert decision.seqno > max(saved.values())   # the trap: n2's saved seqno is the highest on file

    # The remedy bootstraps only from the host the operator types; the wrong one is refused.
    finding = Finding("galera-bootstrap-from-recovered", "cloud-down", "", "critical", "", decision.host, [], [],
                      None, "galera", facts={"galera": {"bootstrap_host": decision.host, "seqno": decision.seqno,
                                                        "hosts": [n.name for n in cluster.nodes],
                                                        "positions_text": ""}})
    ctx = _NoKolla()
    [fix] = mariadb_recovery(ctx, finding)
    assert fix.confirm == "node1" and fix.command.endswith("-e mariadb_recover_inventory_name=node1")
    for typed in (None, "node2", "node3"):
        refused = apply_remedy(ctx, None, finding, fix, typed=typed, emit=lambda _l: None)
        assert refused.status == "refused" and "type 'node1'" in refused.message

    # What kolla-ansible mariadb-recovery then does with node1, on the real database.
    cluster.bootstrap(n1, start_position=position)
    cluster.join(n2, n3)
    for n in cluster.nodes:
        assert rows(cluster, n) == ["before-reboot", "last-write"], n.name
