import pytest

from kolla_lab import Lab, ScenarioError, list_scenarios, load_scenario
from kolla_lab.build import LabState
from kolla_lab.expectations import known_findings

LOOKALIKES = {"physnet-mismatch", "mapped-bridge-missing", "agent-not-restarted", "config-not-deployed",
              "router-no-gateway", "subnet-not-on-router", "ssh-wrong-cidr", "no-keypair", "metadata-unreachable",
              "ovs-agent-down"}


def test_shipped_scenarios_load_with_expectations():
    names = set(list_scenarios())
    assert {"seed-homelab", "healthy"} | LOOKALIKES <= names
    for name in names:
        sc = load_scenario(name)
        assert set(sc["expect"]) <= set(known_findings())
    assert load_scenario("seed-homelab")["expect"]["max-retries"] == ["bridge-mapping-missing"]
    assert all(v == [] for v in load_scenario("healthy")["expect"].values())


@pytest.mark.parametrize("name,server,status", [
    ("healthy", "rocky-vm2", "ACTIVE"), ("physnet-mismatch", "rocky-vm1", "ERROR"),
    ("agent-not-restarted", "rocky-vm1", "ERROR"), ("config-not-deployed", "rocky-vm1", "ERROR"),
    ("mapped-bridge-missing", "rocky-vm1", "ERROR"), ("ovs-agent-down", "rocky-vm1", "ERROR")])
def test_states_are_computed(name, server, status):
    st = LabState(load_scenario(name), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJk5 lab")
    assert next(s for s in st.cloud.servers.values() if s["name"] == server)["status"] == status


def test_metadata_unreachable_means_no_key():
    st = LabState(load_scenario("metadata-unreachable"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJk5 lab")
    vm = next(s for s in st.cloud.servers.values() if s["name"] == "rocky-vm2")
    assert vm["status"] == "ACTIVE" and not vm["key_injected"] and "Giving up on md from" in vm["console"]


def test_the_lab_reads_the_symptoms_and_findings_the_wizard_loads():
    # The lab reads the playbooks as data (it never imports the wizard); both readings must agree.
    from wizard import playbook
    trees = playbook.load_all()
    assert known_findings() == {t.id: set(t.findings) for t in trees.values()}


def test_every_expected_finding_is_one_its_tree_can_raise():
    from wizard import playbook
    trees = playbook.load_all()
    for name in list_scenarios():
        for symptom, ids in load_scenario(name)["expect"].items():
            assert set(ids) <= set(trees[symptom].findings), (name, symptom)


def test_validation_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nbase: seed-homelab\nexpect:\n  max-retries: [no-such-finding]\n")
    with pytest.raises(ScenarioError) as err:
        Lab(str(bad))
    assert str(err.value).startswith(f"{bad}:4:") and "no-such-finding" in str(err.value)
    bad.write_text("name: bad\nbase: seed-homelab\nexpect: {}\nnodes:\n  compute01:\n    colour: red\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(bad))
    assert str(err.value).startswith(f"{bad}:6:")
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(bad))
    assert str(bad) in str(err.value) and "YAML syntax error" in str(err.value)


def test_an_edited_playbook_is_read_again(tmp_path, monkeypatch):
    """The lab keeps each playbook's finding IDs between Lab starts; a file edited since is read again."""
    monkeypatch.setenv("KOLLA_WIZARD_PLAYBOOKS", str(tmp_path))
    tree = tmp_path / "x-tree.yaml"
    tree.write_text("id: x-tree\nfindings:\n  first: {}\n")
    assert known_findings()["x-tree"] == {"first"}
    tree.write_text("id: x-tree\nfindings:\n  first: {}\n  second-one: {}\n")
    assert known_findings()["x-tree"] == {"first", "second-one"}
    tree.write_text("id: x-tree\nfindings: [\n")       # no longer reads: left out, as before
    assert "x-tree" not in known_findings()
