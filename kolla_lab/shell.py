"""The command set a lab node answers over SSH (documented in docs/scenarios.md).

Commands arrive as one shell string: split with shlex; ``&&``, ``||`` and ``;`` chain simply,
pipes and redirections are not supported. Anything unknown: ``bash: X: command not found`` (127)."""
from __future__ import annotations

import re
import shlex

from . import packet_path
from .nodes import OVS_AGENT, OVS_INI

NOT_FOUND = 127


def run_command(state, node, text: str) -> tuple[str, str, int]:
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError as exc:
        return "", f"bash: syntax error: {exc}\n", 2
    if any(t in ("|", ">", ">>", "<") for t in tokens):
        return "", "bash: pipes and redirections are not supported by the lab shell\n", 2
    out_all, err_all, code = "", "", 0
    chain, op = [], ";"
    pieces: list[tuple[str, list[str]]] = []
    for t in tokens + [";"]:
        if t in ("&&", "||", ";"):
            pieces.append((op, chain))
            chain, op = [], t
        else:
            chain.append(t)
    for op, argv in pieces:
        if not argv:
            continue
        if (op == "&&" and code != 0) or (op == "||" and code == 0):
            continue
        out, err, code = run_argv(state, node, argv)
        out_all += out
        err_all += err
    return out_all, err_all, code


def run_argv(state, node, argv: list[str]) -> tuple[str, str, int]:
    faults = getattr(state, "faults", None)
    while argv and argv[0] == "sudo":
        argv = argv[1:]
        while argv and argv[0] in ("-n", "-E", "-H", "-S", "-u", "--"):
            opt = argv.pop(0)
            if opt == "-u":
                argv = argv[1:]
            if opt == "--":
                break
        if faults is not None and faults.node(node.name).get("sudo_password"):
            # sudo -n with a password-protected sudoers entry: exactly what sudo 1.9 prints.
            return "", "sudo: a password is required\n", 1
    if not argv:
        return "", "", 0
    if argv[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and len(argv) >= 3 and argv[1] == "-c":
        # `sh -c 'CMD'` (the wizard's sudo form for command strings): run CMD through this shell.
        return run_command(state, node, argv[2])
    cmd = argv[0]
    fn = COMMANDS.get(cmd)
    if cmd == node.engine or (cmd in ("docker", "podman") and cmd == node.engine):
        fn = cmd_engine
    elif cmd in ("docker", "podman"):
        fn = None
    if cmd == "kolla-ansible" and not node.deploy:
        fn = None
    if cmd in ("nc", "ping") and not node.deploy:
        fn = COMMANDS.get(cmd)
    if fn is None:
        return "", f"bash: {cmd}: command not found\n", NOT_FOUND
    try:
        return fn(state, node, argv)
    except IndexError:
        return "", f"{cmd}: missing operand\n", 1


def _read(node, path):
    if node.is_dir(path):
        return None, f"{path}: Is a directory"
    text = node.read(path)
    if text is None and path == packet_path.DNSMASQ_LOG and node.cloud is not None:
        text = packet_path.dnsmasq_log(node.cloud, node)
    if text is None:
        return None, f"{path}: No such file or directory"
    return text, None


def cmd_cat(state, node, argv):
    out, err, code = "", "", 0
    for path in argv[1:]:
        text, e = _read(node, path)
        if e:
            err += f"cat: {e}\n"
            code = 1
        else:
            out += text
    return out, err, code


def cmd_ls(state, node, argv):
    paths = [a for a in argv[1:] if not a.startswith("-")] or [f"/home/{node.ssh_user}"]
    out, err, code = "", "", 0
    for p in paths:
        names = node.listdir(p)
        if names is None:
            if node.read(p) is not None:
                out += p + "\n"
            else:
                err += f"ls: cannot access '{p}': No such file or directory\n"
                code = 2
            continue
        out += "".join(n + "\n" for n in names)
    return out, err, code


def cmd_test(state, node, argv):
    args = argv[1:]
    if args and args[-1] == "]":
        args = args[:-1]
    if len(args) != 2:
        return "", "", 2
    flag, path = args
    if flag == "-e":
        ok = node.read(path) is not None or node.is_dir(path)
    elif flag == "-f":
        ok = node.read(path) is not None
    elif flag == "-d":
        ok = node.is_dir(path)
    elif flag in ("-r", "-s"):
        ok = bool(node.read(path))
    else:
        return "", f"test: {flag}: unary operator expected\n", 2
    return "", "", 0 if ok else 1


def cmd_stat(state, node, argv):
    fmt = None
    paths = []
    i = 1
    while i < len(argv):
        if argv[i] == "-c":
            fmt = argv[i + 1]
            i += 2
            continue
        if argv[i].startswith("--format="):
            fmt = argv[i].split("=", 1)[1]
        else:
            paths.append(argv[i])
        i += 1
    out, err, code = "", "", 0
    for p in paths:
        text = node.read(p)
        isdir = node.is_dir(p)
        if text is None and not isdir:
            err += f"stat: cannot statx '{p}': No such file or directory\n"
            code = 1
            continue
        size = 4096 if isdir else len(text.encode())
        mode = "0755" if isdir else ("0640" if "passwords" in p else "0644")
        values = {"%s": str(size), "%n": p, "%a": mode[1:], "%U": "root", "%G": "root", "%Y": "1735689600",
                  "%y": "2025-01-01 00:00:00.000000000 +0000", "%F": "directory" if isdir else "regular file"}
        line = fmt or "%n %s"
        for k, v in values.items():
            line = line.replace(k, v)
        out += line + "\n"
    return out, err, code


def node_addresses(state, node) -> list[str]:
    """The node's IPv4 addresses, first one first. The deploy node is where the operator works,
    so its first address is the scenario's operator_address (as on the seed's deploy host)."""
    out = []
    if node.deploy:
        out.append(state.operator_address)
    if node.address and node.address not in out:
        out.append(node.address)
    return out


def cmd_hostname(state, node, argv):
    if any(a in ("-I", "--all-ip-addresses", "-i", "--ip-address") for a in argv[1:]):
        return " ".join(node_addresses(state, node)) + " \n", "", 0
    return node.hostname + "\n", "", 0


def cmd_tail(state, node, argv):
    n, paths, i = 10, [], 1
    while i < len(argv):
        a = argv[i]
        if a == "-n":
            n = int(argv[i + 1])
            i += 2
            continue
        if re.fullmatch(r"-\d+", a):
            n = int(a[1:])
        elif a.startswith("-n"):
            n = int(a[2:])
        else:
            paths.append(a)
        i += 1
    out, err, code = "", "", 0
    for p in paths:
        text, e = _read(node, p)
        if e:
            err += f"tail: cannot open '{p}' for reading: No such file or directory\n"
            code = 1
            continue
        lines = text.splitlines(keepends=True)
        out += "".join(lines[-n:] if n > 0 else [])
    return out, err, code


def cmd_grep(state, node, argv):
    flags, rest = set(), []
    for a in argv[1:]:
        if a.startswith("-") and len(rest) == 0 and a not in ("-e",):
            flags |= set(a[1:])
        elif a != "-e":
            rest.append(a)
    if not rest:
        return "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    pattern, paths = rest[0], rest[1:]
    try:
        rx = re.compile(re.escape(pattern) if "F" in flags else
                        pattern if "E" in flags or "P" in flags else _basic_re(pattern),
                        re.IGNORECASE if "i" in flags else 0)
    except re.error:
        rx = re.compile(re.escape(pattern), re.IGNORECASE if "i" in flags else 0)
    out, err, found = "", "", False
    for p in paths:
        text, e = _read(node, p)
        if e:
            err += f"grep: {e}\n"
            continue
        count = 0
        for line in text.splitlines():
            hit = bool(rx.search(line)) != ("v" in flags)
            if hit:
                found = True
                count += 1
                if "c" not in flags and "q" not in flags and "l" not in flags:
                    out += (f"{p}:" if len(paths) > 1 else "") + line + "\n"
        if "c" in flags:
            out += (f"{p}:" if len(paths) > 1 else "") + f"{count}\n"
        if "l" in flags and count:
            out += p + "\n"
    if "q" in flags:
        out = ""
    return out, err, 0 if found else (2 if err and not out else 1)


def _basic_re(p: str) -> str:
    return p.replace(r"\|", "|").replace(r"\(", "(").replace(r"\)", ")")


# --- containers -------------------------------------------------------------------------------

def _container_fields(node, c):
    return {"Names": c.name, "Status": c.status_text(), "State": c.status, "Image": c.image, "ID": c.id[:12],
            "Command": '"dumb-init --single-…"', "CreatedAt": c.created_at.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
            "RunningFor": "3 weeks ago", "Ports": "", "Mounts": "", "Size": "0B", "Labels": "", "Networks": "host"}


def _go_format(fmt: str, fields: dict) -> str:
    fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")
    if fmt.startswith("table "):
        fmt = fmt[6:]
    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: str(fields.get(m.group(1), "")), fmt)


def cmd_engine(state, node, argv):
    eng = argv[0]
    if len(argv) < 2:
        return "", f"Usage:  {eng} [OPTIONS] COMMAND\n", 1
    sub, args = argv[1], argv[2:]
    if sub == "ps":
        show_all = any(a in ("-a", "--all") for a in args)
        fmt, names, quiet, i = None, [], False, 0
        while i < len(args):
            a = args[i]
            if a in ("--format", "-f") or a == "--filter":
                val = args[i + 1]
                if a == "--filter":
                    if val.startswith("name="):
                        names.append(val[5:])
                else:
                    fmt = val
                i += 2
                continue
            if a.startswith("--format="):
                fmt = a.split("=", 1)[1]
            elif a.startswith("--filter=name="):
                names.append(a.split("=", 2)[2])
            elif a in ("-q", "--quiet"):
                quiet = True
            i += 1
        rows = [c for c in node.containers.values() if (show_all or c.status in ("running", "restarting"))
                and (not names or any(re.search(n.lstrip("^"), c.name) if not n.startswith("^") else
                                      c.name.startswith(n[1:]) for n in names))]
        if quiet:
            return "".join(c.id[:12] + "\n" for c in rows), "", 0
        if fmt:
            return "".join(_go_format(fmt, _container_fields(node, c)) + "\n" for c in rows), "", 0
        head = f"{'CONTAINER ID':<15}{'IMAGE':<75}{'COMMAND':<27}{'CREATED':<16}{'STATUS':<32}{'PORTS':<7}NAMES\n"
        cmdtxt = '"dumb-init --single-…"'
        body = "".join(f"{c.id[:12]:<15}{c.image:<75}{cmdtxt:<27}{'3 weeks ago':<16}"
                       f"{c.status_text():<32}{'':<7}{c.name}\n" for c in rows)
        return head + body, "", 0
    if sub == "inspect":
        fmt, names, i = None, [], 0
        while i < len(args):
            if args[i] in ("-f", "--format"):
                fmt = args[i + 1]
                i += 2
                continue
            if args[i].startswith("--format="):
                fmt = args[i].split("=", 1)[1]
            else:
                names.append(args[i])
            i += 1
        out, err, code = "", "", 0
        docs = []
        for n in names:
            c = node.containers.get(n)
            if not c:
                err += f"Error: No such object: {n}\n" if eng == "docker" else f"Error: no such object: \"{n}\"\n"
                code = 1
                continue
            st = {"Status": c.status, "Running": c.status == "running", "Restarting": c.status == "restarting",
                  "ExitCode": c.exit_code, "StartedAt": c.started_at.strftime("%Y-%m-%dT%H:%M:%S.%f000Z"),
                  "Pid": 4242 if c.status == "running" else 0, "Error": "", "OOMKilled": False, "Dead": False,
                  "Paused": False, "FinishedAt": "0001-01-01T00:00:00Z"}
            doc = {"Id": c.id, "Name": "/" + c.name, "RestartCount": c.restart_count, "State": st,
                   "Created": c.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f000Z"), "Image": "sha256:" + c.id[::-1],
                   "Config": {"Image": c.image, "Labels": {"kolla_version": "19.4.0"}},
                   "HostConfig": {"NetworkMode": "host", "RestartPolicy": {"Name": "unless-stopped"}},
                   "Mounts": [{"Type": "bind", "Source": f"/etc/kolla/{c.name.replace('_', '-')}/",
                               "Destination": "/var/lib/kolla/config_files/", "RW": False}]}
            if fmt:
                out += _inspect_format(fmt, doc) + "\n"
            else:
                docs.append(doc)
        if not fmt:
            import json
            out = json.dumps(docs, indent=4) + "\n"
        return out, err, code
    if sub in ("restart", "start", "stop"):
        out, err, code = "", "", 0
        for n in [a for a in args if not a.startswith("-")]:
            c = node.containers.get(n)
            if not c:
                err += (f"Error response from daemon: No such container: {n}\n" if eng == "docker"
                        else f"Error: no container with name or ID \"{n}\" found: no such container\n")
                code = 1
                continue
            if sub == "stop":
                node.stop_container(n)
            else:
                node.start_container(n)
            out += n + "\n"
        return out, err, code
    if sub == "exec":
        rest = [a for a in args]
        while rest and rest[0].startswith("-"):
            opt = rest.pop(0)
            if opt in ("-u", "--user", "-w", "-e"):
                rest.pop(0)
        if not rest:
            return "", f"{eng} exec requires at least 2 arguments.\n", 1
        cname, inner = rest[0], rest[1:]
        c = node.containers.get(cname)
        if not c:
            return "", f"Error response from daemon: No such container: {cname}\n", 1
        if c.status != "running":
            return "", (f"Error response from daemon: Container {c.id} is not running\n" if c.status == "exited"
                        else f"Error response from daemon: Container {c.id} is restarting, wait until the container is running\n"), 1
        return exec_in_container(state, node, cname, inner)
    if sub == "logs":
        names = [a for a in args if not a.startswith("-") and not a.isdigit()]
        if not names or names[0] not in node.containers:
            return "", f"Error response from daemon: No such container: {names[0] if names else ''}\n", 1
        if names[0] == OVS_AGENT:
            return "", node.read("/var/log/kolla/neutron/neutron-openvswitch-agent.log") or "", 0
        if names[0] == "keepalived":
            from .control_plane import keepalived_log
            return keepalived_log(state, node), "", 0
        return "", "", 0
    if sub in ("version", "info"):
        return f"Client: Docker Engine - Community\n Version:           26.1.3\n", "", 0
    return "", f"{eng}: '{sub}' is not a {eng} command.\nSee '{eng} --help'\n", 1


def _inspect_format(fmt, doc):
    def lookup(path):
        cur = doc
        for part in path.split("."):
            if not part:
                continue
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return "<no value>"
        if isinstance(cur, bool):
            return "true" if cur else "false"
        if isinstance(cur, (dict, list)):
            import json
            return json.dumps(cur)
        return str(cur)
    fmt = fmt.replace("\\t", "\t")
    fmt = re.sub(r"\{\{\s*json\s+(\.[\w.]*)\s*\}\}", lambda m: lookup(m.group(1)), fmt)
    return re.sub(r"\{\{\s*(\.[\w.]*)\s*\}\}", lambda m: lookup(m.group(1)), fmt)


def exec_in_container(state, node, cname, argv):
    if not argv:
        return "", "", 0
    from .control_plane import exec_in
    answered = exec_in(state, node, cname, argv)
    if answered is not None:
        return answered
    if argv[0] == "ovs-vsctl":
        if cname not in ("openvswitch_vswitchd", "openvswitch_db", OVS_AGENT):
            return "", 'OCI runtime exec failed: exec failed: unable to start container process: exec: "ovs-vsctl": executable file not found in $PATH: unknown\n', 126
        return cmd_ovs_vsctl(state, node, argv)
    if argv[0] == "ip":
        return cmd_ip(state, node, argv)
    if argv[0] in ("iptables-save", "iptables"):
        return "", "", 0
    if argv[0] in ("cat", "ls", "test", "grep", "tail", "hostname"):
        if argv[0] == "cat" and len(argv) > 1 and argv[1] == "/etc/neutron/plugins/ml2/openvswitch_agent.ini" and cname == OVS_AGENT:
            return node.containers[cname].loaded.get(OVS_INI, ""), "", 0
        return run_argv(state, node, argv)
    return "", (f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{argv[0]}": '
                "executable file not found in $PATH: unknown\n"), 127


# --- Open vSwitch -----------------------------------------------------------------------------

def _port_kind(node, bridge, port):
    if port == bridge:
        return "internal", None
    if port.startswith("int-"):
        return "patch", f"{{peer=phy-{port[4:]}}}"
    if port.startswith("phy-"):
        return "patch", f"{{peer=int-{port[4:]}}}"
    if port == "patch-tun":
        return "patch", "{peer=patch-int}"
    if port == "patch-int":
        return "patch", "{peer=patch-tun}"
    if port.startswith(("qr-", "qg-", "tap")):
        return "internal", None
    return None, None


def _bridge_ports(state, node, bridge):
    ports = [bridge] + list(node.ovs.get(bridge, []))
    if bridge == "br-int" and node.agent_alive():
        if "patch-tun" not in ports:
            ports.append("patch-tun")
        c = state.cloud
        for p in c.ports.values():
            if p["binding:host_id"] == node.hostname and p["binding:vif_type"] == "ovs":
                prefix = {"network:router_interface": "qr-", "network:router_gateway": "qg-"}.get(p["device_owner"], "qvo")
                if p["device_owner"] == "network:dhcp":
                    prefix = "tap"
                ports.append(prefix + p["id"][:11])
    if bridge == "br-tun" and node.agent_alive() and "patch-int" not in ports:
        ports.append("patch-int")
    return ports


def ovs_show(state, node) -> str:
    lines = [node.ovs_uuid, '    Manager "ptcp:6640:127.0.0.1"', "        is_connected: true"]
    for bridge in sorted(node.ovs, key=lambda b: {"br-int": 0, "br-tun": 2}.get(b, 1)):
        lines.append(f"    Bridge {bridge}")
        managed = bridge in ("br-int", "br-tun") or bridge in node.agent_mappings().values()
        if managed:
            lines += ['        Controller "tcp:127.0.0.1:6633"']
            if node.agent_alive():
                lines.append("            is_connected: true")
            lines += ["        fail_mode: secure"]
        lines.append("        datapath_type: system")
        for port in _bridge_ports(state, node, bridge):
            kind, opts = _port_kind(node, bridge, port)
            lines.append(f"        Port {port}")
            if port.startswith("qr-") or port.startswith("qg-") or port.startswith("tap"):
                lines.append("            tag: 1")
            lines.append(f"            Interface {port}")
            if kind:
                lines.append(f"                type: {kind}")
            if opts:
                lines.append(f"                options: {opts}")
            if kind is None and port not in node.interfaces and not port.startswith("qvo"):
                lines.append(f'                error: "could not open network device {port} (No such device)"')
    lines.append('    ovs_version: "3.3.4"')
    return "\n".join(lines) + "\n"


def cmd_ovs_vsctl(state, node, argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if not node.ovs_running():
        return "", "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)\n", 1
    if not args or args[0] == "show":
        return ovs_show(state, node), "", 0
    sub = args[0]
    if sub == "list-br":
        return "".join(b + "\n" for b in sorted(node.ovs)), "", 0
    if sub == "br-exists":
        return "", "", 0 if args[1] in node.ovs else 2
    if sub == "list-ports":
        if args[1] not in node.ovs:
            return "", f"ovs-vsctl: no bridge named {args[1]}\n", 1
        return "".join(p + "\n" for p in sorted(_bridge_ports(state, node, args[1])[1:])), "", 0
    if sub == "port-to-br":
        for b in node.ovs:
            if args[1] in _bridge_ports(state, node, b):
                return b + "\n", "", 0
        return "", f"ovs-vsctl: no port named {args[1]}\n", 1
    if sub == "add-br":
        if args[1] in node.ovs and "--may-exist" not in argv:
            return "", f"ovs-vsctl: cannot create a bridge named {args[1]} because a bridge named {args[1]} already exists\n", 1
        node.ovs.setdefault(args[1], [])
        return "", "", 0
    if sub == "add-port":
        br, port = args[1], args[2]
        if br not in node.ovs:
            return "", f"ovs-vsctl: no bridge named {br}\n", 1
        if port in node.ovs[br]:
            if "--may-exist" in argv:
                return "", "", 0
            return "", f"ovs-vsctl: cannot create a port named {port} because a port named {port} already exists on bridge {br}\n", 1
        node.ovs[br].append(port)
        return "", "", 0
    if sub == "del-br":
        if node.ovs.pop(args[1], None) is None and "--if-exists" not in argv:
            return "", f"ovs-vsctl: no bridge named {args[1]}\n", 1
        return "", "", 0
    if sub == "del-port":
        br, port = (args[1], args[2]) if len(args) > 2 else (next((b for b, ps in node.ovs.items() if args[1] in ps), None), args[1])
        if br is None or port not in node.ovs.get(br, []):
            if "--if-exists" in argv:
                return "", "", 0
            return "", f"ovs-vsctl: no port named {port}\n", 1
        node.ovs[br].remove(port)
        return "", "", 0
    return "", f"ovs-vsctl: unknown command '{sub}'; use --help for help\n", 1


# --- namespaces and NAT -----------------------------------------------------------------------

def namespaces(state, node) -> list[str]:
    c = state.cloud
    out = []
    if "network" not in node.groups:
        return out
    if node.agent_alive("neutron_l3_agent") or True:   # namespaces survive an agent stop
        out += [f"qrouter-{r['id']}" for r in c.routers.values() if r["_l3_host"] == node.hostname]
    out += [f"qdhcp-{c.real_network_ids.get(n['id'], n['id'])}" for n in c.networks.values()
            if any(c.subnets[s]["enable_dhcp"] for s in n["subnets"])]
    return out


def router_nat(state, router) -> str:
    c = state.cloud
    gw = c.router_ports(router["id"], "network:router_gateway")
    rules = [
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]",
        ":neutron-l3-agent-OUTPUT - [0:0]", ":neutron-l3-agent-POSTROUTING - [0:0]",
        ":neutron-l3-agent-PREROUTING - [0:0]", ":neutron-l3-agent-float-snat - [0:0]",
        ":neutron-l3-agent-snat - [0:0]", ":neutron-postrouting-bottom - [0:0]",
        "-A PREROUTING -j neutron-l3-agent-PREROUTING", "-A OUTPUT -j neutron-l3-agent-OUTPUT",
        "-A POSTROUTING -j neutron-l3-agent-POSTROUTING", "-A POSTROUTING -j neutron-postrouting-bottom",
        "-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 9697",
    ]
    for f in c.floatingips.values():
        if f["router_id"] == router["id"] and f["fixed_ip_address"]:
            rules.append(f"-A neutron-l3-agent-OUTPUT -d {f['floating_ip_address']}/32 -j DNAT --to-destination {f['fixed_ip_address']}")
            rules.append(f"-A neutron-l3-agent-PREROUTING -d {f['floating_ip_address']}/32 -j DNAT --to-destination {f['fixed_ip_address']}")
            rules.append(f"-A neutron-l3-agent-float-snat -s {f['fixed_ip_address']}/32 -j SNAT --to-source {f['floating_ip_address']} --random-fully")
    if gw:
        dev = "qg-" + gw[0]["id"][:11]
        ext_ip = gw[0]["fixed_ips"][0]["ip_address"]
        rules.append(f"-A neutron-l3-agent-POSTROUTING ! -o {dev} -m conntrack ! --ctstate DNAT -j ACCEPT")
        rules.append(f"-A neutron-l3-agent-snat -o {dev} -j SNAT --to-source {ext_ip} --random-fully")
        rules.append(f"-A neutron-l3-agent-snat -m mark ! --mark 0x2/0xffff -m conntrack --ctstate DNAT -j SNAT --to-source {ext_ip} --random-fully")
    rules += ["-A neutron-l3-agent-snat -j neutron-l3-agent-float-snat", "-A neutron-postrouting-bottom -m comment "
              "--comment \"Perform source NAT on outgoing traffic.\" -j neutron-l3-agent-snat", "COMMIT"]
    return "\n".join(rules) + "\n"


def cmd_ip(state, node, argv):
    args = argv[1:]
    words = [a for a in args if not a.startswith("-")]
    if words[:1] in (["neigh"], ["neighbor"], ["n"]):
        if not node.deploy:
            return "", "", 0
        target = next((w for w in words[2:] if w[:1].isdigit()), None)
        return (neigh(state, node, target) if target else ""), "", 0
    if "dev" in args and words[:1] in (["a"], ["addr"], ["address"], ["link"], ["l"]):
        nic = args[args.index("dev") + 1] if args.index("dev") + 1 < len(args) else ""
        if nic not in node.interfaces:
            return "", f'Device "{nic}" does not exist.\n', 1
        if words[0] in ("link", "l"):
            return f"{nic:<16} UP             52:54:00:5e:{node.interfaces.index(nic):02x}:0{len(nic) % 10} "\
                   f"<BROADCAST,MULTICAST,UP,LOWER_UP> mtu {node.mtu}\n", "", 0
        addrs = ([f"{node.address}/24"] if nic == (node.interfaces[0] if node.interfaces else None) else []) + \
            ([node.interface_addresses[nic]] if node.interface_addresses.get(nic) else [])
        return "".join(f"{n + 2}: {nic}    inet {a} brd {a.split('/')[0].rsplit('.', 1)[0]}.255 scope global {nic}\\"
                       "       valid_lft forever preferred_lft forever\n" for n, a in enumerate(addrs)), "", 0
    if not args or args[0] != "netns":
        if "-o" in args and words[:1] in (["a"], ["addr"], ["address"]):
            from .control_plane import ip_addr_lines
            dev = node.interfaces[0] if node.interfaces else "eth0"
            return "".join(f"{n + 2}: {dev}    inet {ip}/24 brd {ip.rsplit('.', 1)[0]}.255 scope global {dev}\\"
                           "       valid_lft forever preferred_lft forever\n"
                           for n, ip in enumerate(node_addresses(state, node))) + ip_addr_lines(state, node), "", 0
        if args and args[0] in ("-br", "a", "addr", "link"):
            return "".join(f"{i:<16} UP\n" for i in node.interfaces), "", 0
        return "", "", 0
    if len(args) == 1 or args[1] in ("list", "ls"):
        return "".join(ns + "\n" for ns in namespaces(state, node)), "", 0
    if args[1] == "exec":
        ns, inner = args[2], args[3:]
        if ns not in namespaces(state, node):
            return "", f'Cannot open network namespace "{ns}": No such file or directory\n', 1
        if inner and inner[0] in ("iptables-save", "iptables"):
            if ns.startswith("qrouter-"):
                router = state.cloud.routers.get(ns[8:])
                nat = router_nat(state, router)
                if inner[0] == "iptables" and "-S" in inner:
                    return "\n".join("-P " + l[1:].split(" [")[0].replace(" ACCEPT", " ACCEPT") if l.startswith(":") and "ACCEPT" in l
                                     else ("-N " + l[1:].split(" ")[0] if l.startswith(":") else l)
                                     for l in nat.splitlines() if l not in ("*nat", "COMMIT")) + "\n", "", 0
                return "# Generated by iptables-save v1.8.10 (nf_tables)\n" + nat + "# Completed\n", "", 0
            return "", "", 0
        if inner and inner[0] == "ping" and ns.startswith("qrouter-"):
            return netns_ping(state, node, ns, inner)
        if inner and inner[0] == "ip":
            if ns.startswith("qrouter-"):
                c = state.cloud
                lines = ["lo               UNKNOWN        127.0.0.1/8 ::1/128"]
                for p in c.ports.values():
                    if p["device_id"] == ns[8:]:
                        dev = ("qg-" if p["device_owner"] == "network:router_gateway" else "qr-") + p["id"][:11]
                        ips = [ip["ip_address"] + "/24" for ip in p["fixed_ips"]]
                        if dev.startswith("qg-"):
                            ips += [f["floating_ip_address"] + "/32" for f in c.floatingips.values()
                                    if f["router_id"] == ns[8:] and f["port_id"]]
                        lines.append(f"{dev:<16} UNKNOWN        {' '.join(ips)}")
                return "\n".join(lines) + "\n", "", 0
        return "", "", 0
    return "", f'Command "{args[1]}" is unknown, try "ip netns help".\n', 1


# --- reachability from the deploy host ---------------------------------------------------------

def cmd_nc(state, node, argv):
    args = argv[1:]
    timeout, pos, i = 10, [], 0
    while i < len(args):
        if args[i] == "-w":
            timeout = args[i + 1]
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        i += 1
    if len(pos) < 2:
        return "", "Ncat: You must specify a host to connect to. QUITTING.\n", 2
    ip, port = pos[0], int(pos[1])
    if ip in ("127.0.0.1", "localhost"):
        return "", "Ncat: Connection refused.\n", 1
    ok, why = state.cloud.reach(ip, "tcp", port, node.address)
    if ok:
        return "", "", 0
    if why in ("no-such-address",):
        return "", "Ncat: No route to host.\n", 1
    if why == "other-machine":   # a LAN machine holding the address answers with a RST
        return "", "Ncat: Connection refused.\n", 1
    if why == "server-not-active":
        return "", "Ncat: TIMEOUT.\n", 1
    return "", "Ncat: TIMEOUT.\n", 1


def _target_port(state, address):
    c = state.cloud
    fip = next((f for f in c.floatingips.values() if f["floating_ip_address"] == address), None)
    if fip is not None:
        return c.ports.get(fip["port_id"] or ""), fip
    return next((p for p in c.ports.values() if any(i["ip_address"] == address for i in p["fixed_ips"])), None), None


def cmd_ssh_keyscan(state, node, argv):
    """ssh-keyscan: the banner comes in one small packet; the host key comes after the key exchange,
    in full-size segments that an MTU too big for the path drops."""
    args, pos, i = argv[1:], [], 0
    while i < len(args):
        if args[i] in ("-T", "-t", "-p", "-f"):
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        i += 1
    if not pos:
        return "", "usage: ssh-keyscan [-46cDHv] [-f file] [-p port] [-T timeout] [-t type] [host | addrlist namelist]\n", 1
    address = pos[0]
    ok, _why = state.cloud.reach(address, "tcp", 22, node.address)
    if not ok:
        return "", "", 1
    port, _fip = _target_port(state, address)
    banner = f"# {address}:22 SSH-2.0-OpenSSH_8.7\n"
    if port is not None and packet_path.mtu_too_big(state.cloud, port):
        return "", banner, 1
    return f"{address} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxhYi1ndWVzdC1ob3N0LWtleS1vZi10aGUtbGFi\n", banner, 0


def neigh(state, node, address) -> str:
    """The deploy host's ARP entry for an address on its LAN, after a connection attempt."""
    c = state.cloud
    dev = node.interfaces[0] if node.interfaces else "eth0"
    other = packet_path.lan_host(c, address)
    if other:
        return f"{address} dev {dev} lladdr {other['mac']} REACHABLE\n"
    port, fip = _target_port(state, address)
    if fip is not None:
        router = c.routers.get(fip["router_id"] or "")
        l3 = packet_path.l3_node(c, router)
        gw = c.router_ports(router["id"], "network:router_gateway") if router else []
        if gw and l3 is not None and l3.agent_alive("neutron_l3_agent") and not packet_path.uplink(l3)[1]:
            return f"{address} dev {dev} lladdr {gw[0]['mac_address']} REACHABLE\n"
    elif port is not None and (c.networks.get(port["network_id"]) or {}).get("router:external"):
        return f"{address} dev {dev} lladdr {port['mac_address']} REACHABLE\n"
    return f"{address} dev {dev} FAILED\n"


def netns_ping(state, node, ns, argv):
    """ping inside a qrouter- namespace: the external gateway through br-ex's uplink, or an instance
    through the tunnel (a don't-fragment ping of -s bytes + 28 must fit the path)."""
    args, pos, size, df, count, i = argv[1:], [], 56, False, 4, 0
    while i < len(args):
        if args[i] in ("-c", "-W", "-w", "-i", "-s", "-M", "-I"):
            if args[i] == "-c":
                count = int(args[i + 1])
            elif args[i] == "-s":
                size = int(args[i + 1])
            elif args[i] == "-M":
                df = args[i + 1] == "do"
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        i += 1
    dest = pos[0] if pos else ""
    c = state.cloud
    router = c.routers.get(ns[len("qrouter-"):])
    ok = False
    gw_info = (router or {}).get("external_gateway_info") or {}
    ext_net = c.networks.get(gw_info.get("network_id") or "")
    gateways = [c.subnets[s]["gateway_ip"] for s in (ext_net or {}).get("subnets", []) if s in c.subnets]
    if dest in gateways:
        ok = not packet_path.uplink(node)[1]
    else:
        port, _ = _target_port(state, dest)
        server = c.servers.get(port["device_id"]) if port else None
        if port and server and server["status"] == "ACTIVE" and packet_path.guest_addressed(c, port):
            ok = not df or size + 28 <= packet_path.path_limit(c, port)
    out = f"PING {dest} ({dest}) {size}({size + 28}) bytes of data.\n"
    if ok:
        out += "".join(f"{size + 8} bytes from {dest}: icmp_seq={n + 1} ttl=64 time=0.{500 + n} ms\n" for n in range(count))
        out += f"\n--- {dest} ping statistics ---\n{count} packets transmitted, {count} received, 0% packet loss, time {count - 1}ms\n"
        return out, "", 0
    out += f"\n--- {dest} ping statistics ---\n{count} packets transmitted, 0 received, 100% packet loss, time {count - 1}ms\n\n"
    return out, "", 1


def cmd_ping(state, node, argv):
    args = argv[1:]
    count, pos, i = 4, [], 0
    while i < len(args):
        if args[i] in ("-c", "-W", "-w", "-i"):
            if args[i] == "-c":
                count = int(args[i + 1])
            i += 2
            continue
        if not args[i].startswith("-"):
            pos.append(args[i])
        i += 1
    ip = pos[0]
    ok, why = state.cloud.reach(ip, "icmp", None, node.address)
    out = f"PING {ip} ({ip}) 56(84) bytes of data.\n"
    if ok:
        out += "".join(f"64 bytes from {ip}: icmp_seq={n + 1} ttl=63 time=0.{400 + n} ms\n" for n in range(count))
        out += f"\n--- {ip} ping statistics ---\n{count} packets transmitted, {count} received, 0% packet loss, time {count - 1}ms\n"
        out += "rtt min/avg/max/mdev = 0.400/0.450/0.500/0.040 ms\n"
        return out, "", 0
    if why == "no-such-address":
        out += "".join(f"From {node.address} icmp_seq={n + 1} Destination Host Unreachable\n" for n in range(count))
        out += f"\n--- {ip} ping statistics ---\n{count} packets transmitted, 0 received, +{count} errors, 100% packet loss, time {count - 1}ms\n\n"
        return out, "", 1
    out += f"\n--- {ip} ping statistics ---\n{count} packets transmitted, 0 received, 100% packet loss, time {count - 1}ms\n\n"
    return out, "", 1


def cmd_echo(state, node, argv):
    return " ".join(argv[1:]) + "\n", "", 0


def cmd_true(state, node, argv):
    return "", "", 0


def cmd_false(state, node, argv):
    return "", "", 1


def cmd_id(state, node, argv):
    return f"uid=1000({node.ssh_user}) gid=1000({node.ssh_user}) groups=1000({node.ssh_user}),10(wheel),990(docker)\n", "", 0


def cmd_whoami(state, node, argv):
    return node.ssh_user + "\n", "", 0


def cmd_uname(state, node, argv):
    return ("Linux\n" if len(argv) == 1 else
            f"Linux {node.hostname} 5.14.0-503.14.1.el9_5.x86_64 #1 SMP PREEMPT_DYNAMIC x86_64 x86_64 x86_64 GNU/Linux\n"), "", 0


def cmd_cp(state, node, argv):
    from .control_plane import copy_tree
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if len(paths) != 2:
        return "", "cp: missing destination file operand\n", 1
    if copy_tree(node, paths[0], paths[1]):
        return "", "", 0
    text, e = _read(node, paths[0])
    if e:
        return "", f"cp: cannot stat '{paths[0]}': No such file or directory\n", 1
    node.write(paths[1], text)
    return "", "", 0


def cmd_kolla_ansible(state, node, argv):
    from .reconfigure import kolla_ansible
    return kolla_ansible(state, node, argv)


def cmd_systemctl(state, node, argv):
    """Kolla's container units (kolla-ansible 16.0.0+, ansible/module_utils/kolla_systemd_worker.py):
    ``kolla-<container>-container.service`` per container, StartLimitBurst 10. restart/start/stop act
    on the container; reset-failed clears a unit's failed state (the lab keeps none to clear)."""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if not args:
        return "", "Too few arguments.\n", 1
    sub, units = args[0], args[1:]
    if sub not in ("restart", "start", "stop", "reset-failed", "is-active", "is-failed"):
        return "", f"Unknown command verb '{sub}'.\n", 1
    out, err, code = "", "", 0
    for unit in units:
        name = unit[len("kolla-"):-len("-container.service")] \
            if unit.startswith("kolla-") and unit.endswith("-container.service") else None
        c = node.containers.get(name) if name else None
        if c is None:
            if sub in ("is-active", "is-failed"):
                out += "inactive\n"
                code = code or (3 if sub == "is-active" else 1)
                continue
            if sub == "reset-failed":
                err += f"Failed to reset failed state of unit {unit}: Unit {unit} not loaded.\n"
            else:
                err += f"Failed to {sub} {unit}: Unit {unit} not found.\n"
            code = 5
            continue
        if sub == "stop":
            node.stop_container(name)
        elif sub in ("restart", "start"):
            node.start_container(name)
        elif sub == "is-active":
            state_word = "active" if c.status == "running" else ("activating" if c.status == "restarting" else "failed")
            out += state_word + "\n"
            code = code or (0 if state_word == "active" else 3)
        elif sub == "is-failed":
            failed = c.status == "exited"
            out += ("failed" if failed else "active") + "\n"
            code = code or (0 if failed else 1)
    return out, err, code


COMMANDS = {
    "cat": cmd_cat, "ls": cmd_ls, "test": cmd_test, "[": cmd_test, "stat": cmd_stat, "hostname": cmd_hostname,
    "tail": cmd_tail, "grep": cmd_grep, "ip": cmd_ip, "nc": cmd_nc, "ping": cmd_ping,
    "echo": cmd_echo, "true": cmd_true, "false": cmd_false, "id": cmd_id, "whoami": cmd_whoami, "uname": cmd_uname,
    "kolla-ansible": cmd_kolla_ansible, "systemctl": cmd_systemctl, "ssh-keyscan": cmd_ssh_keyscan, "cp": cmd_cp,
}
