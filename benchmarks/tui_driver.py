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
then), the others are the warm re-check an operator gets after a fix, started the operator's way
(the diagnosis screen's `r`, action_again, on the finished screen); each is timed from that start to
the screen having handled the engine's Done (a fresh Context each time, as the screen makes one).
Each walk also records the process CPU (user+sys, every thread: the UI, the engine's worker, the
in-process lab) spent during it, and ui_cpu, the UI thread's own (the asyncio loop that renders). KOLLA_BENCH_PROFILE=FILE profiles the UI thread (the asyncio loop that
renders) with cProfile during the warm walks (all but the first) and writes the stats to FILE.
Results go to the JSON file KOLLA_BENCH_OUT."""
from __future__ import annotations

import json
import os
import sys
import time

T0 = float(os.environ.get("KOLLA_BENCH_T0", time.time()))
MODE = os.environ.get("KOLLA_BENCH_MODE", "paint")
OUT = os.environ.get("KOLLA_BENCH_OUT", "/dev/stdout")
PROFILE = os.environ.get("KOLLA_BENCH_PROFILE", "")
result: dict = {"mode": MODE}


def main() -> int:
    import screens.app as app_module
    from kolla_wizard import main as cli

    base = app_module.WizardApp
    from screens import diagnosis

    on_done = diagnosis.DiagnosisScreen._on_Done

    def stamped_on_done(screen, ev):
        # the walk ends when the screen has rendered its Done, not at the next poll of _step
        on_done(screen, ev)
        screen.bench_done_at = time.time()
        screen.bench_done_cpu = time.process_time()
        screen.bench_done_ui_cpu = time.thread_time()

    diagnosis.DiagnosisScreen._on_Done = stamped_on_done

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
        _cpu_symptom = 0.0
        _ui_cpu_symptom = 0.0
        _last_screen = None
        _profile = None
        _walks = 0

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
                    if self._profile is not None:
                        self._profile.disable()
                        self._profile.dump_stats(PROFILE)
                    self.exit(0)
                    return
                self._current = self._queue.pop(0)
                if PROFILE and self._walks == 1:
                    import cProfile
                    self._profile = cProfile.Profile()
                    self._profile.enable()
                self._t_symptom = time.time()
                self._cpu_symptom = time.process_time()
                self._ui_cpu_symptom = time.thread_time()
                if MODE == "recheck" and self._last_screen is not None:
                    self._last_screen.action_again()     # the operator's `r` on the finished screen
                else:
                    self.start_diagnosis(self._current, {})
                return
            if getattr(screen, "finished", False) and screen is not self._last_screen:
                findings = [getattr(f, "id", "?") for f in (getattr(screen.report, "findings", None) or [])]
                done_at = getattr(screen, "bench_done_at", time.time())
                done_cpu = getattr(screen, "bench_done_cpu", time.process_time())
                seen = {"seconds": done_at - self._t_symptom, "cpu": done_cpu - self._cpu_symptom,
                        "ui_cpu": getattr(screen, "bench_done_ui_cpu", time.thread_time()) - self._ui_cpu_symptom,
                        "findings": findings}
                self._walks += 1
                if MODE == "recheck":
                    result.setdefault("walks", []).append(seen)
                else:
                    result.setdefault("symptoms", {})[self._current] = seen
                self._current = None
                if MODE == "recheck" and self._queue:
                    self._last_screen = screen           # walked again with `r` at the next tick
                else:
                    self._last_screen = None
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
