"""Issue 5's acceptance flow on seed-homelab, in one piece: diagnose all three symptoms, apply the
durable fixes in order (each verified by re-running its probe), re-diagnose and find nothing,
then build a new server that goes ACTIVE, gets a floating IP and answers on port 22."""
from __future__ import annotations

import time

import pytest

from tests.trees.fix_support import apply_in_order
from tests.trees.network_support import conn, context
from kolla_lab import Lab

ALL = ["max-retries", "fip-404", "ssh-refused"]
DURABLE_IN_ORDER = ["enable-provider-networks", "router-create", "sg-allow-ssh", "sg-allow-icmp"]

pytestmark = pytest.mark.timeout(300)


def test_durable_fixes_in_order_then_a_new_server_is_reachable():
    with Lab("seed-homelab") as lab:
        lab.start()
        run = apply_in_order(lab, ALL, DURABLE_IN_ORDER, "--operator-ip", "192.168.35.5")
        assert [f.id for f in run.before.findings] == [
            "bridge-mapping-missing", "no-router", "fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"]
        for result in run.applied:
            assert result.status == "verified", (result.remedy, result.message)
        # The old instance stays in ERROR until it is rebuilt; everything the trees check is fixed.
        assert [f.id for f in run.after.findings] == []

        # A new server on the flat provider network now binds on compute01 (the mapping exists).
        sdk = conn(lab)
        image = next(sdk.image.images())
        flavor = next(f for f in sdk.compute.flavors() if f.name == "m1.small")
        public = sdk.network.find_network("public1")
        tenant = sdk.network.find_network("demo-net")
        flat = sdk.compute.create_server(name="flat-vm", image_id=image.id, flavor_id=flavor.id,
                                         networks=[{"uuid": public.id}], key_name="homelab-key")
        # The durable SSH fix is a dedicated group (operator-access) rather than a wider default group,
        # so a new server joins it the way the remedy explains: --security-group operator-access.
        vm = sdk.compute.create_server(name="tenant-vm", image_id=image.id, flavor_id=flavor.id,
                                       networks=[{"uuid": tenant.id}], key_name="homelab-key",
                                       security_groups=[{"name": "default"}, {"name": "operator-access"}])
        for server in (flat, vm):
            deadline = time.monotonic() + 30
            while sdk.compute.get_server(server.id).status not in ("ACTIVE", "ERROR") and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sdk.compute.get_server(server.id).status == "ACTIVE", sdk.compute.get_server(server.id).fault

        # ...and a tenant server gets a floating IP through the new router and answers on port 22.
        port = next(sdk.network.ports(device_id=vm.id))
        fip = sdk.network.create_ip(floating_network_id=public.id, port_id=port.id)
        ctx = context(lab)
        try:
            nc = ctx.deploy.run(["nc", "-z", "-w", "3", fip.floating_ip_address, "22"], timeout=15)
        finally:
            ctx.close()
        assert nc.rc == 0, nc.stdout + nc.stderr
