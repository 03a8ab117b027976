"""Probes for "SSH to the instance is refused / times out / permission denied": the server's
state, its address, reachability from the deploy host, the security groups for TCP 22 and ICMP
from the operator's address, the key pair, what cloud-init logged about metadata, and the
image's login user."""
from __future__ import annotations

import base64
import ipaddress
import re
import shlex
from typing import Any, Mapping

from ..errors import WizardError
from ..evidence import Evidence, ProbeUnavailable
from ..readings import neutron as nx
from .cloud_network import _target_server, server_port_view, subnet_fact
from .registry import probe
from ..probe_context import ProbeContext
from ..i18n import t

# kolla-facts §7.2 (cloud-init url_helper / DataSource* messages).
MD_FAILED = re.compile(r"Calling '(http://(?:169\.254\.169\.254|\[fe80::a9fe:a9fe[^\]]*\])[^']*)' failed "
                       r"\[(\d+)/([^\]]+)\]: (.*)")
MD_GAVE_UP = re.compile(r"Giving up on (?:OpenStack )?md from")
# The console shows cloud-init's WARNING and worse only (05_logging.cfg's consoleHandler), so a
# working metadata fetch is seen in the final message cc_final_message writes to the console:
# "Cloud-init v. X finished at T. Datasource DataSourceOpenStackLocal [net,ver=2].  Up N seconds"
# (sources/DataSourceOpenStack.py __str__). The datasource name is the "source" read here.
MD_SOURCE = re.compile(r"finished at .*?\. Datasource (DataSource(?!None\b)\S+(?: \[[^\]]*\])?)\.")
KEYS_FOR_USER = re.compile(r"Authorized keys from \S+ for user (\S+?)\+*$")
NO_KEYS_FOR_USER = re.compile(r"no authorized SSH keys fingerprints found for user (\S+?)\.?$")
DATASOURCE_NONE = re.compile(r"Datasource DataSourceNone")

# Default login users of common cloud images (os_distro values per the Glance "common image
# properties" list, and the images' own cloud.cfg).
DISTRO_USERS = {
    "rocky": "rocky", "centos": "cloud-user", "rhel": "cloud-user", "almalinux": "almalinux",
    "ubuntu": "ubuntu", "debian": "debian", "fedora": "fedora", "cirros": "cirros",
    "opensuse": "opensuse", "sles": "sles", "arch": "arch",
}


def operator_address(ctx: ProbeContext) -> tuple[str | None, str]:
    """Where the operator connects from: --operator-ip, else the deploy host's first IPv4
    (``hostname -I``). Returns (address or None, how it was found)."""
    cached = ctx.facts.get("operator_ip")
    if cached:
        return cached, ctx.facts.get("operator_ip_source", "")
    setting = getattr(ctx.settings, "operator_ip", None)
    if setting:
        ctx.facts["operator_ip"], ctx.facts["operator_ip_source"] = setting, "--operator-ip"
        return setting, "--operator-ip"
    host = getattr(ctx.deploy, "name", "deploy")
    for argv in (["hostname", "-I"], ["ip", "-4", "-o", "addr", "show", "scope", "global"]):
        try:
            result = ctx.deploy.run(argv, timeout=10)
        except (WizardError, ProbeUnavailable, OSError) as exc:
            why = exc.one_line() if isinstance(exc, WizardError) else getattr(exc, "reason", None) or str(exc)
            return None, t("unknown (the deploy host could not be asked: {why}; pass --operator-ip)", why=why)
        if result.rc != 0:
            continue
        for word in result.stdout.replace("/", " ").split():
            try:
                ip = ipaddress.ip_address(word)
            except ValueError:
                continue
            if ip.version == 4 and not ip.is_loopback and not ip.is_link_local:
                how = t("the deploy host's address ({command} on {host})", command=' '.join(argv), host=host)
                ctx.facts["operator_ip"], ctx.facts["operator_ip_source"] = str(ip), how
                return str(ip), how
    return None, t("unknown (hostname -I gave no IPv4 address; pass --operator-ip)")


@probe("ssh_target", outcomes=("active", "not-active", "no-server"),
       summary="Pick the instance you SSH to and read its status", requires="cloud", provides=("server",))
def ssh_target(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    sources = ["GET /servers/detail"]
    chosen = _target_server(ctx)
    how = t("named with --server")
    if chosen is None:
        servers = sorted(ctx.cloud.servers(), key=lambda s: (s.get("name") or "", s.get("id") or ""))
        active = [s for s in servers if s.get("status") == "ACTIVE"]
        if active:
            # The one most likely to be the problem: an ACTIVE server without a floating IP first.
            fips = ctx.cloud.floating_ips()
            ports = ctx.cloud.ports()
            networks = nx.by_id(ctx.cloud.networks())

            def reachable_address(s):
                for p in nx.server_ports(s["id"], ports):
                    if nx.fip_for_port(p["id"], fips) or nx.is_external(networks.get(p.get("network_id"))):
                        return True
                return False
            active.sort(key=reachable_address)
            chosen = active[0]
        elif servers:
            chosen = servers[0]
        else:
            return Evidence("no-server", {}, [t("This project has no instance to SSH to.")], sources)
        how = t("chosen automatically (pass --server to pick another)")
    facts = {"server": nx.server_fact(chosen)}
    status = chosen.get("status")
    obs = [t("Instance {name} ({id}), {how}: status {status}.", name=facts['server']['name'], id=chosen['id'], how=how,
             status=status)]
    if status == "ACTIVE":
        return Evidence("active", facts, obs, sources)
    fault = chosen.get("fault") or {}
    if fault.get("message"):
        obs.append(t("Fault: {message}", message=fault['message']))
        facts["server"]["fault"] = fault["message"]
    return Evidence("not-active", facts, obs, sources)


@probe("server_address", outcomes=("floating-ip", "external-address", "no-floating-ip"),
       summary="Which address reaches the instance from outside: a floating IP, or a port on the external network",
       requires="cloud", needs=("server",), provides=("port", "network", "address"))
def server_address(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    server_id = (ctx.facts.get("server") or {}).get("id")
    server = ctx.cloud.find_server(server_id) if server_id else None
    if server is None:
        raise ProbeUnavailable(t("the instance is not known yet; run the first step"))
    view = server_port_view(ctx, server)
    sources = ["GET /v2.0/ports", "GET /v2.0/floatingips", "GET /v2.0/networks"]
    if view["port"] is None:
        return Evidence("no-floating-ip", {}, [t("Instance {name} has no port at all.", name=server.get('name'))],
                        sources)
    facts: dict[str, Any] = {"port": nx.port_fact(view["port"]), "network": nx.network_fact(view["network"]),
                             "subnet": subnet_fact(view["subnet"])}
    if view["fip"]:
        facts["fip"] = nx.fip_fact(view["fip"])
        facts["address"] = facts["fip"]["address"]
        return Evidence("floating-ip", facts, [
            t("Floating IP {address} is associated with port {port} (fixed {fixed}); the router NATs it to the "
              "instance.", address=facts['address'], port=facts['port']['id'], fixed=facts['port']['fixed_ip'])],
            sources)
    if nx.is_external(view["network"]):
        facts["address"] = facts["port"]["fixed_ip"]
        return Evidence("external-address", facts, [
            t("The instance sits directly on external network {network} with {address}; "
              "no floating IP is needed to reach it.", network=facts['network']['name'], address=facts['address'])],
            sources)
    facts["address"] = None
    facts["fip_elsewhere"] = _fips_elsewhere(ctx, server)
    return Evidence("no-floating-ip", facts, [*([facts["fip_elsewhere"]] if facts["fip_elsewhere"] else []),
        t("No floating IP is associated with port {port} ({fixed} on {network}). {fixed} is a private address: "
          "nothing outside the cloud can reach it.", port=facts['port']['id'], fixed=facts['port']['fixed_ip'],
          network=facts['network']['name'])], sources)


def _fips_elsewhere(ctx: ProbeContext, server: dict[str, Any]) -> str:
    """Which other servers hold this project's floating IPs (the address the operator tries may be
    one of them), as one sentence; empty when none does."""
    try:
        fips = [f for f in ctx.cloud.floating_ips() if f.get("port_id")]
        if not fips:
            return ""
        ports = nx.by_id(ctx.cloud.ports())
        names = {s.get("id"): s.get("name") or s.get("id") for s in ctx.cloud.servers()}
    except WizardError:
        return ""
    held = []
    for fip in sorted(fips, key=lambda f: str(f.get("floating_ip_address") or "")):
        owner = (ports.get(fip["port_id"]) or {}).get("device_id")
        if owner and owner != server.get("id") and owner in names:
            held.append(t("{address} is on {server}", address=fip.get('floating_ip_address'), server=names[owner]))
    if not held:
        return ""
    return t("This project's floating IPs are held by other servers ({held}): an address from that "
             "list reaches them, not {server}.", held='; '.join(held[:5]), server=server.get('name') or server.get('id'))


@probe("ssh_reachability", outcomes=("open", "closed"),
       summary="From the deploy host: nc -z -w 3 <address> 22 and ping", requires="deploy", needs=("address",), provides=("reach",))
def ssh_reachability(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    address = ctx.facts.get("address")
    if not address:
        raise ProbeUnavailable(t("no address to test"))
    deploy = ctx.deploy
    host = getattr(deploy, "name", "deploy host")
    nc_argv = ["nc", "-z", "-w", "3", str(address), "22"]
    ping_argv = ["ping", "-c", "2", "-W", "2", str(address)]
    try:
        nc = deploy.run(nc_argv, timeout=15)
        ping = deploy.run(ping_argv, timeout=15)
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None
    if nc.rc == 127 or "not found" in nc.stderr.lower():
        raise ProbeUnavailable(t("{host}: nc is not installed (dnf install nmap-ncat), or answer the question",
                                 host=host))
    sources = [f"{host}: {' '.join(nc_argv)}", f"{host}: {' '.join(ping_argv)}"]
    detail = (nc.stderr or nc.stdout).strip().splitlines()
    facts = {"reach": {"ssh": nc.rc == 0, "ping": ping.rc == 0,
                       "ssh_detail": detail[-1] if detail else f"exit {nc.rc}"}}
    obs = [t("{command} from {host}: {result}", command=f"nc -z -w 3 {address} 22", host=host,
             result=t("port 22 answered") if nc.rc == 0 else t("failed ({detail})", detail=facts['reach']['ssh_detail'])),
           t("{command} from {host}: {result}", command=f"ping {address}", host=host,
             result=t("replies") if ping.rc == 0 else t("no reply"))]
    if nc.rc == 0:
        # The handshake is small; an MTU too big for the path lets it and the banner through and
        # drops the key exchange: SSH "connects then hangs". ssh-keyscan shows it without logging in.
        scan_argv = ["ssh-keyscan", "-T", "5", "-t", "ed25519", str(address)]
        try:
            scan = deploy.run(scan_argv, timeout=15)
        except WizardError:
            scan = None
        banner = scan is not None and any(l.startswith("# ") for l in (scan.stderr or "").splitlines())
        keys = scan is not None and any(l and not l.startswith("#") for l in (scan.stdout or "").splitlines())
        if scan is not None and scan.rc != 127:
            sources.append(f"{host}: {' '.join(scan_argv)}")
        if banner and not keys:
            facts["reach"]["ssh"] = False
            facts["reach"]["ssh_detail"] = t("connected and got the banner, then the key exchange hung")
            obs.append(t("{command} from {host}: the banner came, the host key never did: SSH connects "
                         "then hangs (small packets pass, full-size ones are lost).", command=f"ssh-keyscan {address}",
                         host=host))
            return Evidence("closed", facts, obs, sources, host=None)
    return Evidence("open" if nc.rc == 0 else "closed", facts, obs, sources, host=None)


@probe("sg_admits", outcomes=("allowed", "blocked"), args=("protocol", "port"),
       summary="Evaluate the port's security groups for one protocol/port from the operator's address",
       requires="cloud", needs=("port",))
def sg_admits(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    protocol = str(args.get("protocol", "tcp")).lower()
    dport = int(args["port"]) if args.get("port") is not None else None
    port_fact = ctx.facts.get("port") or {}
    port = next((p for p in ctx.cloud.ports() if p.get("id") == port_fact.get("id")), None)
    if port is None:
        raise ProbeUnavailable(t("the instance's port is not known; run the earlier steps first"))
    source, how = operator_address(ctx)
    verdict = nx.evaluate_security_groups(port, ctx.cloud.security_groups(), protocol, dport, source)
    what = f"TCP {dport}" if protocol == "tcp" else protocol.upper()
    key = f"sg_{protocol}{dport or ''}"
    groups = verdict["groups"]
    target = next((g for g in groups if g["name"] == "default"), groups[0] if groups else {"id": None, "name": None})
    facts = {key: {"allowed": verdict["allowed"], "groups": [g["name"] for g in groups], "why": ""},
             "security_group": target, "operator_ip": source}
    if not verdict["allowed"]:
        facts[key]["why"] = _what_blocks(port, ctx.cloud.security_groups(), verdict, protocol, dport, source,
                                         facts[key])
    src_text = source or t("an outside address")
    obs = [t("Your address: {address} ({how}).", address=source, how=how) if source else
           t("Your address is unknown ({how}); rules are judged for an arbitrary outside address.", how=how),
           t("Security groups on port {port}: {groups}.", port=port['id'],
             groups=', '.join(g['name'] for g in groups) or t("none"))]
    if verdict["allowed"]:
        obs.append(t("{what} from {source} is admitted by: {rules}.", what=what, source=src_text,
                     rules='; '.join(verdict['admitting'])))
        return Evidence("allowed", facts, obs, ["GET /v2.0/ports", "GET /v2.0/security-groups"])
    obs.append(t("No ingress rule admits {what} from {source}; security groups drop everything not allowed.",
                 what=what, source=src_text))
    for miss in verdict.get("near_misses_shown", verdict["near_misses"]):
        obs.append(f"  {miss}")
    if any("members of" in m for m in verdict["near_misses"]):
        obs.append(t("A rule with a remote group only admits traffic from ports in that group; your machine is not "
                     "an OpenStack port, so the default group's 'ingress from default' rules do not cover you."))
    return Evidence("blocked", facts, obs, ["GET /v2.0/ports", "GET /v2.0/security-groups"])


def _what_blocks(port: dict[str, Any], all_groups: list[dict[str, Any]], verdict: dict[str, Any], protocol: str,
                 dport: int | None, source: str | None, found: dict[str, Any]) -> str:
    """One sentence naming the actual block: a CIDR that leaves the operator out, a rule facing the
    wrong way, a rule in a group the port is not in, a remote-group rule, or no rule at all."""
    what = f"TCP {dport}" if protocol == "tcp" else protocol.upper()
    you = source or t("your address")
    on_port = set(port.get("security_group_ids") or [])
    for miss in verdict["near_misses"]:
        if "(does not match: only from " in miss:
            rule, _, why = miss.partition(" (does not match: only from ")
            return t("The rule {rule} admits {what} only from {prefix}, which does not include {you}.", rule=rule,
                     what=what, prefix=why.rstrip(')'), you=you)
    for sg in all_groups:
        if sg.get("id") in on_port:
            continue
        for rule in sg.get("security_group_rules") or []:
            if rule.get("direction") == "ingress" and nx.rule_admits(rule, protocol, dport, source)[0]:
                found["admitting_group"] = {"id": sg["id"], "name": sg.get("name") or sg["id"]}
                return t("Group {group} admits {what} from {you} ({rule}), but port {port} is not in that group "
                         "(its groups: {groups}).", group=sg.get('name') or sg['id'], what=what, you=you,
                         rule=nx.describe_rule(rule), port=port.get('id'),
                         groups=', '.join(g['name'] for g in verdict['groups']) or t("none"))
    probe_rule = {"direction": "ingress"}
    for sg in all_groups:
        if sg.get("id") in on_port:
            for rule in sg.get("security_group_rules") or []:
                if rule.get("direction") == "egress" and nx.rule_admits({**rule, **probe_rule}, protocol, dport,
                                                                        source)[0] and rule.get("protocol"):
                    return t("Group {group} has an egress rule for {what} ({rule}): it lets the instance open "
                             "connections out, not {you} in.", group=sg.get('name') or sg['id'], what=what,
                             rule=nx.describe_rule(rule), you=you)
    for miss in verdict["near_misses"]:
        if "only members of security group" in miss:
            rule = miss.partition(" (does not match")[0]
            return t("The rule for {what} ({rule}) admits only members of a security group, i.e. other "
                     "OpenStack ports, not {you}.", what=what, rule=rule, you=you)
    return t("None of the port's groups has any ingress rule for {what}.", what=what)


def ssh_path_blocked(facts: Mapping[str, Any]) -> str | None:
    """Why SSH cannot reach the instance's sshd, from the earlier steps of this tree, or None when
    nothing says so (the path works, or it was not checked). Port 22 answering wins over a security
    group verdict: the context (and its facts) can outlive one walk of the tree."""
    if "address" in facts and not facts.get("address"):
        return t("the instance has no address reachable from outside the cloud")
    answered = (facts.get("reach") or {}).get("ssh")
    if answered is not None:
        return None if answered else t("port 22 did not answer from the deploy host")
    if (facts.get("sg_tcp22") or {}).get("allowed") is False:
        return t("its security groups drop TCP 22 from your address")
    return None


@probe("server_keypair", outcomes=("present", "missing"),
       summary="Was the instance booted with a key pair?", requires="cloud", needs=("server",), provides=("keypair",))
def server_keypair(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    server = ctx.facts.get("server") or {}
    if not server.get("id"):
        raise ProbeUnavailable(t("the instance is not known yet; run the first step"))
    key_name = server.get("key_name")
    if not key_name:
        return Evidence("missing", {"keypair": {"name": None}}, [
            t("Instance {name} was created without --key-name: no public key was offered to cloud-init, "
              "and cloud images allow no password login by default.", name=server.get('name'))], ["GET /servers/detail"])
    obs = [t("Instance {name} was booted with key pair {key}.", name=server.get('name'), key=key_name)]
    facts: dict[str, Any] = {"keypair": {"name": key_name}}
    blocked = ssh_path_blocked(ctx.facts)
    if blocked:
        # The fingerprint only matters once sshd answers and checks a key ("Permission denied
        # (publickey)"); while the path is blocked no key is offered, so Nova's record is not read.
        obs.append(t("Its fingerprint is not compared now: {blocked}, so SSH never gets as far as offering a key. "
                     "Once port 22 answers, diagnose again to compare it with your key.", blocked=blocked))
        return Evidence("present", facts, obs, ["GET /servers/detail"])
    try:
        pairs = {k.get("name"): k for k in ctx.cloud.keypairs()}
        if key_name in pairs:
            facts["keypair"]["fingerprint"] = pairs[key_name].get("fingerprint")
            obs.append(t("Its fingerprint is {fingerprint}: your private key must match it "
                         "(ssh-keygen -lf ~/.ssh/id_ed25519.pub; Nova shows the MD5 or SHA256 form).",
                         fingerprint=pairs[key_name].get('fingerprint')))
        else:
            obs.append(t("That key pair no longer exists in Nova; the key was still injected at boot."))
    except WizardError:
        pass
    return Evidence("present", facts, obs, ["GET /servers/detail", "GET /os-keypairs"])


def parse_console(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"source": None, "failures": 0, "gave_up": False, "login_user": None,
                           "keys_installed": None, "last_failure": None, "datasource_none": False}
    for line in text.splitlines():
        m = MD_FAILED.search(line)
        if m:
            out["failures"] += 1
            out["last_failure"] = f"{m.group(1)} failed [{m.group(2)}/{m.group(3)}]"
        if MD_GAVE_UP.search(line):
            out["gave_up"] = True
        m = MD_SOURCE.search(line)
        if m:
            out["source"] = m.group(1)
        m = KEYS_FOR_USER.search(line.rstrip())
        if m:
            out["login_user"], out["keys_installed"] = m.group(1), True
        m = NO_KEYS_FOR_USER.search(line.rstrip())
        if m:
            out["login_user"] = out["login_user"] or m.group(1)
            out["keys_installed"] = bool(out["keys_installed"])
        if DATASOURCE_NONE.search(line):
            out["datasource_none"] = True
    return out


@probe("cloud_init_metadata", outcomes=("fetched", "failed", "no-log"),
       summary="Read the console log: did cloud-init reach 169.254.169.254 and install the key?",
       requires="cloud", needs=("server",), provides=("cloud_init",))
def cloud_init_metadata(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    server = ctx.facts.get("server") or {}
    if not server.get("id"):
        raise ProbeUnavailable(t("the instance is not known yet; run the first step"))
    try:
        text = ctx.cloud.console_log(server["id"], 400)
    except WizardError as exc:
        raise ProbeUnavailable(exc.one_line()) from None
    sources = [f"openstack console log show {server['id']} --lines 400"]
    parsed = parse_console(text or "")
    facts = {"cloud_init": parsed}
    if parsed["login_user"]:
        facts["login"] = {"user": parsed["login_user"], "from": t("the console log (cloud-init's key table)")}
    if parsed["failures"] or parsed["gave_up"] or (parsed["datasource_none"] and not parsed["source"]):
        obs = [t("cloud-init could not reach the metadata service: {count} failed request(s)", count=parsed['failures'])
               + (t(", last: {failure}", failure=parsed['last_failure']) if parsed["last_failure"] else "")
               + (t("; it gave up and fell back to DataSourceNone") if parsed["gave_up"] or parsed["datasource_none"]
                  else "")
               + "."]
        obs.append(t("Without metadata there is no SSH key, no user-data and no hostname for the instance."))
        return Evidence("failed", facts, obs, sources)
    if parsed["source"]:
        obs = [t("cloud-init finished with datasource {source}: it read the metadata service.", source=parsed['source'])]
        if parsed["keys_installed"]:
            obs.append(t("It installed the key pair's public key for user {user}.", user=parsed['login_user']))
        elif parsed["login_user"]:
            obs.append(t("No SSH key was installed for user {user}.", user=parsed['login_user']))
        return Evidence("fetched", facts, obs, sources)
    return Evidence("no-log", facts, [t("The console log has no cloud-init metadata lines yet (still booting, or the "
                                        "image logs elsewhere).")], sources)


def _user_data_text(server: dict[str, Any]) -> str | None:
    raw = server.get("user_data")
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode("utf-8", "replace")
    except (ValueError, TypeError):
        return str(raw)


@probe("password_auth", outcomes=("not-password", "disabled", "enabled"),
       summary="If you log in with a password: did user-data turn password SSH on?", requires="cloud", needs=("server",))
def password_auth(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    told = (ctx.answers.get("ssh-auth") or "").lower()
    if told not in ("password", "passwd"):
        return Evidence("not-password", {}, [
            t("Assuming key login (say --answer ssh-auth=password if you log in with a password).")], [])
    server_id = (ctx.facts.get("server") or {}).get("id")
    server = ctx.cloud.find_server(server_id) if server_id else None
    if server is None:
        raise ProbeUnavailable(t("the instance is not known yet; run the first step"))
    text = _user_data_text(server)
    if text is None and (server.get("instance_name") or server.get("compute_host")):
        text = ""  # an admin view (OS-EXT-SRV-ATTR visible) with no user_data: none was given
    if text is None:
        raise ProbeUnavailable(t("the instance's user-data is not visible to these credentials (admin-only field)"))
    enabled = re.search(r"(?m)^\s*ssh_pwauth:\s*(true|yes|True|1)\s*$", text) is not None
    if enabled:
        return Evidence("enabled", {}, [t("Its user-data sets ssh_pwauth: true.")], ["GET /servers/detail"])
    return Evidence("disabled", {}, [
        t("You log in with a password, but the instance's user-data does not set ssh_pwauth: true; cloud images "
          "ship with PasswordAuthentication no (cloud-init's ssh_pwauth: false).")], ["GET /servers/detail"])


def image_login_user(image: dict[str, Any] | None) -> tuple[str | None, str]:
    if not image:
        return None, ""
    props = image.get("properties") or {}
    admin = image.get("os_admin_user") or props.get("os_admin_user")
    if admin:
        return admin, t("image {image} property os_admin_user", image=image.get('name'))
    distro = (image.get("os_distro") or props.get("os_distro") or "").lower()
    if distro in DISTRO_USERS:
        return DISTRO_USERS[distro], t("image {image} property os_distro={distro}", image=image.get('name'),
                                       distro=distro)
    name = (image.get("name") or "").lower()
    for key, user in DISTRO_USERS.items():
        if key in name:
            return user, t("the image name {image}", image=image.get('name'))
    return None, ""


@probe("login_user", outcomes=("matches", "wrong-user", "not-told"),
       summary="Which user the image expects, and whether that is the one you log in as", requires="cloud", needs=("server",))
def login_user(ctx: ProbeContext, args: Mapping[str, Any], emit) -> Evidence:
    server = ctx.facts.get("server") or {}
    login = dict(ctx.facts.get("login") or {})
    sources = []
    if not login.get("user") and server.get("image_id"):
        try:
            image = next((i for i in ctx.cloud.images() if i.get("id") == server["image_id"]), None)
        except WizardError:
            image = None
        sources.append("GET /v2/images")
        user, why = image_login_user(image)
        if user:
            login = {"user": user, "from": why}
    if not login.get("user"):
        raise ProbeUnavailable(t("neither the console log nor the image properties (os_admin_user, os_distro) say "
                                 "which user the image expects"))
    facts = {"login": login}
    tried = ctx.answers.get("ssh-user")
    obs = [t("The image's login user is {user} (from {source}).", user=login['user'], source=login['from'])]
    if not tried:
        # The user comes from the guest's console: quoted, so the line can be pasted as it is.
        obs.append(t("Log in as: {command} (say --answer ssh-user=NAME to have the user you tried checked).",
                     command="ssh " + shlex.quote(str(login['user']) + '@' + str(ctx.facts.get('address') or 'ADDRESS'))))
        return Evidence("not-told", facts, obs, sources)
    facts["login"]["tried"] = tried
    if tried == login["user"]:
        obs.append(t("You log in as {user}: that is right.", user=tried))
        return Evidence("matches", facts, obs, sources)
    if tried == "root":
        obs.append(t("You log in as {user}, but the key was installed for {installed} only (root login is disabled on "
                     "cloud images).", user=tried, installed=login['user']))
    else:
        obs.append(t("You log in as {user}, but the key was installed for {installed} only.", user=tried,
                     installed=login['user']))
    return Evidence("wrong-user", facts, obs, sources)
