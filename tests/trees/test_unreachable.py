"""The unreachable tree against the lab: one scenario per cause, each diagnosed to its own finding
on the right host, the runbook showing the hops checked in order and where the packet stops;
ssh-refused hands a dead port 22 it cannot explain on to it; remedies judged by
python-openstackclient's parser."""
from __future__ import annotations

import pytest

from kolla_lab import Lab
from tests.trees.network_support import assert_commands_parse, diagnose, finding_ids, scenarios_expecting, steps
from wizard import runbook

OPERATOR = ("--operator-ip", "192.168.35.5")
# Where each cause is, and the hop (step) where the packet stops.
WHERE = {
    "l3-agent-down": ("controller", "l3-agent"),
    "dhcp-agent-down": ("controller", "dhcp"),
    "br-ex-no-uplink": ("controller", "uplink"),
    "external-nic-has-address": ("controller", "uplink"),
    "mtu-too-big": ("controller", "mtu"),
    "fip-pool-overlaps-lan": ("deploy", "lan-owner"),
}
HOP_ORDER = ["server", "address", "connect", "l3-agent", "router-ns", "uplink", "lan-owner", "port", "dhcp", "mtu"]


@pytest.mark.parametrize("scenario,expected", scenarios_expecting("unreachable"))
def test_each_cause_is_its_own_finding_on_its_host_and_the_runbook_says_where_it_stops(scenario, expected):
    with Lab(scenario) as lab:
        lab.start()
        report = diagnose(lab, ["unreachable"], *OPERATOR)
    assert finding_ids(report, "unreachable") == expected, (scenario, steps(report, "unreachable"), report.problems)
    walked = [s for s, _o in steps(report, "unreachable")]
    assert walked == [s for s in HOP_ORDER if s in walked]          # hops in the packet's order
    if not expected:
        assert report.trees[0].result == "ok" and walked[-1] == "connect"
        return
    [finding] = report.findings
    host, hop = WHERE[finding.id]
    assert finding.host == host and walked[-1] == hop
    assert finding.remedies and finding.remedies[0].durable
    md = runbook.to_markdown(report)
    path = md.split("## The packet's path:")[1].split("\n## ")[0]
    stop = [line for line in path.splitlines() if "the packet stops here" in line]
    assert len(stop) == 1 and stop[0].startswith(f"{len(walked)}. ")
    assert_commands_parse(report)


@pytest.mark.parametrize("scenario", ["l3-agent-down", "dhcp-agent-down", "br-ex-no-uplink",
                                      "external-nic-address", "fip-pool-overlaps-lan", "mtu-too-big"])
def test_ssh_refused_hands_the_dead_port_on_and_is_settled_by_the_cause(scenario):
    with Lab(scenario) as lab:
        lab.start()
        report = diagnose(lab, ["ssh-refused"], *OPERATOR)
    [ssh, hop] = report.trees
    assert ssh.result == "fault" and ssh.message.startswith("explained in unreachable: ")
    assert hop.tree == "unreachable" and hop.result == "fault"
    assert report.exit_code() == 1 and finding_ids(report, "ssh-refused") == []


def test_mtu_hang_tells_refused_timeout_and_hang_apart():
    with Lab("mtu-too-big") as lab:
        lab.start()
        report = diagnose(lab, ["unreachable"], *OPERATOR)
    connect = next(s for s in report.steps if s.step == "connect")
    assert connect.outcome == "hangs-after-banner"
    assert any("banner came" in o and "SSH-2.0-" in o for o in connect.observations)
    mtu = report.findings[0]
    assert mtu.facts["mtu"]["network"] == 1450 and mtu.facts["mtu"]["path"] == 1400
    durable, quick = mtu.remedies
    assert "global_physnet_mtu = 1450" in durable.command and "path_mtu = 1450" in durable.command
    assert "kolla-ansible reconfigure -i /etc/kolla/multinode -t neutron" in durable.command
    assert quick.command == "openstack network set --mtu 1400 demo-net"


def test_agent_down_remedies_restart_the_systemd_unit_of_the_engine_in_use():
    with Lab("dhcp-agent-down") as lab:
        lab.start()
        report = diagnose(lab, ["unreachable"], *OPERATOR)
    durable, quick = report.findings[0].remedies
    assert durable.command == "kolla-ansible deploy -i /etc/kolla/multinode -t neutron"
    assert quick.host == "controller"
    assert quick.command.splitlines() == [
        "sudo systemctl reset-failed kolla-neutron_dhcp_agent-container.service",
        "sudo systemctl restart kolla-neutron_dhcp_agent-container.service",
        "sudo docker logs --tail 50 neutron_dhcp_agent"]
