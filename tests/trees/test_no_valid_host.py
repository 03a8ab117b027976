"""no-valid-host tree against the embedded lab (real HTTP and SSH): every scenario that expects it
reaches its own finding with the host it concerns, the scheduler's own line quoted from
nova-scheduler.log; max-retries hands a No valid host fault on to it; every printed openstack
command parses with python-openstackclient; the fix for a stopped nova-compute is proven."""
from __future__ import annotations

import pytest

from tests.remedies.osc_judge import openstack_commands, parse_openstack
from tests.trees.network_support import context, scenarios_expecting
from wizard.diagnose import run_diagnosis
from kolla_lab import Lab

TREE = "no-valid-host"


def run(lab, trees=(TREE,), *extra):
    ctx = context(lab, *extra)
    try:
        report, _engine = run_diagnosis(ctx, list(trees))
    finally:
        ctx.close()
    return report


def steps(report, tree=TREE):
    return [(s.step, s.outcome) for s in report.steps if s.tree == tree]


def test_scenarios_cover_each_cause():
    expected = dict(scenarios_expecting(TREE))
    assert {"compute-down", "compute-disabled", "compute-forced-down", "compute-not-in-cell",
            "placement-no-room", "az-compute-down", "scheduler-not-consuming", "compute-not-consuming"} <= set(expected)


@pytest.mark.parametrize("scenario,expected", [s for s in scenarios_expecting(TREE) if s[1]])
def test_every_scenario_reports_exactly_its_expected_findings(scenario, expected):
    with Lab(scenario) as lab:
        report = run(lab)
    assert [f.id for f in report.findings if f.tree == TREE] == expected, (steps(report), report.problems)
    [finding] = [f for f in report.findings if f.tree == TREE]
    assert finding.host == {"az-compute-down": "compute02", "scheduler-not-consuming": "controller"}.get(
        scenario, "compute01")
    for remedy in finding.remedies:
        for cmd in openstack_commands((remedy.command or "") + "\n" + remedy.explain):
            parse_openstack(cmd)


def test_disabled_compute_quotes_placement_and_enables():
    with Lab("compute-disabled") as lab:
        report = run(lab)
    assert steps(report) == [("fault", "no-valid-host"), ("scheduler-log", "no-candidates"),
                             ("compute-services", "disabled")]
    [finding] = report.findings
    assert "Got no allocation candidates from the Placement API" in finding.root_cause
    assert "kernel update" in finding.title
    assert finding.remedies[0].command == "openstack compute service set --enable compute01 nova-compute"


def test_down_compute_quotes_the_filter_and_the_fix_is_proven():
    from tests.trees.fix_support import apply_in_order

    with Lab("compute-down") as lab:
        run_ = apply_in_order(lab, [TREE], ["start-nova-compute"])
    before = run_.before
    assert steps(before) == [("fault", "no-valid-host"), ("scheduler-log", "filtered"), ("compute-services", "down")]
    [finding] = before.findings
    assert "Filtering removed all hosts for the request with instance ID" in finding.root_cause
    assert "['ComputeFilter: (start: 1, end: 0)']" in finding.root_cause
    [applied] = run_.applied
    assert applied.status == "verified", applied
    # The server already in ERROR stays: the re-walk finds services usable and Placement with room.
    assert steps(run_.after)[-2:] == [("compute-services", "usable"), ("placement", "room")]


def test_forced_down_is_its_own_finding():
    with Lab("compute-forced-down") as lab:
        report = run(lab)
    assert steps(report)[-1] == ("compute-services", "forced-down")
    assert report.findings[0].remedies[0].command == "openstack compute service set --up compute01 nova-compute"


def test_max_retries_hands_no_valid_host_on():
    with Lab("compute-disabled") as lab:
        report = run(lab, ("max-retries",))
    assert steps(report, "max-retries") == [("server-fault", "no-valid-host")]
    assert steps(report)[-1] == ("compute-services", "disabled")
    result = {t.tree: t for t in report.trees}
    assert result["max-retries"].result == "fault" and "explained in no-valid-host" in result["max-retries"].message


def test_no_error_server_ends_ok_and_max_retries_is_handed_on():
    with Lab("healthy") as lab:
        report = run(lab)
        assert steps(report) == [("fault", "no-error-server")]
    with Lab("seed-homelab") as lab:
        report = run(lab)
    assert steps(report) == [("fault", "max-retries")]
    assert [t.tree for t in report.trees] == [TREE, "max-retries"]
    assert [f.id for f in report.findings] == ["bridge-mapping-missing"]


def test_another_fault_ends_ok_pointing_elsewhere():
    with Lab("compute-disabled") as lab:
        server = next(s for s in lab.state.cloud.servers.values() if s["name"] == "rocky-vm3")
        server["fault"] = dict(server["fault"], message="Build of instance aborted: Volume 1 did not finish being created")
        report = run(lab)
    assert steps(report) == [("fault", "other-fault")]
    assert report.trees[0].result == "ok" and "Volume 1 did not finish" in report.trees[0].message


def test_scheduler_log_missing_is_not_logged_then_services():
    with Lab("compute-disabled") as lab:
        lab.state.nodes["controller"].files.pop("/var/log/kolla/nova/nova-scheduler.log")
        report = run(lab)
    assert steps(report)[1] == ("scheduler-log", "not-logged")
    assert steps(report)[-1] == ("compute-services", "disabled")


def test_no_nova_compute_registered_is_no_compute_service():
    """Nova lists no nova-compute at all (here: compute01's service deleted, `openstack compute service
    delete`, after rocky-vm3 found no host; also a compute role never deployed): the compute-services
    step's `none` branch, finding no-compute-service, with the scheduler's words from that build."""
    with Lab("compute-down") as lab:
        del lab.state.nodes["compute01"].containers["nova_compute"]    # no nova-compute row any more
        report = run(lab)
    assert steps(report) == [("fault", "no-valid-host"), ("scheduler-log", "filtered"), ("compute-services", "none")]
    [finding] = report.findings
    assert finding.id == "no-compute-service"
    assert "Nova lists no nova-compute service at all, so there is nowhere to schedule rocky-vm3" in finding.root_cause
    assert "['ComputeFilter: (start: 1, end: 0)']" in finding.root_cause
    assert "No nova-compute service is registered." in finding.evidence
    assert [r.id for r in finding.remedies] == ["check-scheduling"]


def test_usable_services_and_room_end_unexplained_with_placement_commands():
    with Lab("compute-disabled") as lab:
        lab.state.cloud.service_overrides["compute01"].pop("disabled_reason")
        report = run(lab)
    assert steps(report)[-2:] == [("compute-services", "usable"), ("placement", "room")]
    tree = next(t for t in report.trees if t.tree == TREE)
    assert tree.result == "unexplained"
    for cmd in tree.unexplained["commands"]:
        parse_openstack(cmd)


def test_unmapped_compute_is_not_in_cell_and_max_retries_hands_it_on():
    from tests.trees.network_support import conn

    with Lab("compute-not-in-cell") as lab:
        conductor_log = lab.state.nodes["controller"].read("/var/log/kolla/nova/nova-conductor.log")
        server = conn(lab).compute.find_server("rocky-vm3")
        report = run(lab, ("max-retries",))
    # As real Nova shows it (tests/real/test_real_nova.py): code 400, no details.
    assert {k: v for k, v in server.fault.items() if k != "created"} == \
        {"code": 400, "message": "Host 'compute01' is not mapped to any cell"}, server.fault
    assert "ERROR nova.conductor.manager" in conductor_log
    assert ("No host-to-cell mapping found for selected host compute01. Setup is incomplete.: "
            "nova.exception.HostMappingNotFound: Host 'compute01' is not mapped to any cell") in conductor_log
    assert steps(report, "max-retries") == [("server-fault", "no-valid-host")]
    assert steps(report) == [("fault", "not-in-cell")]
    [finding] = report.findings
    assert (finding.id, finding.host) == ("compute-not-in-cell", "compute01")
    assert finding.remedies[0].command.splitlines() == [
        "docker exec nova_conductor nova-manage cell_v2 discover_hosts --by-service",
        "docker exec nova_conductor nova-manage cell_v2 list_hosts"]


def test_placement_without_room_names_the_provider_the_class_and_the_fix_is_proven():
    """compute01's DISK_GB: (30 - 5 reserved) x 1.0 = 25, 20 allocated to rocky-vm2; m1.small asks 20.
    The lab's Placement answers through openstacksdk's placement proxy; the durable fix edits Kolla's
    nova.conf override, reconfigures nova, and the re-walk finds room."""
    from tests.trees.fix_support import apply_in_order

    with Lab("placement-no-room") as lab:
        run_ = apply_in_order(lab, [TREE], ["nova-placement-override"])
        rendered = lab.state.nodes["compute01"].read("/etc/kolla/nova-compute/nova.conf")
    before = run_.before
    assert steps(before) == [("fault", "no-valid-host"), ("scheduler-log", "no-candidates"),
                             ("compute-services", "usable"), ("placement", "no-room")]
    [finding] = before.findings
    assert (finding.id, finding.host) == ("placement-no-room", "compute01")
    assert "DISK_GB" in finding.title and "(30 total - 5 reserved) x 1.0 allocation ratio = 25" in finding.root_cause
    assert "20 already allocated, 5 free" in finding.root_cause
    durable, quick = finding.remedies
    assert (durable.id, durable.durable, quick.id, quick.durable) == (
        "nova-placement-override", True, "placement-flavor-that-fits", False)
    assert "+disk_allocation_ratio = 1.6" in durable.diff and durable.path == "/etc/kolla/config/nova.conf"
    assert quick.command == "openstack flavor create --vcpus 1 --ram 2048 --disk 5 m1.small-fit" and not quick.actions
    parse_openstack(quick.command)
    [applied] = run_.applied
    assert applied.status == "verified", applied
    assert "disk_allocation_ratio = 1.6" in rendered
    assert steps(run_.after)[-1] == ("placement", "room")


def test_placement_causes_reserved_above_novas_default_and_a_flavor_bigger_than_the_host():
    """A reserve above Nova's default that alone leaves too little is lowered back to 512; a flavor
    asking for more than the whole host (max_unit) gets no override, only a flavor that fits."""
    with Lab("placement-no-room") as lab:
        compute = lab.state.nodes["compute01"]
        conf = "[DEFAULT]\nreserved_host_memory_mb = 14336\n"
        lab.state.nodes["deploy"].write("/etc/kolla/config/nova.conf", conf)
        compute.write("/etc/kolla/nova-compute/nova.conf", conf)
        compute.resources = {"MEMORY_MB": 16384, "DISK_GB": 200}
        reserved = run(lab)
        compute.resources = {"MEMORY_MB": 1024, "DISK_GB": 200}
        compute.write("/etc/kolla/nova-compute/nova.conf", "[DEFAULT]\n")
        too_big = run(lab)
    [finding] = reserved.findings
    assert finding.facts["placement"]["resource_class"] == "MEMORY_MB"
    assert finding.facts["placement"]["cause"] == "reserved"
    assert "14336 MEMORY_MB reserved for the host leaves too little" in finding.root_cause
    assert "+reserved_host_memory_mb = 512" in finding.remedies[0].diff
    [finding] = too_big.findings
    assert finding.facts["placement"]["cause"] == "max-unit"
    assert [r.id for r in finding.remedies] == ["placement-flavor-that-fits"]
    assert finding.remedies[0].command == "openstack flavor create --vcpus 1 --ram 1024 --disk 20 m1.small-fit"


def test_kvm_without_hardware_virtualization_is_handed_to_max_retries_virt_type():
    """nova_compute_virt_type kvm on a compute without vmx/svm or /dev/kvm: Nova places the server and
    libvirt refuses the guest on each try, so the fault is MaxRetriesExceeded, not No valid host
    (nova 34 has no auto-disable after build failures: consecutive_build_service_disable_threshold
    only feeds the BuildFailureWeigher). This tree hands it to max-retries, whose virt-support step
    raises virt-type-unsupported with its globals.yml remedy (no second finding for it here)."""
    with Lab("kvm-nested") as lab:
        report = run(lab)
    assert steps(report) == [("fault", "max-retries")]
    assert steps(report, "max-retries")[-1] == ("virt-support", "kvm-unavailable")
    [finding] = report.findings
    assert (finding.tree, finding.id, finding.host) == ("max-retries", "virt-type-unsupported", "compute01")
    assert finding.remedies[0].id == "virt-type-qemu"


def test_the_zone_the_server_asked_for_is_where_the_computes_are_read():
    """rocky-vm3 asked for az2, whose only compute (compute02) is down; compute01 in zone nova is up
    and has room, which must not hide the cause (without the zone the walk ended usable -> room ->
    unexplained). An availability zone with no enabled compute is refused by the API (400), never
    No valid host (nova/compute/api.py _provision_instances)."""
    import openstack

    from tests.trees.network_support import conn

    with Lab("az-compute-down") as lab:
        report = run(lab)
        c = conn(lab)
        with pytest.raises(openstack.exceptions.BadRequestException,
                           match="The requested availability zone is not available"):
            c.compute.create_server(name="vm-x", image_id=next(iter(c.image.images())).id,
                                    flavor_id=c.compute.find_flavor("m1.small").id, availability_zone="az9",
                                    networks=[{"uuid": c.network.find_network("demo-net").id}])
        assert c.compute.get_server(c.compute.find_server("rocky-vm3").id).availability_zone == "az2"
    assert steps(report) == [("fault", "no-valid-host"), ("scheduler-log", "filtered"), ("compute-services", "down")]
    services = next(s for s in report.steps if s.step == "compute-services").observations
    assert services[0] == ("The server asked for availability zone az2: its computes are compute02; computes in "
                           "other zones do not count (compute01).")
    [finding] = report.findings
    assert (finding.id, finding.host) == ("compute-service-down", "compute02")
    assert "availability zone az2" in finding.root_cause


def test_image_and_flavor_constraints_are_refused_at_the_api_not_no_valid_host():
    """min_ram above the flavor's RAM, an image bigger than the flavor's disk: Nova's API answers 400
    (nova/compute/api.py _validate_flavor_image_nostatus), so no server reaches the scheduler and
    this tree has nothing to say about them."""
    import openstack

    from tests.trees.network_support import conn

    with Lab("healthy") as lab:
        image = next(iter(lab.state.cloud.images.values()))
        c = conn(lab)
        flavor = c.compute.find_flavor("m1.small")
        create = dict(name="vm-x", image_id=image["id"], flavor_id=flavor.id,
                      networks=[{"uuid": c.network.find_network("demo-net").id}])
        image["min_ram"] = 4096
        with pytest.raises(openstack.exceptions.BadRequestException,
                           match="Flavor's memory is too small for requested image."):
            c.compute.create_server(**create)
        image.update(min_ram=0, size=30 * 1024 ** 3)
        with pytest.raises(openstack.exceptions.BadRequestException,
                           match="Flavor's disk is too small for requested image. Flavor disk is 21474836480 bytes"):
            c.compute.create_server(**create)
        assert [s.name for s in c.compute.servers()] == ["rocky-vm2"]


def test_scheduler_not_consuming_its_queue_is_read_on_the_bus_and_the_restart_is_proven():
    """nova_scheduler exited: the conductor's select_destinations call times out (MessagingTimeout,
    the fault's message is the class name), nova-conductor.log says 'Failed to schedule instances',
    and rabbitmqctl list_queues in the rabbitmq container shows the 'scheduler' queue with a message
    and no consumer. Restarting the unit is proven: the queue has a consumer again."""
    from tests.trees.fix_support import apply_in_order

    with Lab("scheduler-not-consuming") as lab:
        run_ = apply_in_order(lab, [TREE], ["start-nova-scheduler"])
    before = run_.before
    assert steps(before) == [("fault", "messaging-timeout"), ("bus", "scheduler-not-consuming")]
    [finding] = before.findings
    assert (finding.id, finding.host) == ("scheduler-not-consuming", "controller")
    assert "Failed to schedule instances: oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply " \
           "to message ID" in finding.root_cause
    bus = next(s for s in before.steps if s.step == "bus").observations
    assert "RabbitMQ queue scheduler: 1 message(s) waiting, 0 consumer(s); scheduler.<host> without a consumer: " \
           "controller." in bus
    [applied] = run_.applied
    assert applied.status == "verified", applied
    assert steps(run_.after) == [("fault", "messaging-timeout"), ("bus", "consumed")]


def test_list_queues_is_parsed_as_rabbitmqctl_prints_it():
    from wizard.probes.scheduling import parse_list_queues

    text = ("Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages\tconsumers\n"
            "scheduler\t3\t0\nscheduler.controller\t0\t0\ncompute.compute01\t0\t1\n")
    assert parse_list_queues(text) == {"scheduler": (3, 0), "scheduler.controller": (0, 0), "compute.compute01": (0, 1)}


def test_a_build_cast_to_a_compute_nobody_consumes_stays_build_and_the_restart_builds_it():
    """The conductor's build_and_run_instance is a cast to compute.compute01: with no consumer the
    server stays BUILD (no host, no fault, the service still up). The tree reads the queue with
    rabbitmqctl list_queues; restarting nova_compute builds the waiting server (proven: the re-walk
    finds no server left to explain)."""
    from tests.trees.fix_support import apply_in_order

    with Lab("compute-not-consuming") as lab:
        run_ = apply_in_order(lab, [TREE], ["restart-nova-compute"])
        status = {s["name"]: s["status"] for s in lab.state.cloud.servers.values()}
    before = run_.before
    assert steps(before) == [("fault", "stuck-build"), ("bus", "compute-not-consuming")]
    [finding] = before.findings
    assert (finding.id, finding.host) == ("compute-not-consuming", "compute01")
    assert "compute.compute01 (1 message(s) waiting, 0 consumers)" in finding.root_cause.replace(
        "queue compute.compute01, but nothing consumes that queue (", "compute.compute01 (")
    [applied] = run_.applied
    assert applied.status == "verified", applied
    assert status == {"rocky-vm3": "ACTIVE"}
    assert steps(run_.after) == [("fault", "no-error-server")]
