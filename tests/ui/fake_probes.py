"""Test probes and a test remedy builder for the UI tests: the engine runs for real over them,
so the screens see the same event stream a cloud would produce, without a cloud.

``STATE`` is the pretend node state; the fake apply in ``fakes.py`` changes it, and the engine's
own ``verify_walk`` then proves the fix."""
from __future__ import annotations

from wizard.evidence import Evidence, ProbeUnavailable
from wizard.findings import Remedy
from wizard.probes.registry import probe
from wizard.remedies.actions import FileEdit, NodeCommand, sha256
from wizard.remedies.registry import remedy

STATE: dict[str, str] = {}
DEFAULT_STATE = {"bridge_mappings": "physnet2:br-ex2", "agent": "unreachable", "triage": "build-failed"}


def reset_state() -> None:
    STATE.clear()
    STATE.update(DEFAULT_STATE)


reset_state()
SERVER = {"name": "web-1", "id": "5b1d9c2e-0000-4000-8000-000000000001"}


@probe("ui_server_fault", outcomes=("max-retries", "no-valid-host", "active"),
       summary="(test) read the server's fault", requires="none")
def ui_server_fault(ctx, args, emit) -> Evidence:
    emit("GET /v2.1/servers/detail?name=web-1")
    emit("web-1: status ERROR, fault: Exceeded maximum number of retries.")
    return Evidence("max-retries", facts={"server": dict(SERVER)},
                    observations=["web-1 is in ERROR: Exceeded maximum number of retries."],
                    sources=["GET /v2.1/servers/detail"])


@probe("ui_port_binding", outcomes=("binding-failed", "bound"),
       summary="(test) read the port binding", requires="none")
def ui_port_binding(ctx, args, emit) -> Evidence:
    emit("GET /v2.0/ports?device_id=5b1d9c2e")
    return Evidence("binding-failed", facts={"host": "compute1", "physnet": "physnet1"},
                    observations=["Port 0c7f on compute1: binding:vif_type = binding_failed (network physnet1)."],
                    sources=["GET /v2.0/ports"], host="compute1")


@probe("ui_agent_alive", outcomes=("alive", "dead"),
       summary="(test) is the OVS agent up", requires="none")
def ui_agent_alive(ctx, args, emit) -> Evidence:
    if STATE["agent"] == "unreachable":
        raise ProbeUnavailable("compute1: SSH connection refused (check ssh_config and that sshd runs)")
    return Evidence(STATE["agent"], observations=[f"neutron_openvswitch_agent is {STATE['agent']}."], host="compute1")


@probe("ui_bridge_mappings", outcomes=("missing", "present"),
       summary="(test) read bridge_mappings", requires="none")
def ui_bridge_mappings(ctx, args, emit) -> Evidence:
    emit("compute1$ grep bridge_mappings /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini")
    value = STATE["bridge_mappings"]
    emit(f"bridge_mappings = {value}")
    outcome = "present" if "physnet1:" in value else "missing"
    return Evidence(outcome, facts={"bridge_mappings": value},
                    observations=[f"bridge_mappings on compute1 is '{value}': "
                                  + ("physnet1 is mapped." if outcome == "present" else "no bridge for physnet1.")],
                    host="compute1")


@probe("ui_agent_logs", outcomes=("error-found",), summary="(test) read agent logs", requires="none")
def ui_agent_logs(ctx, args, emit) -> Evidence:
    return Evidence("error-found", observations=["agent log has errors"], host="compute1")


@probe("ui_router", outcomes=("missing", "present"), summary="(test) is there a router", requires="none")
def ui_router(ctx, args, emit) -> Evidence:
    return Evidence("missing", observations=["No router joins private-net to public."])


@probe("ui_sg", outcomes=("blocked", "open"), summary="(test) does a rule allow SSH", requires="none")
def ui_sg(ctx, args, emit) -> Evidence:
    return Evidence("blocked", observations=["Security group default has no ingress rule for TCP 22."])


@probe("ui_triage", outcomes=("build-failed", "fip", "ssh", "healthy"), summary="(test) triage", requires="none")
def ui_triage(ctx, args, emit) -> Evidence:
    return Evidence(STATE["triage"], observations=["web-1 is in ERROR."])


OLD_INI = """[ovs]
bridge_mappings = physnet2:br-ex2
datapath_type = system
"""
NEW_INI = OLD_INI.replace("physnet2:br-ex2", "physnet1:br-ex")
DIFF = """--- /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini
+++ /etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini
@@ -1,3 +1,3 @@
 [ovs]
-bridge_mappings = physnet2:br-ex2
+bridge_mappings = physnet1:br-ex
 datapath_type = system
"""
DURABLE_DIFF = """--- /etc/kolla/multinode
+++ /etc/kolla/multinode
@@ -4,2 +4,2 @@
 [compute]
-compute1
+compute1 neutron_external_interface=eth1
"""


@remedy("ui-bridge-mapping", summary="(test) map physnet1 to br-ex on the compute node",
        also=("bridge-mapping-inventory", "bridge-mapping-agent-ini", "bridge-mapping-other-host"))
def ui_bridge_mapping(ctx, finding) -> list[Remedy]:
    host = finding.host or "compute1"
    return [
        Remedy(
            id="bridge-mapping-inventory", kind="file_edit", durable=True,
            title="Give compute1 the external interface in the inventory",
            explain="kolla-ansible then renders bridge_mappings = physnet1:br-ex on compute1 at every deploy.",
            host=None, path="/etc/kolla/multinode", diff=DURABLE_DIFF,
            command="kolla-ansible -i /etc/kolla/multinode reconfigure -t neutron --limit compute1",
            actions=[FileEdit(None, "/etc/kolla/multinode", sha256("x"), "y", validate="text")],
        ),
        Remedy(
            id="bridge-mapping-agent-ini", kind="file_edit", durable=False,
            title="Add the mapping to the agent's config on compute1 and restart it",
            explain="Fixes the port binding now; the next reconfigure overwrites this file.",
            host=host, path="/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini", diff=DIFF,
            command="docker restart neutron_openvswitch_agent",
            actions=[FileEdit(host, "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini",
                              sha256(OLD_INI), NEW_INI, validate="ini"),
                     NodeCommand(host, ["docker", "restart", "neutron_openvswitch_agent"])],
        ),
        # Advice only (no actions): the wizard must not offer to apply it.
        Remedy(
            id="bridge-mapping-other-host", kind="command", durable=False,
            title="Quick: Rebuild web-1 on the controller, which has the mapping",
            explain="The controller is in [network], so physnet1 is mapped there.",
            command="openstack server rebuild --availability-zone nova:controller web-1",
        ),
    ]
