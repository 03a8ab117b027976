"""Serve a WSGI application on 127.0.0.1 with a small threaded wsgiref server.

Run by the real tier's OpenStack venv Python (not the wizard's): ``python wsgi_serve.py
module:attribute PORT_FILE [FD]``. Serves on the listening socket FD that the parent bound on
127.0.0.1 (or binds an ephemeral port on 127.0.0.1 itself) and writes the port to PORT_FILE once the
application is imported. The configuration comes from the environment (OS_KEYSTONE_CONFIG_FILES,
OS_NEUTRON_CONFIG_FILES), as the services' own wsgi modules read it."""
import importlib
import os
import socket
import socketserver
import sys

# This file's folder (kolla_lab/real) must not shadow the services' own imports.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # the services log themselves
        pass


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def _sqlite_transactions_take_the_write_lock() -> None:
    """oslo.db opens every sqlite transaction with a deferred BEGIN; two threads that both read and
    then write cannot both upgrade, and sqlite fails one at once with "database is locked" (a 500 to
    the client; the busy timeout does not apply). MySQL, which a real cloud uses, waits on row locks
    instead. BEGIN IMMEDIATE takes the write lock up front, so transactions queue (within the busy
    timeout) instead of failing. Runs before oslo.db's own begin listener (class-level listeners
    fire first), which then sees the transaction open and emits nothing."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "begin")
    def _begin(conn):
        if conn.dialect.name == "sqlite" and "in_transaction" not in conn.info:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info["in_transaction"] = True

    @event.listens_for(Engine, "commit")
    @event.listens_for(Engine, "rollback")
    def _end(conn):
        conn.info.pop("in_transaction", None)


def main() -> None:
    target, port_file = sys.argv[1], sys.argv[2]
    fd = int(sys.argv[3]) if len(sys.argv) > 3 else None
    sys.argv[1:] = []        # the services parse the command line as oslo.config options at import
    _sqlite_transactions_take_the_write_lock()
    module, _, attribute = target.partition(":")
    application = getattr(importlib.import_module(module), attribute or "application")
    if fd is None:
        server = make_server("127.0.0.1", 0, application, server_class=ThreadedWSGIServer, handler_class=QuietHandler)
    else:
        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=fd)
        host, port = server.socket.getsockname()[:2]
        if host != "127.0.0.1":
            raise SystemExit(f"wsgi_serve: refusing a socket bound to {host}")
        server.server_address, server.server_name, server.server_port = (host, port), host, port
        server.setup_environ()
        server.set_app(application)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
