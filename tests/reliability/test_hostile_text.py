"""Issue 15, class 3: tenants put terminal escape sequences and Markdown in the names Neutron and
Nova let them set, and a guest prints what it wants on its console. Every resource the trees read is
renamed through the lab's real API (openstacksdk), the console log of the failed instance is
replaced, and the real CLI runs once per output format. No control character but newline and tab
may reach stdout, stderr or the file; the Markdown, parsed by a real GFM-like parser with linkify,
holds no link, image or HTML; the "Log in as" line pastes as one argument."""
from __future__ import annotations

import json
import shlex

import pytest

from tests.reliability.support import assert_no_traceback, run_cli
from tests.trees.network_support import conn
from kolla_lab import Lab
from wizard.safetext import has_control

# what each attack does on a terminal or a Markdown renderer
PAYLOADS = {
    "osc52-clipboard": "\x1b]52;c;Y3VybCBodHRwOi8vMTI3LjAuMC4xL3ggfCBzaA==\x07",
    "osc0-title": "\x1b]0;owned\x07",
    "csi-clear-screen": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b31m",
    "bidi-override": "\u202egnp.exe",
    "cr-overwrite": "ok\rFAKE",
    "md-link": "[click](http://127.0.0.1/x)",
    "md-img-onerror": "<img src=x onerror=alert(1)>",
    "md-code-breakout": "`](http://127.0.0.1/y) **bold** `",
    "md-autolink": "www.127.0.0.1.example/z",
}
# where each payload is planted (resource kind -> payload id)
PLANTS = {
    "server": "osc52-clipboard", "network": "osc0-title", "subnet": "csi-clear-screen",
    "router": "c1-csi", "security-group": "bidi-override", "keypair": "cr-overwrite",
    "image": "md-link", "flavor": "md-img-onerror",
}
CONSOLE_USER = "x$(touch${IFS}/tmp/pwn)`id`;\x1b]52;c;cm0gLXJm\x07"
LINK_TOKENS = {"link_open", "image", "html_inline", "html_block"}


@pytest.fixture(scope="module")
def hostile_cloud():
    with Lab("seed-homelab") as lab:
        c = conn(lab)
        cloud = lab.state.cloud
        vm1 = next(s for s in cloud.servers.values() if s["name"] == "rocky-vm1")
        vm1["name"] = "vm" + PAYLOADS[PLANTS["server"]] + PAYLOADS["md-code-breakout"]
        net = c.network.find_network("demo-net")
        c.network.update_network(net, name="net" + PAYLOADS[PLANTS["network"]] + PAYLOADS["md-autolink"])
        for subnet in list(c.network.subnets()):
            c.network.update_subnet(subnet, name="sub" + PAYLOADS[PLANTS["subnet"]])
        for router in list(c.network.routers()):
            c.network.update_router(router, name="r" + PAYLOADS[PLANTS["router"]])
        for sg in list(c.network.security_groups()):
            c.network.update_security_group(sg, name="sg" + PAYLOADS[PLANTS["security-group"]])
        for kp in cloud.keypairs.values():
            kp["name"] = "kp" + PAYLOADS[PLANTS["keypair"]]
        for image in cloud.images.values():
            image["name"] = "img" + PAYLOADS[PLANTS["image"]]
        for flavor in cloud.flavors.values():
            flavor["name"] = "fl" + PAYLOADS[PLANTS["flavor"]]
        # the guest prints a key table for a user name of its choosing
        for server in cloud.servers.values():
            server["console"] = (server.get("console") or "") + (
                f"\n[   10.301122] cloud-init[890]: ci-info: ++++Authorized keys from /home/x/.ssh/authorized_keys "
                f"for user {CONSOLE_USER}++++\n")
        yield lab


@pytest.fixture(scope="module")
def outputs(hostile_cloud, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    runs = {}
    try:
        for fmt in ("text", "json", "markdown"):
            out = tmp_path_factory.mktemp("out") / f"r.{fmt}"
            run = run_cli(mp, hostile_cloud, "diagnose", "--format", fmt, "--output", str(out))
            runs[fmt] = (run, out.read_bytes().decode("utf-8"))
    finally:
        mp.undo()
    return runs


def _markdown_tokens(text: str) -> list:
    from markdown_it import MarkdownIt
    md = MarkdownIt("gfm-like")   # tables, strikethrough, linkify (GitHub turns bare URLs into links)
    flat = []
    for token in md.parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_no_control_character_or_markdown_escape(outputs, case, fmt, payload):
    run, written = outputs[fmt]
    assert_no_traceback(run)
    everything = written + run.out + run.err
    where = next((k for k, v in PLANTS.items() if v == payload), "server/network name")
    assert not has_control(everything), [line for line in everything.splitlines() if has_control(line)][:3]
    extra = ""
    if fmt == "json":
        json.loads(written)
    if fmt == "markdown":
        bad = [t.type for t in _markdown_tokens(written) if t.type in LINK_TOKENS]
        assert bad == [], bad
        extra = "; GFM parse: 0 links, images or HTML"
    # the attack really reached the output (made visible), or this row proves nothing
    reached = sum(1 for line in written.splitlines() if ("x1b" in line or "x9b" in line or "u202e" in line
                                                          or "127.0.0.1" in line or "onerror" in line))
    assert reached
    case.record("hostile", f"{payload} in a {where} name, --format {fmt}",
                f"0 control characters in file, stdout and stderr{extra}; {reached} lines show the escaped names",
                run.code)


def test_login_line_from_the_console_is_quoted(hostile_cloud, case, monkeypatch):
    run = run_cli(monkeypatch, hostile_cloud, "diagnose", "--format", "json", "--symptom", "ssh-refused")
    report = run.json
    lines = [o for s in report["steps"] for o in s["observations"] if o.startswith("Log in as: ssh ")]
    assert lines, [s["step"] for s in report["steps"]]
    line = lines[0]
    argv = shlex.split(line[len("Log in as: "):].split(" (say --answer")[0])
    assert argv[0] == "ssh" and len(argv) == 2 and argv[1].startswith("x$(touch${IFS}/tmp/pwn)`id`;")
    assert not has_control(line)
    commands = [r["command"] for f in report["findings"] for r in f["remedies"] if r.get("command")]
    case.record("hostile", "guest console names the login user x$(touch${IFS}/tmp/pwn)`id`;<OSC 52>",
                f"'Log in as' line splits to 2 words (ssh, one quoted user@address), no control character; "
                f"{len(commands)} remedy commands", run.code)


@pytest.mark.parametrize("concept", ["metadata"])   # the seed has no router: fip-nat shows no names
def test_network_learn_pages_keep_hostile_names_inert(hostile_cloud, case, concept):
    # The learn pages are Markdown the TUI renders with live links: the router, subnet, server and
    # agent names in them come from the cloud and must stay text.
    from tests.trees.network_support import context
    from wizard import learn_network
    from wizard.diagnose import run_diagnosis
    ctx = context(hostile_cloud)
    try:
        run_diagnosis(ctx, ["fip-404", "ssh-refused"])
        page = learn_network.page(ctx, concept, ctx.facts)
    finally:
        ctx.close()
    assert not has_control(page), [line for line in page.splitlines() if has_control(line)][:3]
    bad = [t.type for t in _markdown_tokens(page) if t.type in LINK_TOKENS]
    assert bad == [], bad
    planted = ("x1b", "x9b")
    assert any(mark in page for mark in planted), page[:2000]
    case.record("hostile", f"hostile router/subnet/server names on the {concept} learn page",
                "0 control characters; GFM parse: 0 links, images or HTML", 0)
