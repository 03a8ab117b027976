"""Real Nova in the real lab (``RealLab(..., compute="nova")``): nova-api, nova-conductor,
nova-scheduler, placement-api and one nova-compute (fake virt driver) per compute node, on the lab's
own RabbitMQ, build the seed's servers; rocky-vm1's fault, instance action and event, and the log
lines about its port binding are what real Nova and Neutron recorded. One lab for the module."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import openstack
import pytest

from .conftest import real_stack_or_skip

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]
DEADLINE = 60.0
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def lab():
    real_stack_or_skip("openstack", "kolla", "nova")
    from kolla_lab.real import RealLab
    real = RealLab("seed-homelab", compute="nova").start()
    try:
        yield real
    finally:
        pids = [p.pid for p in real.nova.processes().values() if p] if real.nova else []
        real.stop()
        for pid in pids:            # nothing of Nova outlives the lab
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@pytest.fixture(scope="module")
def conn(lab):
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(lab.config_dir / "clouds.yaml")
    try:
        yield openstack.connect(cloud=lab.cloud_name)
    finally:
        os.environ.pop("OS_CLIENT_CONFIG_FILE", None)


def ssh(lab, node: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-F", str(lab.config_dir / "ssh_config"), "-o", "BatchMode=yes", node, command],
                          capture_output=True, text=True, timeout=60)


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode()


def test_the_real_nova_processes_run(lab, conn):
    procs = lab.nova.processes()
    assert set(procs) == {"placement-api", "nova-api", "nova-conductor", "nova-scheduler", "nova-compute@compute01"}
    for name, proc in procs.items():
        assert proc is not None and proc.poll() is None, name
    assert "nova_run.py compute" in _cmdline(procs["nova-compute@compute01"].pid)
    assert "nova.wsgi.osapi_compute" in _cmdline(procs["nova-api"].pid)
    # The compute service and its resource provider are Nova's own rows, reached through the catalog.
    services = {(s.binary, s.host): s for s in conn.compute.services()}
    assert services[("nova-compute", "compute01")].state == "up"
    assert services[("nova-conductor", "controller")].state == "up"
    assert [h.name for h in conn.compute.hypervisors()] == ["compute01"]
    assert conn.compute.get_endpoint().startswith(lab.nova.api.url)


def test_rocky_vm1_fault_action_and_event_are_real_novas(lab, conn):
    server = conn.compute.find_server("rocky-vm1")
    server = conn.compute.get_server(server.id)
    assert server.status == "ERROR" and server.compute_host is None
    message = ("Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures "
               f"for instance {server.id}.")
    assert server.fault["message"] == message
    assert "nova/conductor/manager.py" in server.fault["details"]
    assert f"nova.exception.MaxRetriesExceeded: {message}" in server.fault["details"]
    assert "PortBindingFailed" not in server.fault["details"]
    actions = list(conn.compute.server_actions(server))
    assert [(a.action, a.message) for a in actions] == [("create", None)]
    events = conn.compute.get_server_action(actions[0].request_id, server).events
    # RescheduledException is answered with build_results.RESCHEDULED: the event ends Success.
    assert [(e["event"], e["result"], e["traceback"], e["host"]) for e in events] == [
        ("compute__do_build_and_run_instance", "Success", None, "compute01")]
    assert list(conn.network.ports(device_id=server.id)) == []        # Nova deallocated the port
    assert conn.compute.get_server(conn.compute.find_server("rocky-vm2").id).status == "ACTIVE"


def test_the_binding_failure_is_in_real_novas_and_neutrons_logs_on_the_nodes(lab, conn):
    server = conn.compute.find_server("rocky-vm1")
    lab._sync_server_log()          # the heartbeat's copy, now rather than within 5 s
    compute_log = ssh(lab, "compute01", "cat /var/log/kolla/nova/nova-compute.log")
    assert compute_log.returncode == 0, compute_log.stderr
    failed = [line for line in compute_log.stdout.splitlines()
              if f"[instance: {server.id}] Failed to build and run instance: nova.exception.PortBindingFailed" in line]
    assert len(failed) == 1
    port = failed[0].split("Binding failed for port ", 1)[1].split(",", 1)[0]
    assert f"Build of instance {server.id} was re-scheduled: Binding failed for port {port}" in compute_log.stdout
    controller = ssh(lab, "controller", "cat /var/log/kolla/neutron/neutron-server.log "
                                        "/var/log/kolla/nova/nova-conductor.log")
    assert f"Failed to bind port {port} on host compute01" in controller.stdout
    assert f"[instance: {server.id}] Error from last host: compute01 (node compute01)" in controller.stdout


def test_docker_on_the_node_reports_and_drives_the_real_nova_compute(lab, conn):
    process = lab.nova.processes()["nova-compute@compute01"]
    assert "nova_compute" in ssh(lab, "compute01", "docker ps --format '{{.Names}}'").stdout.split()
    os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + DEADLINE
    while "Exited (137)" not in (shown := ssh(lab, "compute01", "docker ps -a --filter name=nova_compute").stdout):
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    started = ssh(lab, "compute01", "docker start nova_compute")
    assert started.returncode == 0, started.stderr
    restarted = lab.nova.processes()["nova-compute@compute01"]
    assert restarted.pid != process.pid and restarted.poll() is None


def test_nova_compute_runs_in_its_node_and_reads_the_nova_conf_deployed_there(lab, conn):
    """Kolla's nova_compute runs on its node and reads the nova.conf deployed there: the real
    nova-compute is in compute01's mount and UTS namespaces (its sshd's), reads the node's
    /etc/kolla/nova-compute/nova.conf first and writes the node's nova-compute.log itself. A value an
    operator's deploy left in that file reaches real Placement after `docker restart nova_compute`
    (reserved_host_memory_mb, Nova's default 512), and the restored file brings the default back."""
    process = lab.nova.processes()["nova-compute@compute01"]
    sshd = lab._ssh.procs["compute01"].sshd
    for ns in ("mnt", "uts"):
        assert os.readlink(f"/proc/{process.pid}/ns/{ns}") == os.readlink(f"/proc/{sshd.pid}/ns/{ns}")
    assert os.readlink(f"/proc/{process.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    assert " compute --config-file /etc/kolla/nova-compute/nova.conf --config-file " in _cmdline(process.pid)
    node_log = ssh(lab, "compute01", "cat /var/log/kolla/nova/nova-compute.log").stdout
    assert "Starting compute node" in node_log                      # Nova's own line, no copy
    path = "/etc/kolla/nova-compute/nova.conf"
    node = lab.state.nodes["compute01"]
    deployed = node.read(path)
    assert deployed and "[DEFAULT]\n" in deployed
    [rp] = [r for r in _placement_json(conn, "/resource_providers", "1.39")["resource_providers"]
            if r["name"] == "compute01"]

    def reserved() -> int:
        return _placement_json(conn, f"/resource_providers/{rp['uuid']}/inventories",
                               "1.39")["inventories"]["MEMORY_MB"]["reserved"]

    assert reserved() == 512
    try:
        node.write(path, deployed.replace("[DEFAULT]\n", "[DEFAULT]\nreserved_host_memory_mb = 1024\n", 1))
        restarted = ssh(lab, "compute01", "docker restart nova_compute")
        assert restarted.returncode == 0, restarted.stderr
        _until("real Placement shows compute01's deployed reserved_host_memory_mb", lambda: reserved() == 1024)
    finally:
        node.write(path, deployed)
        ssh(lab, "compute01", "docker restart nova_compute")
        _until("real Placement shows Nova's default reserved_host_memory_mb again", lambda: reserved() == 512)
    _until("compute01's nova-compute is up", lambda: _compute01(conn).state == "up")


def test_max_retries_reads_real_novas_records_to_the_seed_finding(lab, conn):
    """The tree on real Nova: hosts from the (Success) build event, port and reason from the real
    nova-compute.log on compute01, the segment from real neutron-server.log (issue 13)."""
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    lab._sync_server_log()
    ctx = context(lab)
    try:
        report, _engine = run_diagnosis(ctx, ["max-retries"])
    finally:
        ctx.close()
    steps = [(s.step, s.outcome) for s in report.steps if s.tree == "max-retries"]
    assert steps[:3] == [("server-fault", "build-failed"), ("build-events", "port-binding-failed"),
                         ("port-segment", "provider")], (steps, report.problems)
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]
    [finding] = report.findings
    port = finding.facts["port"]["id"]
    assert finding.host == "compute01"
    assert any("nova-compute.log: ERROR nova.compute.manager" in e and f"Binding failed for port {port}" in e
               for e in finding.evidence)
    assert any(f"Failed to bind port {port} on host compute01" in e for e in finding.evidence)


def test_the_guest_console_comes_through_real_nova(lab, conn):
    server = conn.compute.find_server("rocky-vm2")
    expected = lab._guest_console("rocky-vm2")
    assert expected       # the seed's guest printed its boot (cloud-init) to the console
    assert conn.compute.get_server_console_output(server)["output"] == expected
    failed = conn.compute.find_server("rocky-vm1")          # ERROR, never on a host: Nova refuses
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.get_server_console_output(failed)


def test_parity_on_real_nova_the_seeds_findings_and_durable_fixes(lab):
    """Last (it applies the fixes to the module's lab): the seed's diagnosis of every tree, its
    durable fixes in order and the diagnosis after are the same on the embedded lab and on real Nova
    (test_parity.py walks every scenario on the lab's compute API; KOLLA_WIZARD_PARITY_COMPUTE=nova
    walks them on real Nova)."""
    from kolla_lab import Lab

    from .test_parity import _walk

    with Lab("seed-homelab") as embedded:
        embedded.start()
        expected = _walk(embedded, "seed-homelab")
    findings, applied, after, said = _walk(lab, "seed-homelab", expected[0])
    assert findings == expected[0], f"findings and remedies differ; real Nova's {said}"
    assert applied == expected[1], f"the applied fixes differ; real Nova's {said}"
    assert after == expected[2], f"the findings after the fixes differ; real Nova's {said}"


def test_no_valid_host_quotes_the_real_schedulers_words(lab, conn):
    """A disabled compute on real Nova: the no-valid-host tree quotes real nova-scheduler.log and
    names the disabled service (issue 18). Runs last: it disables compute01, then enables it."""
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    service = next(s for s in conn.compute.services() if s.binary == "nova-compute" and s.host == "compute01")
    conn.compute.disable_service(service, disabled_reason="kernel update")
    try:
        server = conn.compute.create_server(
            name="vm-nowhere", image_id=next(iter(conn.image.images())).id,
            flavor_id=conn.compute.find_flavor("m1.small").id,
            networks=[{"uuid": conn.network.find_network("demo-net").id}])
        server = conn.compute.wait_for_server(server, status="ERROR", failures=["ACTIVE"], wait=DEADLINE)
        assert "No valid host was found" in server.fault["message"]
        lab._sync_server_log()
        ctx = context(lab, "--server", "vm-nowhere")
        try:
            report, _engine = run_diagnosis(ctx, ["no-valid-host"])
        finally:
            ctx.close()
    finally:
        conn.compute.enable_service(service)
    steps = [(s.step, s.outcome) for s in report.steps]
    assert steps[0] == ("fault", "no-valid-host") and steps[-1] == ("compute-services", "disabled"), steps
    said = next(s for s in report.steps if s.step == "scheduler-log")
    assert said.outcome in ("no-candidates", "filtered"), (said.outcome, said.observations)
    assert any("nova-scheduler.log: INFO nova." in o for o in said.observations), said.observations
    assert [f.id for f in report.findings] == ["compute-service-disabled"]
    assert "kernel update" in report.findings[0].title


def _shape(value):
    """Keys and value types, recursively (a list by its first item, a provider UUID key as <uuid>):
    what the wizard and openstacksdk rely on."""
    if isinstance(value, dict):
        return {("<uuid>" if UUID_RE.match(str(k)) else k): _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _placement_json(conn, path: str, version: str):
    response = conn.placement.get(path, microversion=version)
    assert response.status_code == 200, (path, response.text)
    assert response.headers.get("openstack-api-version") in (None, f"placement {version}"), response.headers
    return response.json()


def test_placement_answers_as_the_labs_and_a_flavor_no_provider_fits_is_placement_no_room(lab, conn):
    """The lab's Placement (kolla_lab/placement_api.py) answers with real placement's JSON: version
    document, providers, inventories (Nova's defaults: reserved 512 MEMORY_MB, ratios 4.0/1.0/1.0,
    max_unit = total), usages, allocation candidates, at placement 1.39 and 1.10. Then a flavor whose
    disk is bigger than compute01's: real Nova ends the build 'No valid host', the scheduler's words
    are real nova-scheduler.log's, and the tree names compute01's provider and DISK_GB. Runs last:
    it deletes what it made."""
    from kolla_lab import Lab
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    wanted = "VCPU:1,MEMORY_MB:512,DISK_GB:1"
    with Lab("healthy") as embedded:
        embedded.start()
        from tests.trees.network_support import conn as lab_connection
        lab_conn = lab_connection(embedded)
        for version in ("1.39", "1.10"):
            ours, real = {}, {}
            for c, into in ((lab_conn, ours), (conn, real)):
                rp = _placement_json(c, "/resource_providers", version)["resource_providers"][0]
                into["root"] = _placement_json(c, "/", version)
                into["providers"] = _placement_json(c, "/resource_providers", version)
                into["inventories"] = _placement_json(c, f"/resource_providers/{rp['uuid']}/inventories", version)
                into["usages"] = _placement_json(c, f"/resource_providers/{rp['uuid']}/usages", version)
                into["candidates"] = _placement_json(c, f"/allocation_candidates?resources={wanted}", version)
                into["rp"] = rp["uuid"]
            assert ours["root"] == real["root"]
            assert _shape(ours["providers"]) == _shape(real["providers"]), version
            assert [link["rel"] for link in ours["providers"]["resource_providers"][0]["links"]] == \
                [link["rel"] for link in real["providers"]["resource_providers"][0]["links"]]
            assert _shape(ours["inventories"]) == _shape(real["inventories"]), version
            for rc, reserved, ratio in (("VCPU", 0, 4.0), ("MEMORY_MB", 512, 1.0), ("DISK_GB", 0, 1.0)):
                for got in (ours["inventories"]["inventories"][rc], real["inventories"]["inventories"][rc]):
                    assert (got["reserved"], got["allocation_ratio"], got["max_unit"]) == (reserved, ratio, got["total"])
            assert set(ours["usages"]) == set(real["usages"]) and set(ours["usages"]["usages"]) == \
                set(real["usages"]["usages"])
            assert set(ours["candidates"]) == set(real["candidates"]) == {"allocation_requests", "provider_summaries"}
            assert _shape(ours["candidates"]["allocation_requests"]) == \
                _shape(real["candidates"]["allocation_requests"]), version
            ours_summary = ours["candidates"]["provider_summaries"][ours["rp"]]
            real_summary = real["candidates"]["provider_summaries"][real["rp"]]
            assert set(ours_summary) == set(real_summary), version
            assert _shape(ours_summary["resources"]) == _shape(real_summary["resources"]), version

    flavor = conn.compute.create_flavor(name="m1.huge-disk", ram=512, vcpus=1, disk=10_000_000)
    server = None
    try:
        server = conn.compute.create_server(
            name="vm-too-big", image_id=next(iter(conn.image.images())).id, flavor_id=flavor.id,
            networks=[{"uuid": conn.network.find_network("demo-net").id}])
        server = conn.compute.wait_for_server(server, status="ERROR", failures=["ACTIVE"], wait=DEADLINE)
        assert server.fault["message"].startswith("No valid host was found."), server.fault
        lab._sync_server_log()
        ctx = context(lab, "--server", "vm-too-big")
        try:
            report, _engine = run_diagnosis(ctx, ["no-valid-host"])
        finally:
            ctx.close()
    finally:
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=DEADLINE)
        conn.compute.delete_flavor(flavor)
    steps = [(s.step, s.outcome) for s in report.steps]
    assert steps == [("fault", "no-valid-host"), ("scheduler-log", "no-candidates"),
                     ("compute-services", "usable"), ("placement", "no-room")], (steps, report.problems)
    said = next(s for s in report.steps if s.step == "scheduler-log")
    assert any("Got no allocation candidates from the Placement API" in o for o in said.observations)
    [finding] = report.findings
    assert (finding.id, finding.host) == ("placement-no-room", "compute01")
    assert finding.facts["placement"]["resource_class"] == "DISK_GB"
    assert finding.facts["placement"]["cause"] == "max-unit"
    assert [r.id for r in finding.remedies] == ["placement-flavor-that-fits"]


def test_availability_zone_on_real_nova_scopes_the_computes_and_an_empty_zone_is_a_400(lab, conn):
    """Real Nova: a zone whose aggregate has no enabled compute is refused at the API (400, never No
    valid host); compute01's service reports its zone (openstacksdk: availability_zone); a server
    that asked for zone nova and was never placed shows nova in OS-EXT-AZ:availability_zone; the
    tree then judges that zone's computes (compute01 forced down). Moving compute01 into another
    zone is refused by real Nova while it hosts rocky-vm2 (409), so the zone is nova here. Runs
    last; puts everything back."""
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    service = next(s for s in conn.compute.services() if s.binary == "nova-compute" and s.host == "compute01")
    assert service.availability_zone == "nova"
    aggregate = conn.compute.create_aggregate(name="az2-hosts", availability_zone="az2")
    server = None
    create = dict(image_id=next(iter(conn.image.images())).id, flavor_id=conn.compute.find_flavor("m1.small").id,
                  networks=[{"uuid": conn.network.find_network("demo-net").id}])
    try:
        with pytest.raises(openstack.exceptions.BadRequestException,
                           match="The requested availability zone is not available"):
            conn.compute.create_server(name="vm-az2", availability_zone="az2", **create)
        conn.compute.update_service_forced_down(service, forced=True)
        server = conn.compute.create_server(name="vm-zone-nova", availability_zone="nova", **create)
        server = conn.compute.wait_for_server(server, status="ERROR", failures=["ACTIVE"], wait=DEADLINE)
        assert server.fault["message"].startswith("No valid host was found."), server.fault
        assert server.availability_zone == "nova" and not server.compute_host
        row = next(s for s in conn.compute.services() if s.binary == "nova-compute" and s.host == "compute01")
        assert row.is_forced_down and row.state == "down", (row.is_forced_down, row.state)
        lab._sync_server_log()
        ctx = context(lab, "--server", "vm-zone-nova")
        try:
            report, _engine = run_diagnosis(ctx, ["no-valid-host"])
        finally:
            ctx.close()
    finally:
        conn.compute.update_service_forced_down(service, forced=False)
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=DEADLINE)
        conn.compute.delete_aggregate(aggregate)
    steps = [(s.step, s.outcome) for s in report.steps]
    assert steps[0] == ("fault", "no-valid-host") and steps[-1] == ("compute-services", "forced-down"), steps
    assert [(f.id, f.host) for f in report.findings] == [("compute-service-forced-down", "compute01")]
    services = next(s for s in report.steps if s.step == "compute-services").observations
    assert services[0] == "The server asked for availability zone nova: its computes are compute01."
    [finding] = report.findings
    assert (finding.id, finding.host) == ("compute-service-forced-down", "compute01")


def test_rabbitmqctl_list_queues_is_what_the_bus_step_parses(lab, conn):
    """The real broker's `rabbitmqctl list_queues name messages consumers` (RabbitMQ 3.10 here, the
    same table as Kolla's 4.1): the rpc_bus parser finds real Nova's queues: scheduler,
    scheduler.controller, conductor and compute.compute01, each with its consumer."""
    from wizard.probes.scheduling import parse_list_queues

    out = lab.openstack.rabbitmq.ctl("list_queues", "name", "messages", "consumers")
    assert out.returncode == 0, out.stderr
    assert "name\tmessages\tconsumers" in out.stdout.splitlines()
    queues = parse_list_queues(out.stdout)
    for name in ("scheduler", "scheduler.controller", "conductor", "compute.compute01"):
        assert name in queues and queues[name][1] >= 1, (name, sorted(queues))


def _queues(lab) -> dict[str, tuple[int, int]]:
    """The real broker's Nova queues: name -> (messages, consumers)."""
    from wizard.probes.scheduling import parse_list_queues

    out = lab.openstack.rabbitmq.ctl("list_queues", "name", "messages", "consumers")
    assert out.returncode == 0, out.stderr
    return parse_list_queues(out.stdout)


def _until(what: str, check, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while not (value := check()):
        assert time.monotonic() < end, f"not within {deadline:.0f} s: {what}"
        time.sleep(0.5)
    return value


def _no_valid_host_walk(lab, server: str | None = None):
    from tests.trees.network_support import context
    from wizard.diagnose import run_diagnosis

    if hasattr(lab, "_sync_server_log"):
        lab._sync_server_log()
    ctx = context(lab, *(("--server", server) if server else ()))
    try:
        report, _engine = run_diagnosis(ctx, ["no-valid-host"])
    finally:
        ctx.close()
    return report


def _embedded_walks(*scenarios: str) -> dict:
    """The no-valid-host walk of each embedded scenario, to hold real Nova's against."""
    from kolla_lab import Lab

    walks = {}
    for scenario in scenarios:
        with Lab(scenario) as embedded:
            embedded.start()
            walks[scenario] = _no_valid_host_walk(embedded)
    return walks


ANY_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MESSAGE_ID = re.compile(r"\b[0-9a-f]{32}\b")


def _said(report, server: str) -> list:
    """Each step's outcome and observations, the server's name, UUIDs and message IDs left out:
    what real Nova and the embedded lab must agree on."""
    def plain(text: str) -> str:
        return MESSAGE_ID.sub("<id>", ANY_UUID.sub("<uuid>", text.replace(server, "<server>")))
    return [(s.step, s.outcome, [plain(o) for o in s.observations]) for s in report.steps]


def _compute01(conn):
    return next(s for s in conn.compute.services() if s.binary == "nova-compute" and s.host == "compute01")


def _server_args(conn) -> dict:
    return dict(image_id=next(iter(conn.image.images())).id, flavor_id=conn.compute.find_flavor("m1.small").id,
                networks=[{"uuid": conn.network.find_network("demo-net").id}])


def test_a_killed_compute_a_stopped_scheduler_and_a_silent_heartbeat_on_real_nova(lab, conn):
    """One killed nova-compute, three causes as real Nova records them, each walked to its own
    finding (issue 18). (1) Killed, its heartbeat still younger than service_down_time: the
    scheduler picks compute01, the conductor's cast waits in compute.compute01 with no consumer
    (the real broker's list_queues, read by the tree through `docker exec rabbitmq rabbitmqctl`),
    the server stays BUILD: compute-not-consuming on compute01. (2) nova_scheduler stopped: the
    conductor's call times out (rpc_response_timeout, 60 s) and the fault is MessagingTimeout:
    scheduler-not-consuming. (3) Meanwhile service_down_time passed: compute01 is down (not forced),
    ComputeFilter removes it: compute-service-down on compute01. The two waits overlap. Then
    nova_compute is started again the lab's way (docker start) and builds what waited in its
    queue; everything made here is deleted. Each walk's steps and observations are the embedded
    scenario's (compute-not-consuming, scheduler-not-consuming, compute-down) but for names and IDs."""
    embedded = _embedded_walks("compute-not-consuming", "scheduler-not-consuming", "compute-down")
    compute = lab.nova.processes()["nova-compute@compute01"]
    assert _compute01(conn).state == "up"
    args = _server_args(conn)
    servers: list = []
    scheduler_stopped = False
    os.killpg(compute.pid, signal.SIGKILL)
    try:
        compute.wait(timeout=DEADLINE)
        lab._sync_processes()           # docker ps: nova_compute Exited (137), now rather than within 5 s
        stuck = conn.compute.create_server(name="vm-stuck", **args)
        servers.append(stuck)
        _until("the build waits in compute.compute01 with no consumer",
               lambda: _queues(lab).get("compute.compute01", (0, 1))[0] >= 1 and
               _queues(lab)["compute.compute01"][1] == 0)
        stuck = conn.compute.get_server(stuck.id)
        assert (stuck.status, stuck.task_state, stuck.compute_host, stuck.fault) == \
            ("BUILD", "scheduling", None, None), stuck
        report = _no_valid_host_walk(lab, "vm-stuck")
        assert [(s.step, s.outcome) for s in report.steps] == \
            [("fault", "stuck-build"), ("bus", "compute-not-consuming")], (report.steps, report.problems)
        assert [(f.id, f.host) for f in report.findings] == [("compute-not-consuming", "compute01")]
        bus = next(s for s in report.steps if s.step == "bus")
        assert any(o.startswith("RabbitMQ queue compute.compute01: 1 message(s) waiting, no consumer")
                   for o in bus.observations), bus.observations
        assert _said(report, "vm-stuck") == _said(embedded["compute-not-consuming"], "rocky-vm3")

        stopped = ssh(lab, "controller", "docker stop nova_scheduler")
        assert stopped.returncode == 0, stopped.stderr
        scheduler_stopped = True
        _until("nothing consumes the scheduler queue", lambda: _queues(lab).get("scheduler", (0, 1))[1] == 0)
        timed_out = conn.compute.create_server(name="vm-timeout", **args)
        servers.append(timed_out)
        timed_out = conn.compute.wait_for_server(timed_out, status="ERROR", failures=["ACTIVE"], wait=3 * DEADLINE)
        assert timed_out.fault["message"] == "MessagingTimeout", timed_out.fault
        assert "oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply to message ID" in \
            timed_out.fault["details"]
        report = _no_valid_host_walk(lab, "vm-timeout")
        assert [(s.step, s.outcome) for s in report.steps] == \
            [("fault", "messaging-timeout"), ("bus", "scheduler-not-consuming")], (report.steps, report.problems)
        [finding] = report.findings
        assert finding.id == "scheduler-not-consuming" and finding.host, (finding.id, finding.host)
        assert "Failed to schedule instances: oslo_messaging.exceptions.MessagingTimeout" in finding.facts["bus"]["said"]
        assert _said(report, "vm-timeout") == _said(embedded["scheduler-not-consuming"], "rocky-vm3")
        started = ssh(lab, "controller", "docker start nova_scheduler")
        assert started.returncode == 0, started.stderr
        scheduler_stopped = False
        _until("nova-scheduler consumes its queue again", lambda: _queues(lab).get("scheduler", (0, 0))[1] >= 1)

        row = _until("compute01's heartbeat is older than service_down_time",
                     lambda: (r := _compute01(conn)).state == "down" and r, 3 * DEADLINE)
        assert not row.is_forced_down and row.status == "enabled"
        down = conn.compute.create_server(name="vm-down", **args)
        servers.append(down)
        down = conn.compute.wait_for_server(down, status="ERROR", failures=["ACTIVE"], wait=DEADLINE)
        assert down.fault["message"].startswith("No valid host was found."), down.fault
        report = _no_valid_host_walk(lab, "vm-down")
        steps = [(s.step, s.outcome) for s in report.steps]
        assert steps == [("fault", "no-valid-host"), ("scheduler-log", "filtered"), ("compute-services", "down")], \
            (steps, report.problems)
        said = next(s for s in report.steps if s.step == "scheduler-log")
        assert any("nova-scheduler.log: INFO nova.filters" in o and "ComputeFilter" in o for o in said.observations), \
            said.observations
        assert [(f.id, f.host) for f in report.findings] == [("compute-service-down", "compute01")]
        assert _said(report, "vm-down") == _said(embedded["compute-down"], "rocky-vm3")

        restarted = ssh(lab, "compute01", "docker start nova_compute")
        assert restarted.returncode == 0, restarted.stderr
        # Restarted, nova-compute consumes its queue and builds what waited there. Its init_host first
        # puts a BUILDING instance with allocations on its node in ERROR, without a fault
        # (_error_out_instances_whose_build_was_interrupted); the queued build then takes it.
        built = _until("vm-stuck is ACTIVE", lambda: (b := conn.compute.get_server(servers[0].id)).status == "ACTIVE" and b)
        assert built.compute_host == "compute01"
        _until("compute01 is up again", lambda: _compute01(conn).state == "up")
    finally:
        if scheduler_stopped:
            ssh(lab, "controller", "docker start nova_scheduler")
        if not lab.nova.daemons["nova-compute@compute01"].alive():
            lab._sync_processes()
            ssh(lab, "compute01", "docker start nova_compute")
        for server in servers:
            conn.compute.delete_server(server, ignore_missing=True)
        for server in servers:
            conn.compute.wait_for_delete(server, wait=DEADLINE)


def _nova_manage(lab, *args: str) -> subprocess.CompletedProcess:
    from kolla_lab.real.venvs import venv

    return subprocess.run([str(venv("nova") / "bin/nova-manage"), "--config-file", str(lab.nova.workdir / "nova.conf"),
                           "cell_v2", *args], cwd=lab.nova.workdir, capture_output=True, text=True, timeout=120)


def test_a_compute_without_a_host_mapping_on_real_nova_is_compute_not_in_cell(lab, conn):
    """Real `nova-manage cell_v2 delete_host` removes compute01's host mapping (it refuses while the
    host has instances, so rocky-vm2 goes first, as in the embedded scenario compute-not-in-cell);
    the scheduler still picks compute01 and real nova-conductor buries the new server in cell0:
    its fault and log lines are the embedded lab's, and the tree reads them to compute-not-in-cell on
    compute01 (the embedded scenario's walk but for names and IDs). Then the finding's remedy, real `discover_hosts --by-service`, maps it again and
    rocky-vm2 is built there again (the seed's image, flavor, network and key)."""
    embedded = _embedded_walks("compute-not-in-cell")["compute-not-in-cell"]
    rows = [line.split("|") for line in _nova_manage(lab, "list_hosts").stdout.splitlines() if "compute01" in line]
    [[_, cell_name, cell_uuid, _host, _]] = rows
    assert cell_name.strip() == "cell1"
    vm2 = conn.compute.get_server(conn.compute.find_server("rocky-vm2").id)
    assert vm2.compute_host == "compute01"
    conn.compute.delete_server(vm2)
    conn.compute.wait_for_delete(vm2, wait=DEADLINE)
    deleted = _nova_manage(lab, "delete_host", "--cell_uuid", cell_uuid.strip(), "--host", "compute01")
    assert deleted.returncode == 0, (deleted.stdout, deleted.stderr)
    server = None
    try:
        assert "compute01" not in _nova_manage(lab, "list_hosts").stdout
        server = conn.compute.create_server(name="vm-unmapped", **_server_args(conn))
        server = conn.compute.wait_for_server(server, status="ERROR", failures=["ACTIVE"], wait=DEADLINE)
        lab._sync_server_log()
        conductor = ssh(lab, "controller", "cat /var/log/kolla/nova/nova-conductor.log").stdout
        report = _no_valid_host_walk(lab, "vm-unmapped")
    finally:
        # The finding's remedy, as nova-manage runs in the nova_conductor container.
        found = _nova_manage(lab, "discover_hosts", "--by-service")
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=DEADLINE)
    assert found.returncode == 0, (found.stdout, found.stderr)
    # nova/api/openstack/compute/views/servers.py: an empty details is left out (HostMappingNotFound
    # is an Invalid, code 400, with no traceback kept).
    assert {k: v for k, v in server.fault.items() if k != "created"} == \
        {"code": 400, "message": "Host 'compute01' is not mapped to any cell"}, server.fault
    unmapped = "Host 'compute01' is not mapped to any cell"
    for said in ("ERROR nova.conductor.manager", "No host-to-cell mapping found for selected host compute01. "
                 f"Setup is incomplete.: nova.exception.HostMappingNotFound: {unmapped}",
                 f"WARNING nova.scheduler.utils", f"Failed to compute_task_build_instances: {unmapped}",
                 f"[instance: {server.id}] Setting instance to ERROR state.: nova.exception.HostMappingNotFound"):
        assert said in conductor, said
    assert [(s.step, s.outcome) for s in report.steps] == [("fault", "not-in-cell")], (report.steps, report.problems)
    assert _said(report, "vm-unmapped") == _said(embedded, "rocky-vm3")
    [finding] = report.findings
    assert (finding.id, finding.host) == ("compute-not-in-cell", "compute01")
    assert finding.remedies[0].command.splitlines()[0].endswith(
        "docker exec nova_conductor nova-manage cell_v2 discover_hosts --by-service")
    assert "compute01" in _nova_manage(lab, "list_hosts").stdout
    vm2 = conn.compute.create_server(name="rocky-vm2", image_id=conn.image.find_image("rocky-9").id,
                                     flavor_id=conn.compute.find_flavor("m1.small").id, key_name="homelab-key",
                                     networks=[{"uuid": conn.network.find_network("demo-net").id}])
    vm2 = conn.compute.wait_for_server(vm2, status="ACTIVE", failures=["ERROR"], wait=DEADLINE)
    assert vm2.compute_host == "compute01"
