"""A Korean run (issue 21) of the seed lab's trees: what the probes saw and what the remedies explain
reads as Korean, while the commands, diffs, names and IDs are byte for byte those of the English run."""
from __future__ import annotations

import dataclasses
import re

import pytest

from kolla_lab import Lab
from tests.trees.network_support import diagnose
from wizard import i18n

HANGUL = re.compile(r"[\uac00-\ud7a3]")
TREES = ["max-retries", "fip-404", "ssh-refused"]


@pytest.fixture(scope="module")
def seed():
    with Lab("seed-homelab") as lab:
        lab.start()
        yield lab


@pytest.fixture(scope="module")
def reports(seed):
    try:
        english = diagnose(seed, TREES)
        i18n.set_language("ko")
        korean = diagnose(seed, TREES)
    finally:
        i18n.set_language("en")
    return english, korean


def _what_it_does(action):
    """An action without its description (which is translated): the op and its params, the argv, the edit."""
    fields = dataclasses.asdict(action)
    fields.pop("describe", None)
    return type(action).__name__, fields


def test_observations_are_korean(reports):
    english, korean = reports
    assert [f.id for f in korean.findings] == [f.id for f in english.findings]
    observations = [line for finding in korean.findings for line in finding.evidence]
    assert observations
    untranslated = [line for line in observations if not HANGUL.search(line)
                    # a log line or file line quoted as seen is evidence, not prose
                    and not re.match(r"^\S+ /var/log/", line)]
    assert untranslated == []
    english_lines = {line for finding in english.findings for line in finding.evidence}
    assert not english_lines & set(observations) - {line for line in english_lines if re.match(r"^\S+ /var/log/", line)}


def test_remedy_explanations_are_korean_and_commands_verbatim(reports):
    english, korean = reports
    for en_finding, ko_finding in zip(english.findings, korean.findings):
        assert [r.id for r in ko_finding.remedies] == [r.id for r in en_finding.remedies]
        for en, ko in zip(en_finding.remedies, ko_finding.remedies):
            assert HANGUL.search(ko.title), (ko.id, ko.title)
            assert HANGUL.search(ko.explain), (ko.id, ko.explain)
            if en.warning:
                assert HANGUL.search(ko.warning), (ko.id, ko.warning)
            assert (ko.command, ko.diff, ko.path, ko.host) == (en.command, en.diff, en.path, en.host)
            assert [_what_it_does(a) for a in ko.actions] == [_what_it_does(a) for a in en.actions]


def test_names_from_the_cloud_stay_verbatim(reports):
    _english, korean = reports
    finding = next(f for f in korean.findings if f.id == "bridge-mapping-missing")
    text = "\n".join(finding.evidence)
    for name in ("compute01", "physnet1", "PortBindingFailed", "/etc/kolla/multinode:17"):
        assert name in text
    fix = next(r for r in finding.remedies if r.id == "quick-bridge-mapping" or not r.durable)
    assert "physnet1:br-ex" in fix.explain


@pytest.mark.parametrize("scenario,tree", [("l3-agent-down", "unreachable"), ("galera-stopped-clean", "cloud-down"),
                                           ("compute-down", "no-valid-host")])
def test_other_trees_speak_korean_with_the_same_commands(scenario, tree):
    with Lab(scenario) as lab:
        lab.start()
        try:
            english = diagnose(lab, [tree])
            i18n.set_language("ko")
            korean = diagnose(lab, [tree])
        finally:
            i18n.set_language("en")
    assert [f.id for f in korean.findings] == [f.id for f in english.findings] != []
    for en_finding, ko_finding in zip(english.findings, korean.findings):
        assert any(HANGUL.search(line) for line in ko_finding.evidence), ko_finding.evidence
        for en, ko in zip(en_finding.remedies, ko_finding.remedies):
            assert HANGUL.search(ko.title) and HANGUL.search(ko.explain), (ko.id, ko.title)
            # the backup names carry the time of the run: the only part of a command that may differ
            assert [_untimed(x) for x in (ko.command, ko.diff, ko.path, ko.host)] == \
                [_untimed(x) for x in (en.command, en.diff, en.path, en.host)]


def _untimed(text):
    return re.sub(r"\d{8}T\d{6}Z", "<time>", text) if text else text
