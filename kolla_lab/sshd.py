"""One paramiko SSH server per lab node on 127.0.0.1: public-key auth with the lab's client key,
exec requests answered by the node's command set (shell.py), and SFTP on the node's files."""
from __future__ import annotations

import io
import logging
import os
import posixpath
import socket
import stat as _stat
import threading
import time

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

from .lab_keys import new_host_key
from .shell import run_command


# The nodes' server transports log here, not to "paramiko.transport" (the wizard's client side).
LOG_CHANNEL = "kolla_lab.sshd"


class _ClientWentAway(logging.Filter):
    """A client that drops its TCP connection (the wizard's pool at exit, a killed ssh, the 'drop'
    fault) is normal for a lab node; paramiko's server thread logs it as ERROR 'Socket exception:
    Connection reset by peer (104)', which reached the lab console as a bare line meaning nothing
    to the operator. Kept at DEBUG; every other server error still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith("Socket exception"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


logging.getLogger(LOG_CHANNEL).addFilter(_ClientWentAway())


class _NodeServer(paramiko.ServerInterface):
    def __init__(self, fleet: "SSHFleet", node_name: str):
        self.fleet = fleet
        self.node_name = node_name
        self.exec_event = threading.Event()
        self.command: bytes | None = None

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if self.fleet.faults is not None and self.fleet.faults.node(self.node_name).get("auth") == "fail":
            return paramiko.AUTH_FAILED   # fault: the node no longer accepts the lab's key
        if key.get_name() == self.fleet.client_key.get_name() and key.asbytes() == self.fleet.client_key.asbytes():
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        # Run after paramiko has answered the request (a reply racing our data confuses clients).
        threading.Timer(0.005, self.fleet.run_exec, args=(self.node_name, channel, command)).start()
        return True

    def check_channel_pty_request(self, *args):
        return True

    def check_channel_env_request(self, channel, name, value):
        return True

    def check_channel_shell_request(self, channel):
        threading.Timer(0.005, self.fleet.run_shell, args=(self.node_name, channel)).start()
        return True


class SSHFleet:
    def __init__(self, state, client_public: str, faults=None):
        self.state = state
        self.faults = faults
        self.alt_keys: dict[str, paramiko.PKey] = {}     # host_key: changed (a rebuilt node)
        self.held: list[socket.socket] = []              # silent: accepted, never answered
        self._fault_lock = threading.Lock()
        kind, blob = client_public.split()[:2]
        self.client_key = paramiko.PKey.from_type_string(kind, __import__("base64").b64decode(blob))
        self.host_keys: dict[str, paramiko.PKey] = {}
        self.sockets: dict[str, socket.socket] = {}
        self.ports: dict[str, int] = {}
        self.threads: list[threading.Thread] = []
        self.transports: list[paramiko.Transport] = []
        self._stop = threading.Event()

    def host_public(self, name: str) -> str:
        k = self.host_keys[name]
        return f"{k.get_name()} {k.get_base64()}"

    def start(self) -> None:
        for name in self.state.nodes:
            self.host_keys[name] = new_host_key()
            self._listen(name, 0)
        if self.faults is not None:
            self.faults.on_change(self.apply_faults)
            self.apply_faults()

    def _listen(self, name: str, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # so the node can come back on its own port after a ``down`` fault (connections accepted
        # before inherit the option; without it they would block the new bind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
        sock.settimeout(0.2)
        self.sockets[name] = sock
        self.ports[name] = sock.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, args=(name, sock), name=f"kolla-lab-ssh-{name}", daemon=True)
        t.start()
        self.threads.append(t)

    def apply_faults(self) -> None:
        """``down``: close the node's listening socket (connections are refused); back up on the
        same port when the fault is cleared."""
        if self._stop.is_set():
            return
        with self._fault_lock:
            if self.held and not any(self.faults.node(n).get("silent") for n in self.state.nodes):
                for conn in self.held:
                    try:
                        conn.close()
                    except OSError:
                        pass
                self.held.clear()
            for name in self.state.nodes:
                down = bool(self.faults.node(name).get("down"))
                sock = self.sockets.get(name)
                if down and sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)   # stop listening now, not at the next poll
                    except OSError:
                        pass
                    sock.close()
                    self.sockets.pop(name)
                elif not down and sock is None:
                    self._listen(name, self.ports[name])

    def host_key_for(self, name: str) -> paramiko.PKey:
        if self.faults is not None and self.faults.node(name).get("host_key") == "changed":
            if name not in self.alt_keys:
                self.alt_keys[name] = new_host_key()
            return self.alt_keys[name]
        return self.host_keys[name]

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(timeout=1)
        for s in self.sockets.values():
            s.close()
        for s in self.held:
            try:
                s.close()
            except OSError:
                pass
        for tr in list(self.transports):
            try:
                tr.close()
            except Exception:  # noqa: BLE001 - closing a dead transport
                pass

    def _accept_loop(self, name: str, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            if self.faults is not None and self.faults.node(name).get("silent"):
                self.held.append(conn)   # fault: the TCP handshake succeeds, SSH never speaks
                continue
            threading.Thread(target=self._serve, args=(name, conn), daemon=True).start()

    def _serve(self, name: str, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.set_log_channel(LOG_CHANNEL)
        self.transports.append(transport)
        transport.add_server_key(self.host_key_for(name))
        transport.set_subsystem_handler("sftp", SFTPServer, sftp_si=NodeSFTP, node=self.state.nodes[name],
                                        lock=self.state.cloud.lock)
        try:
            transport.start_server(server=_NodeServer(self, name))
        except (paramiko.SSHException, EOFError, OSError):
            return
        channels = []   # paramiko maps channels weakly: hold them, or they are collected and closed
        while transport.is_active() and not self._stop.is_set():
            chan = transport.accept(0.5)
            if chan is not None:
                channels.append(chan)
                channels = [ch for ch in channels if not ch.closed]
        try:
            transport.close()
        finally:
            if transport in self.transports:
                self.transports.remove(transport)

    def _command_fault(self, name: str, channel, text: str) -> bool:
        """Play a command-level fault; True when it replaced the command."""
        hit = self.faults.node_command(name, text) if self.faults is not None else None
        if hit is None:
            return False
        kind, value = hit
        if kind == "drop":
            # Some output, then the whole connection dies: no exit status (a reboot, a cable).
            channel.sendall(b"partial output before the connection dropped\n")
            time.sleep(0.05)
            channel.get_transport().close()
            return True
        if kind == "hang":
            self._stop.wait(value)
            return False   # then answer normally (long after the client's timeout)
        chunk = (b"x" * 1023 + b"\n") * 64
        sent = 0
        try:
            while sent < value and not self._stop.is_set():
                channel.sendall(chunk)
                sent += len(chunk)
            channel.send_exit_status(0)
        except (OSError, EOFError):
            pass   # the client stopped reading and closed the channel
        return True

    def run_exec(self, name: str, channel, command: bytes) -> None:
        try:
            text = command.decode("utf-8", "replace")
            if self._command_fault(name, channel, text):
                return
            with self.state.cloud.lock:
                out, err, code = run_command(self.state, self.state.nodes[name], text)
            if out:
                channel.sendall(out.encode())
            if err:
                channel.sendall_stderr(err.encode())
            channel.send_exit_status(code)
        except Exception as exc:  # noqa: BLE001 - never let one command kill the node
            try:
                channel.sendall_stderr(f"lab: internal error: {exc}\n".encode())
                channel.send_exit_status(1)
            except Exception:  # noqa: BLE001
                pass
        finally:
            try:
                channel.shutdown_write()
                time.sleep(0.01)
                channel.close()
            except (OSError, EOFError):
                pass

    def run_shell(self, name: str, channel) -> None:
        """A minimal interactive shell: one command per line, same command set as exec."""
        node = self.state.nodes[name]
        prompt = f"[{node.ssh_user}@{node.hostname} ~]$ "
        buf = b""
        try:
            channel.sendall(prompt.encode())
            while True:
                data = channel.recv(1024)
                if not data:
                    break
                buf += data
                while b"\n" in buf or b"\r" in buf:
                    line, _, buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n").partition(b"\n")
                    cmd = line.decode("utf-8", "replace").strip()
                    if cmd in ("exit", "logout"):
                        channel.send_exit_status(0)
                        channel.close()
                        return
                    if cmd:
                        with self.state.cloud.lock:
                            out, err, _ = run_command(self.state, node, cmd)
                        channel.sendall((out + err).replace("\n", "\r\n").encode())
                    channel.sendall(prompt.encode())
        except (OSError, EOFError):
            pass


class _Handle(SFTPHandle):
    def __init__(self, node, path: str, writable: bool, lock, initial: bytes):
        super().__init__()
        self.node, self.path, self.writable, self.lock = node, path, writable, lock
        self.buf = io.BytesIO(initial)

    def read(self, offset, length):
        return self.buf.getvalue()[offset:offset + length]

    def write(self, offset, data):
        if not self.writable:
            return SFTP_PERMISSION_DENIED
        self.buf.seek(offset)
        self.buf.write(data)
        return SFTP_OK

    def stat(self):
        return _attrs(self.node, self.path, len(self.buf.getvalue()))

    def close(self):
        if self.writable:
            with self.lock:
                self.node.write(self.path, self.buf.getvalue().decode("utf-8", "replace"))
        return SFTP_OK


def _attrs(node, path: str, size: int | None = None) -> SFTPAttributes:
    a = SFTPAttributes()
    a.filename = posixpath.basename(path) or "/"
    a.st_uid = a.st_gid = 0
    a.st_atime = a.st_mtime = int(time.time())
    if node.is_dir(path):
        a.st_mode = _stat.S_IFDIR | 0o755
        a.st_size = 4096
    else:
        a.st_mode = _stat.S_IFREG | (0o600 if "passwords" in path else 0o644)
        a.st_size = size if size is not None else len((node.read(path) or "").encode())
    return a


class NodeSFTP(SFTPServerInterface):
    def __init__(self, server, *args, node=None, lock=None, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.node = node
        self.lock = lock
        self.home = f"/home/{node.ssh_user}"

    def _abs(self, path: str) -> str:
        path = path or "."
        if not path.startswith("/"):
            path = posixpath.join(self.home, path)
        return posixpath.normpath(path)

    def canonicalize(self, path):
        return self._abs(path)

    def list_folder(self, path):
        p = self._abs(path)
        names = self.node.listdir(p)
        if names is None:
            return SFTP_NO_SUCH_FILE
        return [_attrs(self.node, posixpath.join(p, n)) for n in names]

    def stat(self, path):
        p = self._abs(path)
        if self.node.read(p) is None and not self.node.is_dir(p):
            return SFTP_NO_SUCH_FILE
        return _attrs(self.node, p)

    lstat = stat

    def open(self, path, flags, attr):
        p = self._abs(path)
        writable = bool(flags & (os.O_WRONLY | os.O_RDWR))
        existing = self.node.read(p)
        if existing is None and not (flags & os.O_CREAT):
            return SFTP_NO_SUCH_FILE
        if self.node.is_dir(p):
            return SFTP_FAILURE
        if writable and not self.node.is_dir(posixpath.dirname(p)):
            return SFTP_NO_SUCH_FILE
        if flags & os.O_EXCL:
            # O_CREAT|O_EXCL: the file appears now, under the lock, or the open fails (as
            # OpenSSH's sftp-server answers SSH_FX_FAILURE for EEXIST).
            with self.lock:
                if self.node.read(p) is not None:
                    return SFTP_FAILURE
                self.node.write(p, "")
            existing = None
        initial = b"" if (flags & os.O_TRUNC or existing is None) else existing.encode()
        h = _Handle(self.node, p, writable, self.lock, initial)
        if flags & os.O_APPEND:
            h.buf.seek(0, io.SEEK_END)
        return h

    def remove(self, path):
        p = self._abs(path)
        with self.lock:
            if self.node.files.pop(p, None) is None:
                return SFTP_NO_SUCH_FILE
        return SFTP_OK

    def rename(self, oldpath, newpath):
        o, n = self._abs(oldpath), self._abs(newpath)
        with self.lock:
            text = self.node.files.pop(o, None)
            if text is None:
                return SFTP_NO_SUCH_FILE
            self.node.write(n, text)
        return SFTP_OK

    posix_rename = rename

    def mkdir(self, path, attr):
        self.node.mkdir(self._abs(path))
        return SFTP_OK

    def rmdir(self, path):
        self.node.dirs.discard(self._abs(path))
        return SFTP_OK

    def chattr(self, path, attr):
        return SFTP_OK
