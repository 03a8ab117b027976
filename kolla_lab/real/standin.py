#!/usr/bin/python3
"""The stand-in for the commands a real lab node has no real program for (docker/podman, systemctl,
kolla-ansible, ip, nc, ping, ssh-keyscan, hostname -I).

It is copied into each node's /usr/local/bin (bind-mounted inside the node's mount namespace) under
each of those names. It sends its name, its arguments and its uid to the lab over the unix socket
/run/kolla-lab/lab.sock (also bind-mounted: the lab knows the node by the socket), then either
prints the lab's answer with its exit status, or, when the lab answers "exec", replaces itself with
the real program (``docker exec openvswitch_vswitchd ovs-vsctl show`` runs the real ovs-vsctl
against the node's real ovsdb-server).

Standard library only, run by the system's /usr/bin/python3: an SSH session does not inherit the
lab's environment, so nothing here may depend on the lab's virtual environment."""
import json
import os
import socket
import sys

SOCKET = "/run/kolla-lab/lab.sock"


def main() -> int:
    name = os.path.basename(sys.argv[0])
    request = json.dumps({"argv": [name] + sys.argv[1:], "uid": os.getuid()}).encode() + b"\n"
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(SOCKET)
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        conn.close()
        answer = json.loads(b"".join(chunks) or b"{}")
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{name}: the lab did not answer ({exc})\n")
        return 125
    if answer.get("exec"):
        argv = [str(a) for a in answer["exec"]]
        os.execv(argv[0], argv)
    sys.stdout.buffer.write(str(answer.get("out", "")).encode())
    sys.stdout.flush()
    sys.stderr.buffer.write(str(answer.get("err", "")).encode())
    sys.stderr.flush()
    return int(answer.get("rc", 1))


if __name__ == "__main__":
    sys.exit(main())
