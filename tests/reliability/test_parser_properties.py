"""Property tests over every parser that reads operator files: whatever the text or the shape,
the only exception is the parser's one-line error, and it names the file (and a line when the
YAML has one). The INI inventory and oslo INI parsers have their own in tests/kolla/test_parsers.py;
here: YAML text, YAML inventories, playbooks, clouds.yaml and lab scenarios."""
from __future__ import annotations

import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard import yamlpos
from wizard.errors import ConfigError
from wizard.kolla.inventory import parse_inventory
from kolla_lab import ScenarioError, load_scenario
from wizard.playbook import load_tree

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

yaml_chars = st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \t\n?abc01") + ["\x00", "\xff", "é", "yes", "null", "<<"])
yaml_text = st.one_of(st.lists(yaml_chars, max_size=120).map("".join), st.text(max_size=200))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["yes", "no", "01", "--help", "-rf", "a;b", "$(id)"]))
shapes = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=25)
WHERE = re.compile(r"^(?P<file>[^:]+)(:\d+)?$")


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=False)


class Tally:
    def __init__(self) -> None:
        self.examples = 0
        self.errors = 0

    def line(self) -> str:
        # counts vary with hypothesis' random draws; the matrix states the property, not the tally
        assert self.examples > 0
        return "every example parsed or raised one line naming the file; no other exception"


def _check_where(where: str, file: str) -> None:
    m = WHERE.match(where)
    assert m and m.group("file") == file, where


def test_yaml_loader_any_text(case):
    tally = Tally()

    @SETTINGS
    @given(yaml_text)
    def prop(text):
        tally.examples += 1
        try:
            yamlpos.load(text, "f.yml")
        except ConfigError as exc:
            tally.errors += 1
            _check_where(exc.where, "f.yml")
            assert "\n" not in exc.one_line()

    prop()
    case.record("property", "wizard.yamlpos.load over random YAML-ish text (NUL, tags, anchors, flow)", tally.line())


def test_yaml_inventory_any_shape(case):
    tally = Tally()

    @SETTINGS
    @given(st.one_of(shapes, st.dictionaries(st.sampled_from(["all", "control", "compute", "children", "hosts", "vars"]),
                                             shapes, max_size=4)))
    def prop(data):
        tally.examples += 1
        inventory = parse_inventory("# yaml\n" + dump({"all": data}), "inv.yml")
        for problem in inventory.problems:
            tally.errors += 1
            assert isinstance(problem, ConfigError)
            _check_where(problem.where, "inv.yml")
        for host in inventory.hosts:
            inventory.groups_of(host)

    prop()
    case.record("property", "wizard.kolla.inventory.parse_inventory over random YAML inventory shapes", tally.line())


def test_playbook_any_shape(case, tmp_path_factory):
    tally = Tally()
    base = tmp_path_factory.mktemp("playbooks")
    keys = st.sampled_from(["id", "symptom", "title", "start", "steps", "findings", "probe", "branches", "ask",
                            "next", "finding", "ok", "unknown", "remedies", "args", "why"])

    @SETTINGS
    @given(st.one_of(shapes, st.dictionaries(keys, shapes, max_size=7)))
    def prop(data):
        tally.examples += 1
        path = base / "tree.yaml"
        path.write_text(dump(data), encoding="utf-8")
        try:
            load_tree(path)
        except ConfigError as exc:
            tally.errors += 1
            _check_where(exc.where, str(path))

    prop()
    case.record("property", "wizard.playbook.load_tree (parse_tree) over random tree shapes", tally.line())


def test_clouds_yaml_any_shape(case, tmp_path_factory, monkeypatch):
    from wizard.cloud import CloudError, check_clouds_files
    tally = Tally()
    path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    cloud_keys = st.sampled_from(["clouds", "auth", "password", "auth_url", "region_name", "mycloud"])

    @SETTINGS
    @given(st.one_of(yaml_text, shapes.map(dump),
                     st.dictionaries(cloud_keys, st.dictionaries(cloud_keys, shapes, max_size=3), max_size=2).map(dump)))
    def prop(text):
        tally.examples += 1
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            check_clouds_files()
        except CloudError as exc:
            tally.errors += 1
            line = exc.one_line()
            assert line.startswith(str(path)) and "\n" not in line, line

    prop()
    case.record("property", "wizard.cloud.check_clouds_files over random clouds.yaml text and shapes", tally.line())


def test_lab_scenario_any_shape(case, tmp_path_factory):
    tally = Tally()
    base = tmp_path_factory.mktemp("scenarios")
    top = st.sampled_from(["name", "base", "expect", "nodes", "cloud", "faults", "release", "operator_address"])

    @SETTINGS
    @given(st.one_of(yaml_text, st.dictionaries(top, shapes, max_size=6).map(dump),
                     st.dictionaries(top, shapes, max_size=4).map(lambda d: dump({**d, "base": "seed-homelab",
                                                                                     "expect": {}}))))
    def prop(text):
        tally.examples += 1
        path = base / "s.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            load_scenario(str(path))
        except ScenarioError as exc:
            tally.errors += 1
            assert str(exc).startswith(str(path)) or str(exc).startswith(
                str(__import__("kolla_lab.scenario", fromlist=["SCENARIO_DIR"]).SCENARIO_DIR)), str(exc)
            assert "\n" not in str(exc)

    prop()
    case.record("property", "kolla_lab.load_scenario over random scenario text and shapes (with and without base:)",
                tally.line())
