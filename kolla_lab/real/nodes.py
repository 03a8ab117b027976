"""The real lab's nodes: each a real OpenSSH ``sshd`` on 127.0.0.1 in its own mount and UTS
namespace, with a real ``ovsdb-server`` holding its bridges (docs/real-tier.md, "Nodes").

Inside a node's namespace (``unshare --mount --uts --propagation private``):
  hostname        the node's hostname (UTS namespace)
  /etc            an overlay over the host's /etc (the host's is never touched); its upper dir holds
                  the login user (passwd/group/shadow), the hostname in /etc/hosts, os-release
  /etc/kolla      bind mount of <node>/etc-kolla     (owned by the login user, as Kolla's bootstrap leaves it)
  /etc/sudoers.d  bind mount of <node>/sudoers.d     (NOPASSWD for the login user; real sudo)
  /var/log        bind mount of <node>/var-log       (/var/log/kolla/...)
  /home           bind mount of <node>/home          (the login user's home and authorized_keys)
  /usr/local/bin  bind mount of <node>/bin           (the stand-ins, standin.py, for what has no real program)
  /run            bind mount of <node>/run           (sshd's privsep dir, openvswitch/db.sock, kolla-lab/lab.sock)

The lab keeps its node model (kolla_lab.nodes.Node): ``DiskNode`` reads and writes the bind-mounted
trees on disk and its ``ovs`` is an adapter over the node's real ovsdb (``ovs-vsctl --db=unix:...``),
so LabState, reconfigure.py, shell.py and the agent boot keep working unchanged and land in the real
files and the real OVS. Nothing here dials anything but 127.0.0.1 and unix sockets."""
from __future__ import annotations

import ctypes
import json
import os
import posixpath
import pwd
import queue
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

from ..lab import _new_key
from ..nodes import OVS_AGENT, OVS_INI, Node
from ..shell import run_argv
from .ports import free_port as _free_port
from .venvs import RealTierUnavailable

SSHD = "/usr/sbin/sshd"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
OVSDB_SERVER = shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"
OVSDB_TOOL = shutil.which("ovsdb-tool") or "/usr/bin/ovsdb-tool"
OVS_VSCTL = shutil.which("ovs-vsctl") or "/usr/bin/ovs-vsctl"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
STANDIN = Path(__file__).with_name("standin.py")
LOGIN_UID = 42400                    # first uid tried for the login user (Kolla's images use 42xxx)
READY_TIMEOUT = 10.0

# Node path -> directory under the node's dir, bind-mounted there inside the namespace.
TREES = {"/etc/kolla": "etc-kolla", "/var/log": "var-log", "/home": "home"}
# A container's copy of a host file, as kolla_start copies it at every start (config.json).
CONTAINER_COPIES = {OVS_INI: "/etc/neutron/plugins/ml2/openvswitch_agent.ini"}
OVS_CONTAINERS = ("openvswitch_vswitchd", "openvswitch_db", OVS_AGENT)
HOST_IP_FLAGS = ("-I", "--all-ip-addresses", "-i", "--ip-address")
FILE_TOOLS = {name: shutil.which(name) or f"/usr/bin/{name}"
              for name in ("cat", "ls", "test", "grep", "tail", "stat", "head")}


def _chown(path: Path, uid: int, gid: int) -> None:
    try:
        os.chown(path, uid, gid, follow_symlinks=False)
    except OSError:
        pass


# --- Open vSwitch -----------------------------------------------------------------------------

def _interface_settings(port: str) -> list[str]:
    """What the real agent / l3 agent set on the ports the lab model names (type, patch peer)."""
    peer = None
    if port.startswith("int-"):
        peer = "phy-" + port[4:]
    elif port.startswith("phy-"):
        peer = "int-" + port[4:]
    elif port == "patch-tun":
        peer = "patch-int"
    elif port == "patch-int":
        peer = "patch-tun"
    if peer:
        return ["--", "set", "Interface", port, "type=patch", f"options:peer={peer}"]
    if port.startswith(("qr-", "qg-", "tap")):
        return ["--", "set", "Interface", port, "type=internal"]
    return []


class OvsDB:
    """``node.ovs`` over a real ovsdb-server: bridge -> port list, as the lab's node model expects.
    Every write is ``--no-wait``: no ovs-vswitchd runs, so a waiting write would block forever."""

    def __init__(self, socket_path: Path):
        self.db = f"unix:{socket_path}"

    def vsctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([OVS_VSCTL, f"--db={self.db}", "--no-wait", "--timeout=10", *args],
                              capture_output=True, text=True, timeout=20)

    def _checked(self, *args: str) -> str:
        done = self.vsctl(*args)
        if done.returncode != 0:
            raise RuntimeError(f"real lab: ovs-vsctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def bridges(self) -> list[str]:
        done = self.vsctl("list-br")
        return done.stdout.split() if done.returncode == 0 else []

    def ports(self, bridge: str) -> list[str]:
        done = self.vsctl("list-ports", bridge)
        return done.stdout.split() if done.returncode == 0 else []

    def __contains__(self, bridge: object) -> bool:
        return isinstance(bridge, str) and self.vsctl("br-exists", bridge).returncode == 0

    def __iter__(self):
        return iter(self.bridges())

    def __len__(self) -> int:
        return len(self.bridges())

    def keys(self) -> list[str]:
        return self.bridges()

    def values(self) -> list["PortList"]:
        return [PortList(self, b) for b in self.bridges()]

    def items(self) -> list[tuple[str, "PortList"]]:
        return [(b, PortList(self, b)) for b in self.bridges()]

    def __getitem__(self, bridge: str) -> "PortList":
        if bridge not in self:
            raise KeyError(bridge)
        return PortList(self, bridge)

    def get(self, bridge: str, default=None):
        return PortList(self, bridge) if bridge in self else default

    def __setitem__(self, bridge: str, ports) -> None:
        wanted = [str(p) for p in ports]
        self._checked("--may-exist", "add-br", bridge)
        have = self.ports(bridge)
        for port in have:
            if port not in wanted:
                self._checked("del-port", bridge, port)
        for port in wanted:
            if port not in have:
                PortList(self, bridge).append(port)

    def setdefault(self, bridge: str, default=None) -> "PortList":
        if bridge not in self:
            self[bridge] = list(default or [])
        return PortList(self, bridge)

    def pop(self, bridge: str, *default):
        if bridge not in self:
            if default:
                return default[0]
            raise KeyError(bridge)
        ports = self.ports(bridge)
        self._checked("del-br", bridge)
        return ports

    def __delitem__(self, bridge: str) -> None:
        self.pop(bridge)

    def load(self, hostname: str, bridges: dict[str, list[str]]) -> None:
        """A new database: the Open_vSwitch row (as Kolla's openvswitch_db leaves it) and the bridges."""
        args = ["init", "--", "set", "Open_vSwitch", ".", f"ovs_version={_ovs_version()}",
                f"external_ids:hostname={hostname}", "--", "set-manager", "ptcp:6640:127.0.0.1"]
        for bridge, ports in bridges.items():
            args += ["--", "add-br", bridge]
            for port in ports:
                args += ["--", "add-port", bridge, port] + _interface_settings(port)
        self._checked(*args)


_VERSION: list[str] = []


def _ovs_version() -> str:
    if not _VERSION:
        words = subprocess.run([OVS_VSCTL, "--version"], capture_output=True, text=True).stdout.split()
        _VERSION.append(words[3] if len(words) > 3 else "3.1.0")
    return _VERSION[0]


class PortList:
    """One bridge's ports (the bridge's own internal port excluded, as in ``list-ports``)."""

    def __init__(self, db: OvsDB, bridge: str):
        self.db, self.bridge = db, bridge

    def _ports(self) -> list[str]:
        return self.db.ports(self.bridge)

    def __iter__(self):
        return iter(self._ports())

    def __len__(self) -> int:
        return len(self._ports())

    def __contains__(self, port: object) -> bool:
        return port in self._ports()

    def __getitem__(self, index):
        return self._ports()[index]

    def __eq__(self, other) -> bool:
        return sorted(self._ports()) == sorted(other) if isinstance(other, (list, PortList)) else NotImplemented

    def __repr__(self) -> str:
        return f"PortList({self.bridge!r}, {self._ports()!r})"

    def append(self, port: str) -> None:
        self.db._checked("add-port", self.bridge, port, *_interface_settings(port))

    def extend(self, ports) -> None:
        for port in ports:
            self.append(port)

    def remove(self, port: str) -> None:
        if port not in self:
            raise ValueError(f"{port} is not a port of {self.bridge}")
        self.db._checked("del-port", self.bridge, port)


# --- the node model on disk -------------------------------------------------------------------

class DiskNode(Node):
    """A lab Node whose /etc/kolla, /var/log and /home are the real node's bind-mounted trees and
    whose ``ovs`` is the real ovsdb. Other paths (/etc/hostname, /etc/os-release) stay in memory
    (and are written once into the /etc overlay); containers stay the lab's model."""

    trees: dict[str, Path]
    owners: dict[str, tuple[int, int]]
    container_root: Path

    @classmethod
    def adopt(cls, node: Node, trees: dict[str, Path], owners: dict[str, tuple[int, int]],
              container_root: Path, ovs: OvsDB) -> "DiskNode":
        """Turn an embedded Node into a DiskNode in place (every reference to it stays valid):
        its files under the trees move to disk, its bridges into the ovsdb (already loaded)."""
        moved = {p: t for p, t in node.files.items() if _under(p, trees)}
        node.trees, node.owners, node.container_root = trees, owners, container_root
        node.ovs = ovs
        node.__class__ = cls
        for path, text in moved.items():
            node.write(path, text)
        for path in moved:
            node.files.pop(path, None)
        node.dirs = {d for d in node.dirs if not any(d.startswith(m + "/") for m in trees)}
        for mount in trees:
            Node.mkdir(node, mount)
        for cname in node.containers:
            node.write_container_copies(cname)
        return node

    # -- files --------------------------------------------------------------------------------
    def _disk(self, path: str) -> tuple[Path, str] | None:
        path = posixpath.normpath(path)
        for mount, local in self.trees.items():
            if path == mount or path.startswith(mount + "/"):
                return local / path[len(mount):].lstrip("/"), mount
        return None

    def _inside(self, target: Path, mount: str) -> bool:
        # A session may leave a symlink in its trees: never follow one out to the host's files.
        try:
            target.resolve().relative_to(self.trees[mount].resolve())
            return True
        except (ValueError, OSError):
            return False

    def _make_dirs(self, directory: Path, mount: str) -> None:
        if not self._inside(directory, mount):
            raise PermissionError(f"real lab: {directory} leads out of the node's {mount}")
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for d in reversed(missing):
            d.mkdir(exist_ok=True)
            _chown(d, *self.owners[mount])

    def write(self, path: str, text: str) -> None:
        hit = self._disk(path)
        if hit is None:
            return super().write(path, text)
        target, mount = hit
        self._make_dirs(target.parent, mount)
        mode = target.stat().st_mode & 0o7777 if target.is_file() else (0o640 if "passwords" in path else 0o644)
        temp = target.with_name(f".{target.name}.lab-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        _chown(temp, *self.owners[mount])
        os.replace(temp, target)                 # replaces a symlink itself, never its target

    def read(self, path: str) -> str | None:
        hit = self._disk(path)
        if hit is None:
            return super().read(path)
        target, mount = hit
        if not self._inside(target, mount):
            return None
        try:
            return target.read_text(errors="replace")
        except OSError:
            return None

    def append_log(self, path: str, line: str) -> None:
        hit = self._disk(path)
        if hit is None:
            return super().append_log(path, line)
        target, mount = hit
        self._make_dirs(target.parent, mount)
        new = not target.exists()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line.rstrip("\n") + "\n")
        if new:
            _chown(target, *self.owners[mount])

    def is_dir(self, path: str) -> bool:
        hit = self._disk(path)
        if hit is None:
            return super().is_dir(path)
        return hit[0].is_dir() and self._inside(hit[0], hit[1])

    def listdir(self, path: str) -> list[str] | None:
        hit = self._disk(path)
        if hit is None:
            return super().listdir(path)
        target, mount = hit
        if not target.is_dir() or not self._inside(target, mount):
            return None
        return sorted(os.listdir(target))

    def mkdir(self, path: str) -> None:
        hit = self._disk(path)
        if hit is None:
            return super().mkdir(path)
        self._make_dirs(hit[0], hit[1])

    # -- containers ---------------------------------------------------------------------------
    def write_container_copies(self, cname: str) -> None:
        """The files a container loaded at its last start, as real files (``docker exec X cat``
        runs the real cat on them): <node>/run/kolla-lab/containers/<name>/<path in container>."""
        container = self.containers.get(cname)
        if container is None:
            return
        for host_path, inside in CONTAINER_COPIES.items():
            if host_path in container.loaded:
                target = self.container_root / cname / inside.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(container.loaded[host_path])
                os.chmod(target, 0o644)

    def container_path(self, cname: str, path: str) -> str:
        """The path a ``docker exec CNAME cat PATH`` reads: the container's copy where it has one."""
        copy = self.container_root / cname / posixpath.normpath(path).lstrip("/")
        if path.startswith("/") and copy.is_file():
            return "/run/kolla-lab/containers/" + cname + posixpath.normpath(path)
        return path

    def _ovs_agent_boot(self, c) -> None:
        self.write_container_copies(c.name)
        if getattr(self, "real_ovs_agent", False):
            return              # the real agent boots (ovs_agents.py): its log, its ports, its exit
        super()._ovs_agent_boot(c)
        if c.status == "running":
            self._agent_patch_ports()

    def _agent_patch_ports(self) -> None:
        """What the real agent also leaves in OVS: the br-int <-> br-tun patch pair."""
        for bridge, port in (("br-int", "patch-tun"), ("br-tun", "patch-int")):
            ports = self.ovs.setdefault(bridge, [])
            if port not in ports:
                ports.append(port)


def _under(path: str, trees) -> bool:
    path = posixpath.normpath(path)
    return any(path == m or path.startswith(m + "/") for m in trees)


# --- what the stand-ins get back ----------------------------------------------------------------

def answer(state, node: DiskNode, argv: list[str]) -> dict:
    """The lab's answer to a stand-in: {"exec": argv} to run a real program in the session, or
    {"out", "err", "rc"} computed by the lab's command set (shell.py) where nothing real exists."""
    name = argv[0]
    if name == "hostname" and not any(a in HOST_IP_FLAGS for a in argv[1:]):
        return {"exec": ["/usr/bin/hostname", *argv[1:]]}
    before = getattr(state, "before_standin", None)
    if before is not None:          # the real lab mirrors real Neutron into the model first (hooks.py)
        before(node, list(argv))
    real_program = getattr(state, "real_container_program", None)
    if real_program is not None and name == node.engine and len(argv) > 2 and argv[1] == "exec":
        reply = real_program(node, container_argv(argv[2:]))     # outside the lock: it may take seconds
        if reply is not None:
            return reply
    with state.cloud.lock:
        if name == node.engine and len(argv) > 2 and argv[1] == "exec":
            real = _exec_in_container(node, argv[2:])
            if real:
                return {"exec": real}
        out, err, rc = run_argv(state, node, list(argv))
    return {"out": out, "err": err, "rc": rc}


def container_argv(args: list[str]) -> list[str]:
    """``docker exec [opts] CONTAINER CMD...`` without its options: [CONTAINER, CMD...]."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        opt = rest.pop(0)
        if opt in ("-u", "--user", "-w", "--workdir", "-e", "--env") and rest:
            rest.pop(0)
    return rest


def _exec_in_container(node: DiskNode, args: list[str]) -> list[str] | None:
    """``docker exec [opts] CONTAINER CMD...`` on a running container whose CMD has a real program
    here: that program's argv; otherwise None (the lab's answer, with docker's own error texts)."""
    rest = container_argv(args)
    if len(rest) < 2:
        return None
    cname, inner = rest[0], rest[1:]
    container = node.containers.get(cname)
    if container is None or container.status != "running":
        return None
    program = inner[0]
    if program == "ovs-vsctl":
        if cname not in OVS_CONTAINERS or not node.ovs_running():
            return None
        # No ovs-vswitchd runs beside the lab's ovsdb-server: a write that waits for the switch to
        # apply it would hang forever, so every ovs-vsctl runs --no-wait (reads are unaffected).
        options = [] if "--no-wait" in inner else ["--no-wait"]
        return [OVS_VSCTL, *options, *inner[1:]]
    if program in FILE_TOOLS:
        return [FILE_TOOLS[program], *[node.container_path(cname, a) for a in inner[1:]]]
    if program == "hostname" and not any(a in HOST_IP_FLAGS for a in inner[1:]):
        return ["/usr/bin/hostname", *inner[1:]]
    return None


class _StandinHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: _StandinServer = self.server           # type: ignore[assignment]
        try:
            request = json.loads(self.rfile.readline() or b"{}")
            argv = [str(a) for a in request.get("argv") or []]
            reply = answer(server.state, server.node, argv) if argv else {"out": "", "err": "", "rc": 0}
        except Exception as exc:  # noqa: BLE001 - one bad command must not take the node down
            reply = {"out": "", "err": f"lab: internal error: {exc}\n", "rc": 1}
        self.wfile.write(json.dumps(reply).encode())


class _StandinServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, state, node):
        self.state, self.node = state, node
        super().__init__(str(path), _StandinHandler)


# --- the fleet ----------------------------------------------------------------------------------

class _Proc:
    def __init__(self, name: str, root: Path):
        self.name, self.root = name, root
        self.sshd: subprocess.Popen | None = None
        self.ovsdb: subprocess.Popen | None = None
        self.server: _StandinServer | None = None
        self.mnt_ns: int | None = None
        self.port = 0
        self.host_public = ""


_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_the_lab() -> None:                 # runs in the child, between fork and exec
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Spawner:
    """Starts the nodes' daemons from one thread that lives as long as the fleet, each with
    PR_SET_PDEATHSIG=SIGKILL: if the lab's process dies without stop() (SIGKILL, os._exit on a
    test timeout), the kernel kills sshd and ovsdb-server with it. The signal follows the thread
    that forked, hence this thread and not the short-lived start threads."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, daemon=True, name="real-node-spawner").start()

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        done: queue.Queue = queue.Queue(maxsize=1)
        self._jobs.put((argv, kwargs, done))
        result = done.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            argv, kwargs, done = job
            try:
                done.put(subprocess.Popen(argv, preexec_fn=_die_with_the_lab, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                done.put(exc)

    def close(self) -> None:
        self._jobs.put(None)


def _sshd_listening(proc: "_Proc") -> bool:
    """Our sshd, not just anything, listens on the node's port: it is alive and logged it bound
    there (OpenSSH's server_listen: "Server listening on <addr> port <port>."). A connect check
    alone passed when another node's sshd held the port and ours had died of "Address already in
    use": the wizard then met the other node's host key (HOST KEY CHANGED for compute01, CI on
    614bcae, parity config-not-deployed)."""
    if proc.sshd is None or proc.sshd.poll() is not None:
        return False
    try:
        said = (proc.root / "sshd.log").read_text(errors="replace")
    except OSError:
        return False
    return f"Server listening on 127.0.0.1 port {proc.port}." in said and _listening(proc.port)


def _tail(*logs: Path) -> str:
    text = ""
    for log in logs:
        try:
            text += log.read_text(errors="replace")
        except OSError:
            pass
    return " | ".join(text.strip().splitlines()[-4:])


def _wait(predicate, what: str, proc: subprocess.Popen | None, *logs: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"real lab: {what} exited ({proc.returncode}): {_tail(*logs)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"real lab: {what} not ready after {READY_TIMEOUT:g} s")
        time.sleep(0.005)


def _unix_listening(path: Path) -> bool:
    """A server accepts on the unix socket: its file exists from bind() on, but a connect before
    listen() is refused (CI on d40aeb1: ovs-vsctl "database connection failed (Connection refused)"
    right after ovsdb-server's db.sock appeared)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def check_host() -> None:
    """One line naming what is missing when this machine cannot run real nodes."""
    if os.geteuid() != 0:
        raise RealTierUnavailable("real lab nodes need root (mount namespaces); "
                                  "run as root or use RealLab(..., nodes='embedded')")
    for path in (SSHD, UNSHARE, OVSDB_SERVER, OVSDB_TOOL, OVS_VSCTL, OVS_SCHEMA, "/usr/bin/sudo"):
        if not os.path.exists(path):
            raise RealTierUnavailable(f"real lab nodes need {path}; install it with: bash .ci/real-tier-deps")


class RealNodeFleet:
    """The nodes of a LabState as real sshds + ovsdb-servers, with SSHFleet's small interface
    (start(), stop(), ports, host_public(name)) so Lab's client configuration points at them."""

    def __init__(self, state, client_public: str, workdir: Path, faults=None):
        self.state = state
        self.client_public = client_public.strip()
        self.workdir = Path(workdir)
        self.faults = faults
        self.ports: dict[str, int] = {}
        self.procs: dict[str, _Proc] = {}
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()
        self._spawner: _Spawner | None = None
        self._stopped = False

    def host_public(self, name: str) -> str:
        return self.procs[name].host_public

    # -- start --------------------------------------------------------------------------------
    def start(self) -> None:
        check_host()
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self._uid = self._login_uid()
        self._spawner = _Spawner()
        errors: list[BaseException] = []

        def one(name: str) -> None:
            try:
                began = time.monotonic()
                self._start_node(name)
                self.timings[name] = time.monotonic() - began
            except BaseException as exc:  # noqa: BLE001 - reported below, for the first failing node
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(n,), name=f"real-node-{n}") for n in self.state.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.stop()
            raise errors[0]
        if self.faults is not None:
            self.faults.on_change(self.apply_faults)

    def _login_uid(self) -> int:
        used = {p.pw_uid for p in pwd.getpwall()}
        uid = LOGIN_UID
        while uid in used:
            uid += 1
        return uid

    def _start_node(self, name: str) -> None:
        node: Node = self.state.nodes[name]
        root = self.workdir / name
        proc = _Proc(name, root)
        with self._lock:
            self.procs[name] = proc
        user = node.ssh_user
        uid, gid = (0, 0) if user == "root" else (self._uid, self._uid)
        home = "/root" if user == "root" else f"/home/{user}"
        for sub in ("etc-upper", "etc-work", "etc-kolla", "var-log", "home", "bin", "sudoers.d",
                    "run/sshd", "run/openvswitch", "run/kolla-lab/containers", "ovs"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("", "run", "run/sshd", "run/kolla-lab", "run/openvswitch", "home", "bin", "var-log"):
            os.chmod(root / sub, 0o755)
        os.chmod(root / "sudoers.d", 0o755)
        self._write_etc(node, root / "etc-upper", user, uid, gid, home)
        os.chmod(root / "etc-upper", 0o755)
        (root / "etc-upper" / "kolla").mkdir(exist_ok=True)        # the mount point, in the overlay
        _chown(root / "etc-kolla", uid, gid)
        self._write_sudoers(name, user)
        # home and key (root's home is the host's /root, never touched: its key goes under /home)
        ssh_dir = root / "home" / (user if user != "root" else ".root") / ".ssh"
        ssh_dir.mkdir(parents=True, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(self.client_public + "\n")
        os.chmod(ssh_dir, 0o700)
        os.chmod(ssh_dir / "authorized_keys", 0o600)
        for d in (ssh_dir.parent, ssh_dir, ssh_dir / "authorized_keys"):
            _chown(d, uid, gid)
        private, public = _new_key()
        key = root / "host_ed25519"
        key.write_text(private)
        os.chmod(key, 0o600)
        proc.host_public = " ".join(public.split()[:2])
        # Open vSwitch: the node's own database, served on <node>/run/openvswitch/db.sock, which is
        # /run/openvswitch/db.sock (ovs-vsctl's default) inside the namespace.
        db_sock = root / "run/openvswitch/db.sock"
        subprocess.run([OVSDB_TOOL, "create", str(root / "ovs/conf.db"), OVS_SCHEMA], check=True,
                       capture_output=True)
        proc.ovsdb = self._spawner.popen(
            [OVSDB_SERVER, str(root / "ovs/conf.db"), f"--remote=punix:{db_sock}",
             f"--unixctl={root / 'ovs/ovsdb-server.ctl'}", f"--log-file={root / 'ovs/ovsdb-server.log'}",
             "--verbose=off"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        # The stand-ins' socket, answered by the lab for this node.
        server = _StandinServer(root / "run/kolla-lab/lab.sock", self.state, node)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                         name=f"real-node-standin-{name}").start()
        proc.server = server                  # stop() may shut it down only once it serves
        os.chmod(root / "run/kolla-lab/lab.sock", 0o666)
        self._install_standins(node, root / "bin")
        _wait(lambda: _unix_listening(db_sock), f"{name}: ovsdb-server", proc.ovsdb, root / "ovs/ovsdb-server.log")
        # ``docker exec`` runs as root inside the container whoever calls it (the login user is in
        # the docker group on a Kolla host): the exec'd ovs-vsctl runs as the login user here.
        os.chmod(db_sock, 0o666)
        ovs = OvsDB(db_sock)
        bridges = {b: list(p) for b, p in node.ovs.items()}
        if node.agent_alive():                  # booted before the move: its br-int/br-tun patch pair
            bridges.setdefault("br-int", []).append("patch-tun")
            bridges.setdefault("br-tun", []).append("patch-int")
        ovs.load(node.hostname, bridges)
        trees = {mount: root / local for mount, local in TREES.items()}
        owners = {"/etc/kolla": (uid, gid), "/var/log": (0, 0), "/home": (uid, gid)}
        with self.state.cloud.lock:
            DiskNode.adopt(node, trees, owners, root / "run/kolla-lab/containers", ovs)
        (root / "var-log/kolla").mkdir(exist_ok=True)
        self._start_sshd(node, proc, user, home)

    def _write_etc(self, node: Node, upper: Path, user: str, uid: int, gid: int, home: str) -> None:
        """The overlay's upper dir: the login user, the hostname, the node's /etc files."""
        passwd = [l for l in Path("/etc/passwd").read_text().splitlines() if l and not l.startswith(user + ":")]
        group = [l for l in Path("/etc/group").read_text().splitlines() if l and not l.startswith(user + ":")]
        if user != "root":
            passwd.append(f"{user}:x:{uid}:{gid}:Kolla deploy user:{home}:/bin/bash")
            group.append(f"{user}:x:{gid}:")
        # No host password hash is copied: every account is locked for passwords ('*'), keys only.
        shadow = [f"{l.split(':', 1)[0]}:*:19000:0:99999:7:::" for l in passwd]
        for fname, lines, mode in (("passwd", passwd, 0o644), ("group", group, 0o644), ("shadow", shadow, 0o640)):
            (upper / fname).write_text("\n".join(lines) + "\n")
            os.chmod(upper / fname, mode)
        hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else "127.0.0.1 localhost\n"
        (upper / "hosts").write_text(hosts.rstrip("\n") + f"\n127.0.1.1 {node.hostname}\n")
        for path, text in node.files.items():
            if path.startswith("/etc/") and not _under(path, TREES):
                target = upper / path[len("/etc/"):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)

    def _write_sudoers(self, name: str, user: str) -> None:
        """Real sudo reads the node's /etc/sudoers.d: NOPASSWD for the login user, unless the node's
        ``sudo_password`` fault is on (then ``sudo -n`` gets sudo's own 'a password is required')."""
        if user == "root":
            return
        root = self.workdir / name
        password = bool(self.faults is not None and self.faults.node(name).get("sudo_password"))
        text = f"{user} ALL=(ALL:ALL) {'ALL' if password else 'NOPASSWD: ALL'}\n"
        target = root / "sudoers.d" / "kolla-lab"
        temp = target.with_name(".kolla-lab.tmp")
        temp.write_text(text)
        os.chmod(temp, 0o440)
        os.replace(temp, target)

    def apply_faults(self) -> None:
        if self._stopped:
            return
        for name, node in self.state.nodes.items():
            if name in self.procs:
                self._write_sudoers(name, node.ssh_user)

    def _install_standins(self, node: Node, bindir: Path) -> None:
        script = bindir / "kolla-lab-standin"
        shutil.copyfile(STANDIN, script)
        os.chmod(script, 0o755)
        # ssh-keyscan too: a real one would dial the scenario's 192.168.35.x guest addresses.
        names = [node.engine, "ip", "nc", "ping", "ssh-keyscan", "hostname", "systemctl"] + \
            (["kolla-ansible"] if node.deploy else [])
        for command in names:
            (bindir / command).symlink_to("kolla-lab-standin")

    def _start_sshd(self, node: Node, proc: _Proc, user: str, home: str) -> None:
        root = proc.root
        q = lambda p: shlex.quote(str(p))  # noqa: E731
        keys = "/home/.root/.ssh/authorized_keys" if user == "root" else "/home/%u/.ssh/authorized_keys"
        for attempt in range(5):
            proc.port = _free_port()
            (root / "sshd_config").write_text("\n".join([
                f"Port {proc.port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_ed25519'}",
                f"PidFile {root / 'sshd.pid'}", f"AuthorizedKeysFile {keys}",
                "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password", f"AllowUsers {user}",
                # UsePAM/StrictModes: keys under the lab's temporary directory, no PAM stack needed.
                "UsePAM no", "StrictModes no", "UseDNS no", "PrintMotd no", "PrintLastLog no",
                "X11Forwarding no", "AllowTcpForwarding no", "MaxSessions 64", "MaxStartups 64:30:128",
                "Subsystem sftp internal-sftp", ""]))
            script = "\n".join([
                f"/usr/bin/hostname {q(node.hostname)}",
                f"mount -t overlay overlay -o lowerdir=/etc,upperdir={root / 'etc-upper'},"
                f"workdir={root / 'etc-work'} /etc",
                f"mount --bind {q(root / 'etc-kolla')} /etc/kolla",
                f"mount --bind {q(root / 'sudoers.d')} /etc/sudoers.d",
                f"mount --bind {q(root / 'var-log')} /var/log",
                f"mount --bind {q(root / 'home')} /home",
                f"mount --bind {q(root / 'bin')} /usr/local/bin",
                f"mount --bind {q(root / 'run')} /run",
                f"exec {SSHD} -D -f {q(root / 'sshd_config')} -E {q(root / 'sshd.log')}"])
            with open(root / "unshare.log", "ab") as errors:
                proc.sshd = self._spawner.popen(
                    [UNSHARE, "--mount", "--uts", "--propagation", "private", "sh", "-ec", script],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
            try:
                _wait(lambda: _sshd_listening(proc), f"{node.name}: sshd", proc.sshd,
                      root / "unshare.log", root / "sshd.log")
            except RuntimeError:
                if proc.sshd.poll() is not None and attempt < 4 and "Address already in use" in _tail(root / "sshd.log"):
                    continue            # another process took the port between probe and bind
                raise
            break
        proc.mnt_ns = os.stat(f"/proc/{proc.sshd.pid}/ns/mnt").st_ino
        self.ports[node.name] = proc.port

    # -- stop ---------------------------------------------------------------------------------
    def _namespace_pids(self, inode: int) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}/ns/mnt").st_ino == inode:
                        pids.append(int(entry))
                except OSError:
                    continue
        return pids

    def stop(self) -> None:
        """Kill every process the nodes started, by PID: sshd and each session (found by the node's
        mount namespace), then ovsdb-server; wait for them; remove the node directories."""
        self._stopped = True
        for proc in list(self.procs.values()):
            if proc.sshd is not None:
                for _ in range(20):
                    pids = set(self._namespace_pids(proc.mnt_ns)) if proc.mnt_ns else set()
                    if proc.sshd.poll() is None:
                        pids.add(proc.sshd.pid)
                    if not pids:
                        break
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    try:
                        proc.sshd.wait(timeout=1)
                    except subprocess.TimeoutExpired:
                        pass
                    time.sleep(0.01)
            if proc.ovsdb is not None and proc.ovsdb.poll() is None:
                proc.ovsdb.kill()
                proc.ovsdb.wait(timeout=5)
            if proc.server is not None:
                proc.server.shutdown()
                proc.server.server_close()
        for proc in list(self.procs.values()):
            shutil.rmtree(proc.root, ignore_errors=True)
        self.procs.clear()
        if self._spawner is not None:           # after the kills: its exit would signal them
            self._spawner.close()
            self._spawner = None
