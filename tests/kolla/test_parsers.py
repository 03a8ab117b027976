"""Inventory and INI parsers: examples, then hypothesis: any text gives a result or ConfigError
with file:line, never another exception."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.errors import ConfigError
from wizard.kolla.ini import parse_bridge_mappings, parse_ini
from wizard.kolla.inventory import expand_host_pattern, parse_inventory

WHERE_WITH_LINE = re.compile(r"^inv(\.ini)?:\d+$")


def test_ranges_children_and_inline_vars():
    inventory = parse_inventory(
        "[compute]\ncompute[01:03] ansible_user=kolla\nnode[a:c]\nn[1:7:3]\n"
        "solo:2222 api_interface=\"em 1\" ansible_become=True count=3 # comment\n"
        "[network]\nnet01\n[openvswitch:children]\nnetwork\ncompute\n"
        "[a:children]\nb\n[b:children]\na\n", "inv")
    assert inventory.hosts_in("compute") == [
        "compute01", "compute02", "compute03", "nodea", "nodeb", "nodec", "n1", "n4", "n7", "solo"]
    assert inventory.hosts_in("openvswitch")[0] == "net01"
    assert inventory.groups_of("compute02") == ["all", "compute", "openvswitch"]
    solo = inventory.host_vars("solo")
    assert solo["api_interface"].value == "em 1" and solo["ansible_port"].value == 2222
    assert solo["ansible_become"].value is True and solo["count"].value == 3
    assert solo["api_interface"].where == "inv:5"
    assert inventory.host_vars("compute03")["ansible_user"].value == "kolla"
    # the a <-> b loop is reported, not followed forever
    assert any("its own descendant" in p.message for p in inventory.problems)
    assert inventory.hosts_in("a") == []


def test_yaml_inventory():
    inventory = parse_inventory(
        "all:\n  vars:\n    x: 1\n  children:\n    control:\n      hosts:\n        ctl01:\n"
        "          ansible_host: 127.0.0.1\n    compute:\n      hosts:\n        compute[01:02]:\n"
        "      vars:\n        neutron_external_interface: eth2\n    baremetal:\n      children:\n"
        "        control:\n        compute:\n", "inv")
    assert inventory.problems == []
    assert inventory.hosts_in("baremetal") == ["ctl01", "compute01", "compute02"]
    assert inventory.group_vars("compute")["neutron_external_interface"].where == "inv:13"
    assert inventory.host_vars("ctl01")["ansible_host"].value == "127.0.0.1"
    assert inventory.group_vars("all")["x"].value == 1
    assert inventory.groups_of("compute01") == ["all", "baremetal", "compute"]


def test_bad_range_reported_with_line():
    inventory = parse_inventory("[compute]\ncompute[03:01]\ncompute04\n", "inv")
    assert [p.where for p in inventory.problems] == ["inv:2"]
    assert inventory.hosts == ["compute04"]
    with pytest.raises(ConfigError):
        expand_host_pattern("x[0:99999999]", "inv:1")


def test_ini_parsing_and_bridge_mappings():
    parsed = parse_ini("# c\n[ovs]\nbridge_mappings = physnet1:br-ex, physnet2:br2\n[agent]\n"
                       "tunnel_types = vxlan\n[ovs]\nlocal_ip = 10.0.0.1\n", "x.ini")
    assert parsed.get("ovs", "bridge_mappings").where == "x.ini:3"
    assert parsed.get("ovs", "local_ip").value == "10.0.0.1"  # repeated sections merge
    assert parse_bridge_mappings(parsed.get("ovs", "bridge_mappings").value) == {
        "physnet1": "br-ex", "physnet2": "br2"}
    with pytest.raises(ConfigError) as caught:
        parse_ini("[ovs]\nbridge_mappings\n", "x.ini")
    assert caught.value.one_line().startswith("x.ini:2: expected 'key = value'")
    with pytest.raises(ConfigError) as caught:
        parse_ini("key = 1\n", "x.ini")
    assert caught.value.where == "x.ini:1"
    with pytest.raises(ConfigError):
        parse_bridge_mappings("physnet1", "x.ini:3")


inventory_alphabet = st.sampled_from(list("[]:=\"' \t\n#;abc01-_.*!?{}") + ["children", "vars", "all"])
inventory_text = st.lists(inventory_alphabet, max_size=120).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(inventory_text, st.text(max_size=200)))
def test_inventory_parser_never_crashes(text):
    inventory = parse_inventory(text, "inv")
    for problem in inventory.problems:
        assert isinstance(problem, ConfigError)
        assert re.match(r"^inv(:\d+)?$", problem.where), problem.where
    for host in inventory.hosts:
        inventory.groups_of(host)
    for group in list(inventory.groups):
        inventory.hosts_in(group)


ini_alphabet = st.sampled_from(list("[]=:#; \t\nabc01,-\"'") + ["ovs", "bridge_mappings"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(ini_alphabet, max_size=80).map("".join), st.text(max_size=200)))
def test_ini_parser_only_raises_config_error_with_line(text):
    try:
        parsed = parse_ini(text, "x.ini")
    except ConfigError as problem:
        assert re.match(r"^x\.ini(:\d+)?$", problem.where)
        return
    for section in parsed.sections.values():
        for value in section.values():
            try:
                parse_bridge_mappings(value.value, value.where)
            except ConfigError as problem:
                assert re.match(r"^x\.ini:\d+$", problem.where)
