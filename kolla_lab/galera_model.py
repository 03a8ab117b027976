"""Galera's state files as Galera writes them (never imports wizard). tests/real/test_real_galera.py
compares these bytes with what a real three-node cluster (mariadb-server + galera-4) writes.

grastate.dat: galera/src/saved_state.cpp. The file is opened once when the provider starts
(``current_len_`` = its length then) and every write rewrites it in place from offset 0 without
truncating: a state shorter than the previous write is padded with spaces up to that length, and
bytes beyond that stay as they were.
gvwstate.dat: gcomm/src/view.cpp ``View::write_stream`` behind a ``my_uuid:`` line; members in
UUID order (gcomm's NodeList is a map keyed by UUID)."""
from __future__ import annotations

from dataclasses import dataclass


def grastate_state(uuid: str, seqno: int, safe_to_bootstrap: bool) -> str:
    return (f"# GALERA saved state\nversion: 2.1\nuuid:    {uuid}\nseqno:   {seqno}\n"
            f"safe_to_bootstrap: {1 if safe_to_bootstrap else 0}\n")


@dataclass
class GrastateFile:
    """One node's grastate.dat across provider runs."""
    content: str = ""
    current_len: int = 0

    def open(self) -> None:
        """The provider starts (SavedState's constructor: current_len_ = ftell after open 'a')."""
        self.current_len = len(self.content)

    def write(self, uuid: str, seqno: int, safe_to_bootstrap: bool) -> None:
        state = grastate_state(uuid, seqno, safe_to_bootstrap)
        buf = state + " " * max(0, self.current_len - len(state))
        self.content = buf + self.content[len(buf):]
        self.current_len = len(state)


def grastate_after(previous: str | None, writes: list[tuple[str, int, bool]]) -> str:
    """The file after one provider run that made ``writes`` (in order) over ``previous``."""
    f = GrastateFile(previous or "")
    f.open()
    for uuid, seqno, safe in writes:
        f.write(uuid, seqno, safe)
    return f.content


def gvwstate_text(my_uuid: str, view_uuid: str, view_seq: int, members: list[str]) -> str:
    lines = [f"my_uuid: {my_uuid}", "#vwbeg", f"view_id: 3 {view_uuid} {view_seq}", "bootstrap: 0"]
    lines += [f"member: {m} 0" for m in sorted(members)]
    lines.append("#vwend")
    return "\n".join(lines) + "\n"
