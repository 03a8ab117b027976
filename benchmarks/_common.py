"""Shared helpers for the benchmark scripts: timing statistics, child processes with their own
resource usage, a lab running in its own process, and the machine description.

Everything here connects to 127.0.0.1 only (the lab binds there; nothing else is dialled)."""
from __future__ import annotations

import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
# The venv's interpreter runs everything: the same python-openstackclient and wizard the operator has.
PYTHON = sys.executable
BIN = Path(PYTHON).parent
KOLLA_WIZARD = str(BIN / "kolla-wizard")
OPENSTACK = str(BIN / "openstack")


# -- statistics --------------------------------------------------------------------------
@dataclass
class Series:
    """Repeated measurements of one quantity."""
    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def fmt(self, digits: int = 3) -> str:
        if not self.values:
            return "n/a"
        f = f"{{:.{digits}f}}"
        return f"{f.format(self.min)} / {f.format(self.median)} / {f.format(self.max)} {self.unit} (n={len(self.values)})"

    def to_dict(self) -> dict:
        return {"name": self.name, "unit": self.unit, "values": self.values,
                "min": self.min if self.values else None, "median": self.median if self.values else None,
                "max": self.max if self.values else None}


# -- child processes -----------------------------------------------------------------------
@dataclass
class ChildResult:
    argv: list[str]
    rc: int
    wall: float            # seconds, from just before fork to reaping
    cpu: float             # user + system seconds of the child itself
    maxrss_mb: float       # the child's own peak RSS (ru_maxrss from wait4, KiB on Linux)
    stdout: str
    stderr: str


# A fork inherits the parent's peak RSS (Linux keeps the pre-exec high-water mark in ru_maxrss), so
# a child forked straight from a benchmark holding a 500-node lab would report that lab's memory.
# Children are therefore forked by this small launcher (python -S, ~10 MB), which times and reaps
# its child with wait4 and writes the figures to a file.
_LAUNCHER = r"""
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
with open(out, "w") as fh:
    json.dump({"wall": wall, "rc": code, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss}, fh)
sys.exit(code if 0 <= code < 256 else 255)
"""


def run_child(argv: list[str], env: dict | None = None, timeout: float = 300.0,
              stdin: str | None = None) -> ChildResult:
    """Run one command through the launcher; its wall time (fork to reaping, launcher start-up
    excluded), CPU and peak RSS are its own. stdout/stderr go to temp files (no pipe stalls)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json", delete=False) as figures:
        proc = subprocess.Popen([PYTHON, "-S", "-c", _LAUNCHER, figures.name, *argv], stdout=out, stderr=err,
                                env=env, start_new_session=True,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        try:
            data = json.loads(Path(figures.name).read_text() or "{}")
        finally:
            os.unlink(figures.name)
        out.seek(0)
        err.seek(0)
        return ChildResult(argv, int(data.get("rc", proc.returncode)), float(data.get("wall", float("nan"))),
                           float(data.get("cpu", float("nan"))), float(data.get("maxrss_kb", 0)) / 1024.0,
                           out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


# -- a lab in its own process ------------------------------------------------------------
class LabProcess:
    """`kolla-wizard lab --scenario X --write-config DIR` in the background, so its servers do
    not share a GIL with what is measured; the config dir is what a real cloud's operator has."""

    def __init__(self, scenario: str, ready_timeout: float = 600.0) -> None:
        self.scenario = scenario
        self.ready_timeout = ready_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="kolla-bench-lab-"))
        self.proc: subprocess.Popen | None = None
        self.start_seconds: float | None = None

    def __enter__(self) -> "LabProcess":
        log = open(self.dir / "lab.log", "w+")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([KOLLA_WIZARD, "lab", "--scenario", self.scenario,
                                      "--write-config", str(self.dir / "config")],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            log.seek(0)
            text = log.read()
            if "is up on 127.0.0.1" in text and "nodes:" in text:
                self.start_seconds = time.perf_counter() - t0
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"lab {self.scenario} exited: {text[-2000:]}")
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"lab {self.scenario} not up within {self.ready_timeout}s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # the lab's own clean stop
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def config(self) -> Path:
        return self.dir / "config"

    def env(self) -> dict:
        env = dict(os.environ)
        env["OS_CLIENT_CONFIG_FILE"] = str(self.config / "clouds.yaml")
        env["OS_CLOUD"] = "kolla-lab"
        for var in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TOKEN"):
            env.pop(var, None)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "")
        return env

    def wizard_args(self) -> list[str]:
        """The real-cloud options: the wizard talks to this lab exactly as to a real cloud."""
        c = self.config
        return ["--os-cloud", "kolla-lab", "--deploy-host", "deploy", "--ssh-config", str(c / "ssh_config"),
                "--known-hosts", str(c / "known_hosts"), "--inventory", "/etc/kolla/multinode"]


# -- the machine --------------------------------------------------------------------------
def machine() -> dict:
    try:
        model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    except OSError:
        model = "?"
    try:
        mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    except OSError:
        mem = 0
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "cpu": model, "mem_mb": mem, "python": platform.python_version(),
            "platform": platform.platform(), "loadavg": [round(x, 2) for x in load]}


def textual_version() -> str:
    try:
        from importlib.metadata import version
        return version("textual")
    except Exception:
        return "?"


def save_json(name: str, data: dict) -> Path:
    out = BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
