"""Run ``neutron-rpc-server`` (``python neutron_run.py rpc-server ARGS...``) as its console script
does, with sqlite's transactions taking the write lock up front (see
``wsgi_serve._sqlite_transactions_take_the_write_lock``: the agents' report_state and the API
write the same sqlite database from several threads and processes).

Run by venv-openstack's Python. The WSGI API process (wsgi_serve.py) consumes no RPC; this one
serves the agents' ``report_state`` and device RPC, as neutron-server's RPC workers do."""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# This file's folder (kolla_lab/real) must not shadow Neutron's own imports.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]


def main() -> int:
    service = sys.argv.pop(1)
    if service != "rpc-server":
        raise SystemExit(f"neutron_run: unknown service {service!r}")
    sys.argv[0] = "neutron-rpc-server"
    from neutron.cmd.server import main_rpc
    spec = importlib.util.spec_from_file_location("_kolla_lab_wsgi_serve", os.path.join(HERE, "wsgi_serve.py"))
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve._sqlite_transactions_take_the_write_lock()
    return main_rpc()


if __name__ == "__main__":
    sys.exit(main())
