"""The pure readings behind ssh-refused: security-group rule matching and cloud-init console parsing."""
from __future__ import annotations

from hypothesis import given, strategies as st

from wizard.readings import neutron as nx
from wizard.probes.guest import cloud_init_metadata, parse_console

RULE = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}


def test_remote_group_never_admits_the_operator():
    ok, why = nx.rule_admits({**RULE, "remote_group_id": "sg-1"}, "tcp", 22, "192.168.35.5")
    assert not ok and "members of security group sg-1" in why


def test_cidr_port_and_protocol():
    assert nx.rule_admits({**RULE, "remote_ip_prefix": "192.168.35.0/24"}, "tcp", 22, "192.168.35.5")[0]
    assert not nx.rule_admits({**RULE, "remote_ip_prefix": "10.10.0.0/24"}, "tcp", 22, "192.168.35.5")[0]
    assert not nx.rule_admits({**RULE, "remote_ip_prefix": "0.0.0.0/0"}, "tcp", 2222, "192.168.35.5")[0]
    assert not nx.rule_admits({**RULE, "remote_ip_prefix": "0.0.0.0/0"}, "icmp", None, "192.168.35.5")[0]
    assert nx.rule_admits({"direction": "ingress", "ethertype": "IPv4", "protocol": None}, "icmp", None, "1.2.3.4")[0]
    assert not nx.rule_admits({**RULE, "direction": "egress"}, "tcp", 22, "1.2.3.4")[0]


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_prefix_match_agrees_with_ipaddress(addr, plen):
    import ipaddress
    net = ipaddress.ip_network(f"{addr}/{plen}", strict=False)
    probe_ip = "192.168.35.5"
    ok, _ = nx.rule_admits({**RULE, "remote_ip_prefix": str(net)}, "tcp", 22, probe_ip)
    assert ok == (ipaddress.ip_address(probe_ip) in net)


def test_console_failure_and_success_lines():
    failed = parse_console(
        "cloud-init[712]: url_helper.py[WARNING]: Calling 'http://169.254.169.254/openstack' failed [3/120s]: "
        "request error [timeout]\n"
        "DataSourceEc2.py[CRITICAL]: Giving up on md from ['http://169.254.169.254/2009-04-04/meta-data/instance-id'] "
        "after 120 seconds\n"
        "ci-info: no authorized SSH keys fingerprints found for user rocky.\n")
    assert failed["failures"] == 1 and failed["gave_up"] and failed["login_user"] == "rocky"
    assert failed["keys_installed"] is False
    ok = parse_console("cloud-init[905]: Cloud-init v. 23.4-19.el9 finished at Wed, 01 Jan 2025 00:00:12 +0000. "
                       "Datasource DataSourceOpenStackLocal [net,ver=2].  Up 12.49 seconds\n"
                       "ci-info: +++++Authorized keys from /home/cloud-user/.ssh/authorized_keys for user cloud-user+++++\n")
    assert ok["source"] == "DataSourceOpenStackLocal [net,ver=2]" and ok["login_user"] == "cloud-user" and ok["keys_installed"]


class _Console:
    """A CloudReader stand-in that only has a console log (a server still booting)."""

    def console_log(self, server_id, lines=200):
        return "[    0.000000] Linux version 5.14.0\n"


class _Ctx:
    cloud = _Console()
    facts = {"server": {"id": "s1", "name": "vm"}}


def test_a_console_without_cloud_init_lines_is_no_log_not_a_guess():
    evidence = cloud_init_metadata(_Ctx(), {}, lambda _l: None)
    assert evidence.outcome == "no-log"
