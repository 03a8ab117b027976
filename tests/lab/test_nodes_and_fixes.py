"""Real OpenSSH against the lab nodes, and the seed's two fixes turning the next build ACTIVE."""
import openstack
import pytest

from kolla_lab import Lab

from .conftest import sftp, ssh

FIXED_INI = """[agent]
tunnel_types = vxlan
l2_population = true
arp_responder = true

[securitygroup]
firewall_driver = neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver

[ovs]
bridge_mappings = physnet1:br-ex
datapath_type = system
ovsdb_connection = tcp:127.0.0.1:6640
ovsdb_timeout = 10
local_ip = 192.168.35.11
"""


def _build_on_public1(lab, name):
    conn = openstack.connect(auth_url=lab.auth_url + "/v3", username="admin", password=lab.state.admin_password,
                             project_name="admin", user_domain_name="Default", project_domain_name="Default",
                             region_name="RegionOne")
    net = conn.network.find_network("public1")
    server = conn.compute.create_server(name=name, image_id=conn.image.find_image("rocky-9").id,
                                        flavor_id=conn.compute.find_flavor("m1.small").id,
                                        networks=[{"uuid": net.id}], key_name="homelab-key")
    return conn.compute.get_server(server.id)


@pytest.fixture
def lab(tmp_path):
    with Lab("seed-homelab", config_dir=tmp_path / "cfg") as lab:
        yield lab


def test_openssh_commands_and_loopback_only(lab):
    assert ssh(lab, "compute01", "true").returncode == 0
    assert ssh(lab, "compute01", "hostname").stdout == "compute01\n"
    ps = ssh(lab, "compute01", "sudo docker ps --format '{{.Names}}\\t{{.Status}}'").stdout
    assert "neutron_openvswitch_agent\tUp" in ps
    show = ssh(lab, "controller", "docker exec openvswitch_vswitchd ovs-vsctl show").stdout
    assert "Bridge br-ex" in show and "Port veth1" in show and "options: {peer=int-br-ex}" in show
    missing = ssh(lab, "compute01", "frobnicate --now", check=False)
    assert missing.returncode == 127 and "bash: frobnicate: command not found" in missing.stderr
    inv = (lab.config_dir / "inventory").read_text()
    assert "ansible_host" not in inv and "[compute:vars]" in inv
    # nothing the lab serves listens beyond loopback
    assert lab._http.server_address[0] == "127.0.0.1"
    assert all(s.getsockname()[0] == "127.0.0.1" for s in lab._ssh.sockets.values())


def test_hot_fix_turns_next_build_active(lab):
    assert _build_on_public1(lab, "before").status == "ERROR"
    # editing the ini alone kills the agent: compute01 has no br-ex
    sftp(lab, "compute01", f"put {_write(lab, FIXED_INI)} /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini\n")
    ssh(lab, "compute01", "sudo docker restart neutron_openvswitch_agent")
    state = ssh(lab, "compute01", "docker inspect -f '{{.State.Status}} {{.RestartCount}}' neutron_openvswitch_agent").stdout
    assert state.startswith("restarting")
    log = ssh(lab, "compute01", "tail -n 1 /var/log/kolla/neutron/neutron-openvswitch-agent.log").stdout
    assert "Bridge br-ex for physical network physnet1 does not exist. Agent terminated!" in log
    # the report's quick fix, complete: create br-ex, plug the veth, restart
    ssh(lab, "compute01", "sudo docker exec openvswitch_vswitchd ovs-vsctl add-br br-ex")
    ssh(lab, "compute01", "sudo docker exec openvswitch_vswitchd ovs-vsctl add-port br-ex veth1")
    ssh(lab, "compute01", "sudo docker restart neutron_openvswitch_agent")
    assert _build_on_public1(lab, "after").status == "ACTIVE"


def test_durable_fix_turns_next_build_active(lab):
    deploy = lab.state.deploy
    globals_yml = deploy.read("/etc/kolla/globals.yml") + 'enable_neutron_provider_networks: "yes"\n'
    sftp(lab, "deploy", f"put {_write(lab, globals_yml)} /etc/kolla/globals.yml\n")
    wrong = ssh(lab, "deploy", "kolla-ansible -i /etc/kolla/multinode reconfigure", check=False)
    assert wrong.returncode == 2   # 2024.2 CLI: action first
    out = ssh(lab, "deploy", "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron "
                             "--limit compute01").stdout
    assert "changed: [compute01] => (item=br-ex)" in out
    ini = ssh(lab, "compute01", "cat /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini").stdout
    assert "bridge_mappings = physnet1:br-ex" in ini
    assert _build_on_public1(lab, "after").status == "ACTIVE"


def test_inventory_vars_trap_loses(lab):
    # [compute:vars] enable_neutron_provider_networks=yes loses to kolla's group_vars/all: nothing changes
    out = ssh(lab, "deploy", "kolla-ansible reconfigure -i /etc/kolla/multinode -t openvswitch,neutron").stdout
    assert "changed=0" in out and "compute01" in out
    assert lab.state.nodes["compute01"].agent_mappings() == {}


def _write(lab, text):
    path = lab.config_dir / "upload.tmp"
    path.write_text(text)
    return path
