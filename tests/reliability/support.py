"""Helpers for the reliability suite: run the real CLI in-process against a shared lab (with its
fault switches), and collect what the operator would see."""
from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import kolla_wizard.main as cli
from kolla_lab import Lab


class SharedLab:
    """The CLI stops the lab it started; this hands it a running lab that outlives the call."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lab, name)

    def stop(self) -> None:  # the module fixture stops the real lab
        pass


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)

    def step(self, tree: str, step: str) -> dict:
        for s in self.json["steps"]:
            if s["tree"] == tree and s["step"] == step:
                return s
        raise AssertionError(f"no step {tree}/{step} in {[(s['tree'], s['step']) for s in self.json['steps']]}")

    def first_line(self, needle: str) -> str:
        """The first stderr/JSON problem line containing needle (what the matrix shows)."""
        lines = self.err.splitlines()
        try:
            lines += self.json.get("problems", [])
        except ValueError:
            pass
        for line in lines:
            if needle in line:
                return line.strip()
        raise AssertionError(f"{needle!r} not in stderr/problems:\n{self.err}\n{lines}")


def run_cli(monkeypatch, lab: Lab | None, *argv: str) -> Run:
    """``kolla-wizard ARGV`` in-process; with a lab, --lab-scenario uses that running lab."""
    if lab is not None:
        monkeypatch.setattr(cli, "start_lab", lambda *_args, **_kwargs: SharedLab(lab))
        argv = (*argv, "--lab-scenario", lab.name) if "--lab-scenario" not in argv else argv
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.M)


def assert_no_traceback(run: Run) -> None:
    assert not TRACEBACK.search(run.err), run.err
    assert not TRACEBACK.search(run.out), run.out
