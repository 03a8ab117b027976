"""Serve a WSGI application on 127.0.0.1 with a small threaded wsgiref server.

Run by the real tier's OpenStack venv Python (not the wizard's): ``python wsgi_serve.py
module:attribute PORT_FILE``. Binds an ephemeral port on 127.0.0.1 only and writes it to PORT_FILE
once listening. The configuration comes from the environment (OS_KEYSTONE_CONFIG_FILES,
OS_NEUTRON_CONFIG_FILES), as the services' own wsgi modules read it."""
import importlib
import os
import socketserver
import sys

# This file's folder (wizard/lab/real) must not shadow the services' own imports.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # the services log themselves
        pass


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    target, port_file = sys.argv[1], sys.argv[2]
    sys.argv[1:] = []        # the services parse the command line as oslo.config options at import
    module, _, attribute = target.partition(":")
    application = getattr(importlib.import_module(module), attribute or "application")
    server = make_server("127.0.0.1", 0, application, server_class=ThreadedWSGIServer, handler_class=QuietHandler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
