"""When the ssh-refused keypair step reads Nova's key-pair record: only if SSH can get as far as
offering a key (pure reading of the facts the earlier steps left)."""
from __future__ import annotations


def test_ssh_path_blocked_reads_this_walks_facts():
    from wizard.probes.guest import ssh_path_blocked
    assert ssh_path_blocked({}) is None                                   # nothing checked: read the key pair
    assert "no address" in ssh_path_blocked({"address": None, "reach": {"ssh": True}})
    assert "did not answer" in ssh_path_blocked({"address": "192.0.2.7", "reach": {"ssh": False}})
    # port 22 answered: an older security-group verdict in the same context does not count
    assert ssh_path_blocked({"address": "192.0.2.7", "reach": {"ssh": True}, "sg_tcp22": {"allowed": False}}) is None
    assert "security groups" in ssh_path_blocked({"address": "192.0.2.7", "sg_tcp22": {"allowed": False}})
