"""Benchmark 1: the wizard's whole diagnosis of seed-homelab versus the manual way.

Both sides run against the same lab, started once in its own process with --write-config (lab
start-up is excluded from both sides):

* wizard: ``kolla-wizard diagnose --symptom all --format json`` with the real-cloud options
  (--os-cloud/--deploy-host/--ssh-config/--known-hosts/--inventory), timed from fork to exit
  (process start to JSON on stdout). The ``--demo`` variant, which also starts the embedded lab
  inside the process, is reported beside it.
* manual: the commands an experienced Kolla operator runs to reach the same three conclusions
  (MANUAL below, one comment per command): the real python-openstackclient (``openstack``) and
  OpenSSH (``ssh -F <lab ssh_config>``) one after another, as typed at a prompt. Only machine time
  counts: no reading, no typing, so the manual figure is a lower bound for a person.

Each manual step names the text it must show for the operator to draw the conclusion; the script
checks it, so the comparison is between two ways that really reach the same findings."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import KOLLA_WIZARD, OPENSTACK, LabProcess, Series, machine, run_child, save_json  # noqa: E402

SCENARIO = "seed-homelab"
EXPECTED = {"bridge-mapping-missing", "no-router", "fip-not-associated", "sg-blocks-ssh", "sg-blocks-icmp"}
OVS_INI = "/etc/kolla/neutron-openvswitch-agent/openvswitch_agent.ini"


def _first_line(text: str) -> str:
    return next((l.strip() for l in text.splitlines() if l.strip()), "")


def _ovs_agent_id(text: str, host: str) -> str:
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and "Open vSwitch agent" in parts[1] and parts[1].rstrip().endswith(host):
            return parts[0]
    return ""


# (symptom, what the operator learns, argv builder over what earlier steps captured,
#  capture name + how, marker that must appear in stdout/stderr for the conclusion)
def manual_steps(ssh_config: str) -> list[dict]:
    os_ = [OPENSTACK]
    ssh = ["ssh", "-F", ssh_config]
    return [
        # ---- max-retries: "Exceeded maximum number of retries" -----------------------------
        dict(sym="max-retries", why="which instance is in ERROR, on which host",
             argv=lambda v: os_ + ["server", "list", "--all-projects", "--long"], marker=r"rocky-vm1.*ERROR"),
        dict(sym="max-retries", why="the fault: MaxRetriesExceeded (the message hides the cause)",
             argv=lambda v: os_ + ["server", "show", "rocky-vm1", "-c", "fault", "-c", "status"],
             marker=r"Exceeded maximum number of retries"),
        dict(sym="max-retries", why="the request id of the failed create action",
             argv=lambda v: os_ + ["server", "event", "list", "rocky-vm1", "-f", "value", "-c", "Request ID"],
             capture=("req", _first_line), marker=r"req-"),
        dict(sym="max-retries", why="the per-host events: PortBindingFailed on compute01",
             argv=lambda v: os_ + ["server", "event", "show", "rocky-vm1", v["req"]], marker=r"PortBindingFailed"),
        dict(sym="max-retries", why="the network's segment: flat on physnet1 (needs a bridge mapping)",
             argv=lambda v: os_ + ["network", "show", "public1"], marker=r"physnet1"),
        dict(sym="max-retries", why="the OVS agents: alive on compute01, and their ids",
             argv=lambda v: os_ + ["network", "agent", "list", "--long", "-f", "value", "-c", "ID", "-c", "Agent Type",
                                   "-c", "Host"],
             capture=("agent", lambda t: _ovs_agent_id(t, "compute01")), marker=r"Open vSwitch agent compute01"),
        dict(sym="max-retries", why="compute01's live bridge_mappings in the agent's configuration: none",
             argv=lambda v: os_ + ["network", "agent", "show", v["agent"], "-c", "configuration"],
             marker=r"bridge_mappings"),
        dict(sym="max-retries", why="nova-compute is up on compute01 (not a scheduling problem)",
             argv=lambda v: os_ + ["compute", "service", "list"], marker=r"nova-compute.*compute01.*up"),
        dict(sym="max-retries", why="neutron-server's own words: Failed to bind port ... on host compute01",
             argv=lambda v: ssh + ["controller", "grep", "Failed to bind port", "/var/log/kolla/neutron/neutron-server.log"],
             marker=r"Failed to bind port"),
        dict(sym="max-retries", why="the deployed ini on compute01: no bridge_mappings line",
             argv=lambda v: ssh + ["compute01", "cat", OVS_INI], marker=r"\[ovs\]"),
        dict(sym="max-retries", why="the bridges OVS really has on compute01: no br-ex",
             argv=lambda v: ssh + ["compute01", "docker", "exec", "openvswitch_vswitchd", "ovs-vsctl", "show"],
             marker=r"br-int"),
        dict(sym="max-retries", why="why Kolla rendered it so: enable_neutron_provider_networks in globals.yml",
             argv=lambda v: ssh + ["deploy", "cat", "/etc/kolla/globals.yml"], marker=r"neutron_external_interface"),
        dict(sym="max-retries", why="the [compute:vars] attempt in the inventory (loses to group_vars/all)",
             argv=lambda v: ssh + ["deploy", "cat", "/etc/kolla/multinode"], marker=r"compute:vars"),
        # ---- fip-404: "External network ... is not reachable from subnet ..." -----------------
        dict(sym="fip-404", why="the instance's port (the FIP target)",
             argv=lambda v: os_ + ["port", "list", "--server", "rocky-vm2", "-f", "value", "-c", "ID"],
             capture=("port", _first_line), marker=r"\w"),
        dict(sym="fip-404", why="reproduce: floating ip create answers 404 not reachable",
             argv=lambda v: os_ + ["floating", "ip", "create", "public1", "--port", v["port"]],
             marker=r"is not reachable from subnet"),
        dict(sym="fip-404", why="which networks are external (public1)",
             argv=lambda v: os_ + ["network", "list", "--external"], marker=r"public1"),
        dict(sym="fip-404", why="the routers: none (so no path from demo-subnet to public1)",
             argv=lambda v: os_ + ["router", "list", "-f", "value"], marker=r"^$"),
        dict(sym="fip-404", why="the instance's subnet (demo-subnet, 10.0.0.0/24)",
             argv=lambda v: os_ + ["subnet", "list"], marker=r"demo-subnet"),
        # ---- ssh-refused ----------------------------------------------------------------------
        dict(sym="ssh-refused", why="rocky-vm2's addresses: a fixed IP only, no floating IP",
             argv=lambda v: os_ + ["server", "show", "rocky-vm2", "-c", "addresses", "-c", "key_name",
                                   "-c", "security_groups", "-c", "status", "-f", "json"],
             capture=("ip", lambda t: (re.findall(r"\d+\.\d+\.\d+\.\d+", t) or [""])[0]), marker=r"demo-net"),
        dict(sym="ssh-refused", why="the floating IPs: none for rocky-vm2",
             argv=lambda v: os_ + ["floating", "ip", "list"], marker=r""),
        dict(sym="ssh-refused", why="the port's security groups",
             argv=lambda v: os_ + ["port", "show", v["port"], "-f", "value", "-c", "security_group_ids"],
             capture=("sg", lambda t: re.sub(r"[\[\]',]", " ", t).split()[0] if t.strip() else ""), marker=r"\w"),
        dict(sym="ssh-refused", why="the group's rules: no ingress tcp/22, no icmp",
             argv=lambda v: os_ + ["security", "group", "rule", "list", v["sg"], "--long"], marker=r"egress"),
        dict(sym="ssh-refused", why="cloud-init got its metadata (key injected)",
             argv=lambda v: os_ + ["console", "log", "show", "rocky-vm2"], marker=r"cloud-init|ci-info|login"),
        dict(sym="ssh-refused", why="the key pair exists",
             argv=lambda v: os_ + ["keypair", "list"], marker=r"homelab-key"),
        dict(sym="ssh-refused", why="from the deploy host: tcp/22 to the fixed IP does not connect",
             argv=lambda v: ssh + ["deploy", "nc", "-z", "-w", "3", v["ip"], "22"], marker=r""),
        dict(sym="ssh-refused", why="and no ping either",
             argv=lambda v: ssh + ["deploy", "ping", "-c", "1", "-W", "1", v["ip"]], marker=r""),
    ]


def run_manual(lab: LabProcess) -> dict:
    env = lab.env()
    values: dict[str, str] = {}
    steps = []
    total = 0.0
    for step in manual_steps(str(lab.config / "ssh_config")):
        argv = step["argv"](values)
        res = run_child(argv, env=env, timeout=120)
        total += res.wall
        text = res.stdout + res.stderr
        if "capture" in step:
            key, fn = step["capture"]
            values[key] = fn(res.stdout)
        ok = bool(re.search(step["marker"], text, re.M)) if step["marker"] else True
        steps.append({"symptom": step["sym"], "why": step["why"], "command": " ".join(argv[:1] and
                      [Path(argv[0]).name] + argv[1:]), "rc": res.rc, "seconds": res.wall,
                      "cpu": res.cpu, "maxrss_mb": res.maxrss_mb, "conclusion_seen": ok})
    return {"seconds": total, "steps": steps, "commands": len(steps),
            "openstack_commands": sum(1 for s in steps if s["command"].startswith("openstack")),
            "ssh_commands": sum(1 for s in steps if s["command"].startswith("ssh")),
            "all_conclusions_seen": all(s["conclusion_seen"] for s in steps)}


def run_wizard(lab: LabProcess, symptom: str = "all") -> tuple[dict, object]:
    argv = [KOLLA_WIZARD, "diagnose", *lab.wizard_args(), "--symptom", symptom, "--format", "json"]
    res = run_child(argv, env=lab.env(), timeout=120)
    try:
        data = json.loads(res.stdout)
    except ValueError:
        raise RuntimeError(f"diagnose printed no JSON (rc {res.rc}): {res.stderr[-1000:]}")
    return data, res


def run_demo() -> tuple[dict, object]:
    argv = [KOLLA_WIZARD, "diagnose", "--demo", "--symptom", "all", "--format", "json"]
    res = run_child(argv, timeout=120)
    return json.loads(res.stdout), res


def measure(runs: int = 5, manual_runs: int = 3) -> dict:
    out: dict = {"machine": machine(), "scenario": SCENARIO}
    wiz, wiz_cpu, wiz_rss, demo, demo_cpu, demo_rss, manual = (
        Series("wizard diagnose --symptom all (running lab)", "s"), Series("wizard cpu", "s"),
        Series("wizard peak RSS", "MB"), Series("wizard diagnose --demo (incl. lab start)", "s"),
        Series("demo cpu", "s"), Series("demo peak RSS", "MB"), Series("manual sequence", "s"))
    findings_ok = True
    with LabProcess(SCENARIO) as lab:
        out["lab_start_seconds"] = lab.start_seconds
        run_wizard(lab)  # warm the page cache (and .pyc) once; not counted
        for _ in range(runs):
            data, res = run_wizard(lab)
            ids = {f["id"] for f in data.get("findings", [])}
            findings_ok &= ids == EXPECTED
            out["wizard_findings"] = sorted(ids)
            out["wizard_api_requests"] = data.get("api_requests")
            wiz.add(res.wall); wiz_cpu.add(res.cpu); wiz_rss.add(res.maxrss_mb)
        manual_detail = None
        for _ in range(manual_runs):
            m = run_manual(lab)
            manual.add(m["seconds"])
            manual_detail = m
    for _ in range(runs):
        data, res = run_demo()
        findings_ok &= {f["id"] for f in data.get("findings", [])} == EXPECTED
        demo.add(res.wall); demo_cpu.add(res.cpu); demo_rss.add(res.maxrss_mb)
    out.update(findings_ok=findings_ok, wizard=wiz.to_dict(), wizard_cpu=wiz_cpu.to_dict(),
               wizard_rss=wiz_rss.to_dict(), demo=demo.to_dict(), demo_cpu=demo_cpu.to_dict(),
               demo_rss=demo_rss.to_dict(), manual=manual.to_dict(), manual_detail=manual_detail,
               ratio_median=manual.median / wiz.median, ratio_worst=manual.min / wiz.max)
    return out


def report(r: dict) -> str:
    md = r["manual_detail"]
    lines = [
        f"lab: {r['scenario']} in its own process (start {r['lab_start_seconds']:.2f} s, excluded)",
        f"wizard  diagnose --symptom all --format json: {Series('', 's', r['wizard']['values']).fmt()}"
        f"  (cpu {Series('', 's', r['wizard_cpu']['values']).fmt()}; findings {', '.join(r['wizard_findings'])}; "
        f"expected: {'yes' if r['findings_ok'] else 'NO'})",
        f"wizard  diagnose --demo (lab start inside):   {Series('', 's', r['demo']['values']).fmt()}",
        f"manual  {md['commands']} commands ({md['openstack_commands']} openstack, {md['ssh_commands']} ssh): "
        f"{Series('', 's', r['manual']['values']).fmt()}  (every conclusion seen: "
        f"{'yes' if md['all_conclusions_seen'] else 'NO'})",
        f"ratio   manual/wizard (medians): {r['ratio_median']:.1f}x   (worst case, fastest manual / slowest wizard: "
        f"{r['ratio_worst']:.1f}x)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="wizard diagnosis vs the manual openstack/ssh sequence")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--manual-runs", type=int, default=3)
    args = p.parse_args(argv)
    r = measure(args.runs, args.manual_runs)
    save_json("manual", r)
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
