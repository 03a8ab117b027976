"""A Korean walk (issue 21): fip-404 on the seed lab with the language set to ko yields the tree's,
steps' and finding's Korean text, with this cloud's names and Neutron's own 404 body inserted
verbatim; English again afterwards."""
from __future__ import annotations

import pytest

from tests.trees.network_support import diagnose
from kolla_lab import Lab
from wizard import i18n


@pytest.fixture
def korean():
    before = i18n.current_language()
    i18n.set_language("ko")
    yield
    i18n.set_language(before)


def test_fip_404_walked_in_korean(korean):
    with Lab("seed-homelab") as lab:
        lab.start()
        report = diagnose(lab, ["fip-404"])
        i18n.set_language("en")
        english = diagnose(lab, ["fip-404"])
    assert [t.title for t in report.trees] == ["유동 IP 생성이 404로 실패"]
    assert [(s.step, s.title) for s in report.steps if s.tree == "fip-404"] == [
        ("target", "인스턴스와 그 포트 찾기"),
        ("external-network", "외부(유동 IP) 네트워크 찾기"),
        ("router-path", "서브넷과 외부 네트워크를 잇는 라우터 찾기"),
    ]
    [finding] = report.findings
    facts = finding.facts
    assert finding.id == "no-router"   # ids stay as they are
    assert finding.title == (f"{facts['subnet']['name']}을(를) 외부 네트워크 {facts['floating_network']['name']}에 "
                             "잇는 라우터가 없음")
    assert finding.root_cause.startswith("유동 IP는 가상 라우터의 NAT로 동작합니다")
    # Neutron's error body and the cloud's names are inserted as they are, in any language.
    neutron_404 = (f"External network {facts['floating_network']['id']} is not reachable from subnet "
                   f"{facts['subnet']['id']}.")
    assert neutron_404 in finding.root_cause
    assert f"서브넷 {facts['subnet']['name']}에 있어야 합니다" in finding.root_cause
    # The same walk in English is the English text (the language is read at each walk).
    assert [t.title for t in english.trees] == ["Floating IP create fails with 404"]
    assert english.findings[0].root_cause.startswith("Floating IPs work through NAT in a virtual router")


def test_learn_pages_in_korean_keep_commands_and_names(korean):
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis
    from wizard.learn import CONCEPTS, concept_title, learn_page

    with Lab("seed-homelab") as lab:
        ctx = context(lab)
        try:
            report, _engine = run_diagnosis(ctx, ["max-retries"])
            facts = report.findings[0].facts
            pages = {c: learn_page(ctx, c, facts) for c in CONCEPTS}
        finally:
            ctx.close()
    for concept, page in pages.items():
        title = page.splitlines()[0]
        assert title == f"# {concept_title(concept)}" and title != f"# {CONCEPTS[concept]}", concept
    assert "**compute01에는 br-ex가 없습니다.**" in pages["bridges"]
    # commands and paths stay verbatim inside the Korean prose
    assert "노드에서 직접 확인하세요: `docker exec openvswitch_vswitchd ovs-vsctl show`." in pages["bridges"]
    assert "| # | 단계 | 위치 | 값 | 이김 |" in pages["precedence"] and "| `'no'` | **예** |" in pages["precedence"]
    assert "10. **extra vars**: `globals.yml`, `globals.d/*.yml`, `passwords.yml`, `-e`: 항상 이깁니다." in pages["precedence"]
    assert "| compute01 | up | enabled |" in pages["scheduling"]
    assert "`openstack compute service list --service nova-compute`" in pages["scheduling"]
    assert "`ExternalGatewayForFloatingIPNotFound`" in pages["fip-nat"] and "아직 라우터가 없어서" in pages["fip-nat"]
    assert "`Permission denied (publickey)`" in pages["metadata"] and "메타데이터" in pages["metadata"]
