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


def _console_driver() -> None:
    """``compute_driver = kolla_lab_console.ConsoleFakeDriver``: Nova's own FakeDriverWithoutFakeNodes
    (FakeDriver with a stable node identity, "like a real single-node driver"), changed in
    one thing: no guest runs here, so the guest's console (what cloud-init printed) is the lab's
    guest model's, a file per instance UUID the lab writes under $KOLLA_LAB_CONSOLE_DIR. Nova loads
    drivers from ``nova.virt.<name>`` only, hence the module registered under that package."""
    import types

    from nova.virt import fake

    console_dir = os.environ.get("KOLLA_LAB_CONSOLE_DIR", "")

    class ConsoleFakeDriver(fake.FakeDriverWithoutFakeNodes):
        def get_console_output(self, context, instance):
            try:
                with open(os.path.join(console_dir, str(instance.uuid)), encoding="utf-8",
                          errors="replace") as handle:
                    return handle.read(1 << 20)
            except OSError:
                return super().get_console_output(context, instance)

    module = types.ModuleType("nova.virt.kolla_lab_console")
    module.ConsoleFakeDriver = ConsoleFakeDriver
    sys.modules[module.__name__] = module


def main() -> int:
    service = sys.argv.pop(1)
    sys.argv[0] = f"nova-{service}"
    module = importlib.import_module(f"nova.cmd.{service}")      # nova.cmd patches (eventlet or not) first
    spec = importlib.util.spec_from_file_location("_kolla_lab_wsgi_serve", os.path.join(HERE, "wsgi_serve.py"))
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve._sqlite_transactions_take_the_write_lock()
    if service == "compute":
        _console_driver()
    return module.main()


if __name__ == "__main__":
    sys.exit(main())
