"""Child process for the TUI benchmarks: runs the real ``kolla-wizard --demo`` path
(``kolla_wizard.main.main`` -> ``run_tui`` -> ``screens.app.run_app``) with the app forced headless.

First paint = the first time Textual hands a rendered frame of the StartScreen to its output layer
(``App._display`` with a non-empty compositor update; headless, so only the terminal write itself is
skipped). It is reported as seconds since KOLLA_BENCH_T0, the parent's time.time() just before
fork, so interpreter start-up and every import are inside it.

KOLLA_BENCH_MODE=paint exits right after the first paint. KOLLA_BENCH_MODE=session waits for the
start screen's setup (the embedded lab starts in a worker), then walks the diagnosis screen for
each symptom in turn (max-retries, fip-404, ssh-refused) until it has finished, then quits.
KOLLA_BENCH_MODE=recheck walks one symptom (KOLLA_BENCH_SYMPTOM, default max-retries) again and
again (KOLLA_BENCH_RECHECKS times, default 6): the first walk is cold (openstacksdk and paramiko load
then), the others are the warm re-check an operator gets after a fix; each is timed from the
diagnosis screen's start to its finish (a fresh Context each time, as the screen makes one).
Results go to the JSON file KOLLA_BENCH_OUT."""
from __future__ import annotations

import json
import os
import sys
import time

T0 = float(os.environ.get("KOLLA_BENCH_T0", time.time()))
MODE = os.environ.get("KOLLA_BENCH_MODE", "paint")
OUT = os.environ.get("KOLLA_BENCH_OUT", "/dev/stdout")
result: dict = {"mode": MODE}


def main() -> int:
    import screens.app as app_module
    from kolla_wizard import main as cli

    base = app_module.WizardApp

    class BenchApp(base):
        _painted = False

        def run(self, *args, **kwargs):
            kwargs["headless"] = True
            kwargs.setdefault("size", (120, 40))
            return super().run(*args, **kwargs)

        def _display(self, screen, renderable):
            if not self._painted and renderable is not None and type(screen).__name__ == "StartScreen":
                self._painted = True
                result["first_paint"] = time.time() - T0
                modules = sys.modules
                result["openstack_imported_at_paint"] = "openstack" in modules
                result["paramiko_imported_at_paint"] = "paramiko" in modules
                if MODE == "paint":
                    self.call_later(self.exit, 0)
                else:
                    self.set_interval(0.05, self._step)
            return super()._display(screen, renderable)

        _queue: list | None = None   # filled after the first paint, so reading the playbooks is not timed in it
        _current = None
        _t_symptom = 0.0

        def _step(self) -> None:
            if not self.session.ready:
                return
            if "ready" not in result:
                result["ready"] = time.time() - T0
            screen = self.screen
            if self._queue is None:
                from wizard.playbook import trees_in_all   # the playbooks say which trees "all" walks
                if MODE == "recheck":
                    self._queue = [os.environ.get("KOLLA_BENCH_SYMPTOM", "max-retries")] * \
                        int(os.environ.get("KOLLA_BENCH_RECHECKS", "6"))
                else:
                    self._queue = trees_in_all()
            if self._current is None:
                if not self._queue:
                    result["done"] = time.time() - T0
                    self.exit(0)
                    return
                self._current = self._queue.pop(0)
                self._t_symptom = time.time()
                self.start_diagnosis(self._current, {})
                return
            if getattr(screen, "finished", False):
                findings = [getattr(f, "id", "?") for f in (getattr(screen.report, "findings", None) or [])]
                seen = {"seconds": time.time() - self._t_symptom, "findings": findings}
                if MODE == "recheck":
                    result.setdefault("walks", []).append(seen)
                else:
                    result.setdefault("symptoms", {})[self._current] = seen
                self._current = None
                self.pop_screen()

    app_module.WizardApp = BenchApp
    code = cli.main(["--demo"])
    result["exit_code"] = code
    result["total"] = time.time() - T0
    with open(OUT, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
