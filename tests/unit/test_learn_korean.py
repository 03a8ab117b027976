"""The learn pages' texts that reach t() through a table, not as a literal (page titles, bridge
roles), have their Korean; the AST scan of t("...") literals cannot see these."""
from __future__ import annotations

from wizard import i18n, learn, learn_network


def test_page_titles_and_bridge_roles_have_korean():
    korean = i18n.catalog("ko")
    tables = [learn.CONCEPTS, learn_network.CONCEPTS, learn.BRIDGE_ROLES]
    missing = [text for table in tables for text in table.values() if text not in korean]
    assert not missing, missing
    assert "a bridge Kolla or an operator created (not one of neutron's defaults)." in korean


def test_concept_title_follows_the_language():
    before = i18n.current_language()
    try:
        i18n.set_language("ko")
        assert learn.concept_title("fip-nat") == "유동 IP: 라우터 네임스페이스 안의 1:1 NAT"
        assert learn.concept_title("no-such-page") == "no-such-page"
        i18n.set_language("en")
        assert learn.concept_title("fip-nat") == learn.CONCEPTS["fip-nat"]
    finally:
        i18n.set_language(before)
