"""Issue 15, the property test: random strings (control characters, ESC sequences, Markdown, HTML,
shell metacharacters, secrets, long runs) as every cloud-provided name and console text, through all
four outputs: text, Markdown, JSON and what the TUI shows (services.redact, the same gate). No
control character but newline and tab may come out; the Markdown, parsed by a GFM-like parser with
linkify, holds no link, image or HTML, and each value reads back literally from the span it was put
in (a code span's content, a prose line's text). A second property drives names and console text
through the lab's real API and the real CLI."""
from __future__ import annotations

import json

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from wizard import runbook
from wizard.findings import Finding, Remedy
from wizard.redact import MASK
from wizard.report import Report, StepRecord, TreeResult
from wizard.safetext import has_control, one_line, shown

HOSTILE_BITS = ["\x1b]52;c;Y3VybA==\x07", "\x1b[2J", "\x9b", "\x00", "\r", "\u202e", "\x7f", "`", "``", "```",
                "[a](http://127.0.0.1)", "![i](x)", "<img src=x onerror=alert(1)>", "<b>", "**", "_", "|", "\\",
                "# ", "- ", "1. ", "> ", "www.x.org", "$(id)", ";", "&&", "'", "\"", "*", "~~", "$x$", "&lt;",
                "http://", "://", "@", "password = hunter2xyz", " ", "\n", "\t", "é", "😀"]
hostile = st.lists(st.one_of(st.sampled_from(HOSTILE_BITS), st.text(max_size=8)), max_size=30).map("".join)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
BAD_TOKENS = {"link_open", "image", "html_inline", "html_block"}


@pytest.fixture(scope="module")
def hostile_lab():
    from kolla_lab import Lab
    with Lab("seed-homelab") as lab:
        vm = next(s for s in lab.state.cloud.servers.values() if s["name"] == "rocky-vm1")
        lab.vm_id = vm["id"]
        for server in lab.state.cloud.servers.values():
            server["console_base"] = server.get("console") or ""
        yield lab


def report_with(name: str, console: str) -> Report:
    report = Report(symptoms=["ssh-refused"], target={"server": name}, cloud=name, started="now", api_requests=1)
    report.trees.append(TreeResult("ssh-refused", "Instance unreachable", "fault", name))
    report.steps.append(StepRecord("ssh-refused", "login-user", name, f"why {name}", "login_user", outcome="x",
                                   status="fault", observations=[name, console], sources=[name], note=name,
                                   asked={"question": name, "command": f"openstack server show {name}", "reason": name}))
    remedy = Remedy("login-user", "command", True, f"Log in as {name}", f"use `{name}` then {name}", command=f"ssh {name}",
                    host=name, path=name, diff=f"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-{name}\n+{console}\n", warning=name)
    report.findings.append(Finding("wrong-login-user", "ssh-refused", f"{name} title", "warning", f"cause: {name}",
                                   name, [name, console], [remedy], None, "login-user"))
    report.problems.append(name)
    report.assumptions.append(console)
    return report


def _inline(md_text: str) -> list:
    tokens = []
    for block in MarkdownIt("gfm-like").parse(md_text):
        tokens.append(block)
        tokens.extend(block.children or [])
    return tokens


def _literal(value: str) -> str:
    return " ".join(one_line(shown(value)).split())


@SETTINGS
@example(name="a" * 20_000 + "\x1b[2J`" * 500, console="\r\n".join(["[a](http://x)"] * 500))
@given(name=hostile, console=hostile)
def test_random_names_and_console_text_through_the_four_outputs(case, name, console):
    case.record("hostile", "hypothesis: 60 random names and console texts + a 20 KB example (ESC, C1, bidi, CR, "
                "Markdown, HTML, shell, secrets) through text, Markdown, JSON and the TUI gate",
                "no control character but \\n \\t; GFM parse: no link, image or HTML; each value reads back "
                "literally from its code span or prose line")
    report = report_with(name, console)
    text, md, js = runbook.to_text(report), runbook.to_markdown(report), runbook.to_json(report)
    tui = [shown(value) for value in (name, console, f"• {console}")]
    for out in (text, md, js, *tui):
        assert not has_control(out)
    assert json.loads(js)["cloud"] == shown(name)
    tokens = _inline(md)
    assert not [t.type for t in tokens if t.type in BAD_TOKENS]
    if _literal(name).strip(" `"):
        # the Host line: one code span whose content is the name, literally
        host_line = next(line for line in md.splitlines() if line.startswith("- **Host:**"))
        spans = [t for t in _inline(host_line) if t.type == "code_inline"]
        assert len(spans) == 1 and " ".join(spans[0].content.split()) == _literal(name).strip()
    # the Cloud line is plain escaped prose: the name reads back exactly, backticks and all
    if name:   # an empty cloud name has no line
        cloud_line = next(line for line in md.splitlines() if line.startswith("- **Cloud:**"))
        read = [t for t in _inline(cloud_line) if t.type == "inline"][0]
        back = "".join(c.content for c in read.children if c.type in ("text", "code_inline"))
        assert " ".join(back.split()) == " ".join(("Cloud: " + _literal(name)).split())
    # prose a playbook wrote holds the console text: backticks there delimit code spans, the rest
    # reads back exactly
    # reads back exactly (whitespace aside: two code spans never touch, a space keeps them apart)
    wanted = "".join(_literal(console).replace("`", "").split())
    if wanted and MASK not in wanted:
        texts = ["".join("".join(c.content for c in t.children or [] if c.type in ("text", "code_inline"))
                         .replace("`", "").split()) for t in tokens if t.type == "inline"]
        assert wanted in texts, (wanted, texts[-12:])


LAB_SETTINGS = settings(max_examples=6, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@LAB_SETTINGS
@given(name=hostile.filter(lambda s: s.strip() and len(s) < 200), console=hostile)
def test_random_names_through_the_lab_and_the_cli(hostile_lab, monkeypatch, case, name, console):
    from tests.reliability.support import run_cli

    cloud = hostile_lab.state.cloud
    vm = next(s for s in cloud.servers.values() if s["id"] == hostile_lab.vm_id)
    vm["name"] = name
    for server in cloud.servers.values():
        server["console"] = server.get("console_base", "") + "\n" + console + "\n"
    for network in cloud.networks.values():
        network["name"] = "n" + name
    runs = [run_cli(monkeypatch, hostile_lab, "diagnose", "--format", fmt) for fmt in ("markdown", "json", "text")]
    for run in runs:
        assert not has_control(run.out + run.err)
    assert not [t.type for t in _inline(runs[0].out) if t.type in BAD_TOKENS]
    json.loads(runs[1].out)
    case.record("hostile", "hypothesis: 6 random server/network names and console texts set in the lab, "
                "the real CLI in Markdown, JSON and text",
                "no control character on stdout or stderr; GFM parse: no link, image or HTML; JSON parses")
