"""Run one of Nova's services (``python nova_run.py conductor|scheduler|compute ARGS...``) as its
console script does, with sqlite's transactions taking the write lock up front.

Run by venv-nova's Python. nova-conductor and nova-scheduler write the cell databases from several
threads; with oslo.db's deferred BEGIN two of them deadlock and sqlite fails one at once with
"database is locked" (seen on every service heartbeat), which MySQL in a real cloud would make wait
(see ``wsgi_serve._sqlite_transactions_take_the_write_lock``)."""
import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# This file's folder (kolla_lab/real) must not shadow Nova's own imports.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]


def main() -> int:
    service = sys.argv.pop(1)
    sys.argv[0] = f"nova-{service}"
    module = importlib.import_module(f"nova.cmd.{service}")      # nova.cmd patches (eventlet or not) first
    spec = importlib.util.spec_from_file_location("_kolla_lab_wsgi_serve", os.path.join(HERE, "wsgi_serve.py"))
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve._sqlite_transactions_take_the_write_lock()
    return module.main()


if __name__ == "__main__":
    sys.exit(main())
