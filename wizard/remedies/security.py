"""Remedies for getting into the instance: security group rules for SSH and ping, key pairs,
cloud-init password user-data, the metadata path, the login user, a non-ACTIVE instance.

Security group changes are CloudCall actions through the openstacksdk ops registered here; the
printed commands use IDs for every existing object and the operator's own address."""
from __future__ import annotations

import ipaddress
from typing import Any

from ..errors import WizardError
from ..findings import Finding, Remedy
from .actions import NodeCommand, cloud_op
from .quoting import as_root, join, quote
from .network import ReversibleCall
from .provider_networks import become_for, engine_for
from .registry import remedy
from ..probe_context import ProbeContext
from ..i18n import t

DEDICATED_GROUP = "operator-access"

USER_DATA = """#cloud-config
password: ChangeMe-123
chpasswd:
  expire: false
ssh_pwauth: true
"""

# --- openstacksdk operations -----------------------------------------------------------------


@cloud_op("ensure_security_group")
def op_ensure_security_group(conn: Any, name: str, description: str = "") -> dict[str, Any]:
    """The project's group with this name, created if missing (Neutron allows duplicate names;
    we do not create a second one)."""
    for sg in conn.network.security_groups(name=name):
        if sg.name == name:
            return {"security_group_id": sg.id}
    sg = conn.network.create_security_group(name=name, description=description)
    return {"security_group_id": sg.id, "undo": {"op": "delete_security_group", "params": {"security_group_id": sg.id}}}


@cloud_op("delete_security_group")
def op_delete_security_group(conn: Any, security_group_id: str) -> dict[str, Any]:
    conn.network.delete_security_group(security_group_id, ignore_missing=True)
    return {"security_group_id": security_group_id}


def _group_id(conn: Any, security_group_id: str | None, security_group_name: str | None) -> str:
    if security_group_id:
        return security_group_id
    for sg in conn.network.security_groups(name=security_group_name):
        if sg.name == security_group_name:
            return sg.id
    raise WizardError(f"security group {security_group_name!r} does not exist")


@cloud_op("create_sg_rule")
def op_create_sg_rule(conn: Any, protocol: str, remote_ip_prefix: str, port: int | None = None,
                      security_group_id: str | None = None, security_group_name: str | None = None) -> dict[str, Any]:
    from openstack import exceptions as sdk
    group = _group_id(conn, security_group_id, security_group_name)
    body: dict[str, Any] = {"security_group_id": group, "direction": "ingress", "ethertype": "IPv4",
                            "protocol": protocol, "remote_ip_prefix": remote_ip_prefix}
    if port is not None:
        body["port_range_min"] = body["port_range_max"] = int(port)
    try:
        rule = conn.network.create_security_group_rule(**body)
    except sdk.ConflictException:
        # "Security group rule already exists": the state we want is already there.
        return {"security_group_id": group, "existed": True}
    return {"rule_id": rule.id, "undo": {"op": "delete_sg_rule", "params": {"rule_id": rule.id}}}


@cloud_op("delete_sg_rule")
def op_delete_sg_rule(conn: Any, rule_id: str) -> dict[str, Any]:
    conn.network.delete_security_group_rule(rule_id, ignore_missing=True)
    return {"rule_id": rule_id}


@cloud_op("add_port_security_group")
def op_add_port_security_group(conn: Any, port_id: str, security_group_id: str | None = None,
                               security_group_name: str | None = None) -> dict[str, Any]:
    group = _group_id(conn, security_group_id, security_group_name)
    port = conn.network.get_port(port_id)
    before = list(port.security_group_ids or [])
    if group in before:
        return {"port_id": port_id}
    conn.network.update_port(port_id, security_group_ids=before + [group])
    return {"port_id": port_id, "undo": {"op": "set_port_security_groups",
                                         "params": {"port_id": port_id, "security_group_ids": before}}}


@cloud_op("set_port_security_groups")
def op_set_port_security_groups(conn: Any, port_id: str, security_group_ids: list[str]) -> dict[str, Any]:
    conn.network.update_port(port_id, security_group_ids=list(security_group_ids))
    return {"port_id": port_id}


# --- helpers -----------------------------------------------------------------------------


def _osc(*argv: Any) -> str:
    return join(["openstack", *[str(a) for a in argv]])


def operator_network(ip: str) -> str:
    """The operator's LAN as a /24 (homelab-sized); the /32 when the address is public."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4 and addr.is_private:
        return str(ipaddress.ip_network(f"{ip}/24", strict=False))
    return f"{ip}/{32 if addr.version == 4 else 128}"


def _sg_remedies(ctx: ProbeContext, finding: Finding, protocol: str) -> list[Remedy]:
    facts = finding.facts
    ip = facts.get("operator_ip")
    group = facts.get("security_group") or {}
    port = facts.get("port") or {}
    server = facts.get("server") or {}
    port_args = ["--dst-port", "22"] if protocol == "tcp" else []
    what = t("SSH (TCP 22)") if protocol == "tcp" else t("ping (ICMP)")
    rid = "sg-allow-ssh" if protocol == "tcp" else "sg-allow-icmp"
    known = bool(ip)
    host_prefix = f"{ip}/32" if known else "<your-ip>/32"
    lan = operator_network(ip) if known else "<your-lan-cidr>"
    rule_params: dict[str, Any] = {"protocol": protocol}
    if protocol == "tcp":
        rule_params["port"] = 22
    out: list[Remedy] = []
    elsewhere = (facts.get(f"sg_{protocol}{22 if protocol == 'tcp' else ''}") or {}).get("admitting_group") or {}
    if port.get("id") and elsewhere.get("id"):
        # The rule exists, in a group the port is not in: join the port to it.
        out.append(Remedy(
            id=rid + "-join", kind="command", durable=True,
            title=t("Add port {port} to group {group}, which already admits {what} from you", port=port['id'],
                    group=elsewhere.get('name'), what=what),
            explain=t("Group {group} ({id}) already has the rule that admits {what} from {address}, but the "
                      "instance's port is not in it. Adding the port to that group applies the rule; no new rule is "
                      "needed.", group=elsewhere.get('name'), id=elsewhere['id'], what=what,
                      address=ip or t("your address")),
            command=_osc("port", "set", "--security-group", elsewhere["id"], port["id"]),
            actions=[ReversibleCall("add_port_security_group", {"port_id": port["id"],
                                                                "security_group_id": elsewhere["id"]},
                                    t("add {group} to port {port}", group=elsewhere.get('name'), port=port['id']))],
            verify=finding.step))
    if port.get("id"):
        durable_cmds = [
            # Guarded, as apply's ensure_security_group is: Neutron allows duplicate names, and a second
            # group of this name would make the name-based commands below fail.
            _osc("security", "group", "show", DEDICATED_GROUP) + " >/dev/null 2>&1 || "
            + _osc("security", "group", "create", "--description", "SSH and ping from the operator LAN", DEDICATED_GROUP),
            _osc("security", "group", "rule", "create", "--ingress", "--ethertype", "IPv4", "--protocol", protocol,
                 *port_args, "--remote-ip", lan, DEDICATED_GROUP),
            _osc("port", "set", "--security-group", DEDICATED_GROUP, port["id"]),
        ]
        actions = []
        if known:
            actions = [
                ReversibleCall("ensure_security_group", {"name": DEDICATED_GROUP,
                                                    "description": "SSH and ping from the operator LAN"},
                          t("create security group {group} (if missing)", group=DEDICATED_GROUP)),
                ReversibleCall("create_sg_rule", {**rule_params, "remote_ip_prefix": lan,
                                             "security_group_name": DEDICATED_GROUP},
                          t("admit {what} from {source} in {group}", what=what, source=lan, group=DEDICATED_GROUP)),
                ReversibleCall("add_port_security_group", {"port_id": port["id"], "security_group_name": DEDICATED_GROUP},
                          t("add {group} to port {port}", group=DEDICATED_GROUP, port=port['id'])),
            ]
        out.append(Remedy(
            id=rid, kind="command", durable=True,
            title=t("Durable: a dedicated security group admitting {what} from your LAN {lan}", what=what, lan=lan),
            explain=t("Durable: group {group} says what it is for, is added only to the instances you reach "
                      "from outside (here port {port}), and admits {what} from your LAN {lan} only. "
                      "The first line creates the group only if it does not exist yet, so the SSH and the ping "
                      "fixes can both be run. `{add}` does the same for every port of an instance; new instances "
                      "join it at creation with `{create}`.", group=DEDICATED_GROUP, port=port['id'], what=what,
                      lan=lan,
                      add=f"openstack server add security group {quote(server.get('id') or '<server-id>')} "
                          f"{DEDICATED_GROUP}",
                      create="openstack server create --image IMAGE --flavor FLAVOR --network NETWORK "
                             f"--security-group {DEDICATED_GROUP} NAME"),
            command="\n".join(durable_cmds), actions=actions, verify=finding.step,
            warning=None if known else t("Your address is unknown: replace <your-lan-cidr> (or pass --operator-ip).")))
    if group.get("id"):
        quick_actions = []
        if known:
            quick_actions = [ReversibleCall("create_sg_rule", {**rule_params, "remote_ip_prefix": host_prefix,
                                                          "security_group_id": group["id"]},
                                       t("admit {what} from {source} in group {group}", what=what,
                                         source=host_prefix, group=group.get('name')))]
        out.append(Remedy(
            id=rid + "-quick", kind="command", durable=False,
            title=t("Quick: admit {what} from {source} in group {group}", what=what, source=host_prefix,
                    group=group.get('name')),
            explain=t("Quick: one rule in the group the port already has ({group}, {id}). It applies "
                      "to every instance in that group. /32 means only your machine {ip}; 0.0.0.0/0 (the "
                      "default when --remote-ip is left out) would open it to anyone who can reach the floating IP.",
                      group=group.get('name'), id=group['id'], ip=ip or ''),
            command=_osc("security", "group", "rule", "create", "--ingress", "--ethertype", "IPv4", "--protocol",
                         protocol, *port_args, "--remote-ip", host_prefix, group["id"]),
            actions=quick_actions, verify=finding.step,
            lasts=t("Kolla never touches tenant security groups: the rule stays in Neutron's database until someone "
                    "deletes it. It is in no file Kolla or your own automation knows, so a rebuilt cloud will not "
                    "have it: make the durable fix too."),
            warning=None if known else t("Your address is unknown: replace <your-ip> (or pass --operator-ip).")))
    return out


@remedy("sg-allow-ssh", also=("sg-allow-ssh-quick", "sg-allow-ssh-join"), summary="Admit TCP 22 from the operator's address")
def sg_allow_ssh(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return _sg_remedies(ctx, finding, "tcp")


@remedy("sg-allow-icmp", also=("sg-allow-icmp-quick", "sg-allow-icmp-join"), summary="Admit ICMP (ping) from the operator's address")
def sg_allow_icmp(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    return _sg_remedies(ctx, finding, "icmp")


def _user_data_diff() -> str:
    lines = USER_DATA.splitlines()
    return "--- /dev/null\n+++ user-data.yaml\n@@ -0,0 +1,%d @@\n" % len(lines) + "".join(f"+{l}\n" for l in lines)


@remedy("keypair-rebuild", summary="Register your public key and rebuild the instance with it")
def keypair_rebuild(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    server = finding.facts.get("server") or {}
    key_name = "operator-key"
    try:
        taken = {k.get("name") for k in ctx.cloud.keypairs()}
    except WizardError:
        taken = set()
    n = 2
    while key_name in taken:
        key_name, n = f"operator-key-{n}", n + 1
    commands = [
        _osc("keypair", "create", "--public-key", "~/.ssh/id_ed25519.pub", key_name).replace("'~/.ssh/id_ed25519.pub'", "~/.ssh/id_ed25519.pub"),
        _osc("server", "rebuild", "--key-name", key_name, server.get("id") or "<server-id>"),
    ]
    return [Remedy(
        id="keypair-rebuild", kind="command", durable=True,
        title=t("Register your public key as {key} and rebuild {server} with it", key=key_name,
                server=server.get('name')),
        explain=t("Durable: key login is what cloud images expect. Create the key first if you have none "
                  "(ssh-keygen -t ed25519). Rebuild re-runs cloud-init with the key (Nova API 2.54+); or create a new "
                  "instance with --key-name {key}.", key=key_name),
        command="\n".join(commands),
        warning=t("Rebuild re-images the root disk: data on it is lost."))]


@remedy("password-user-data", summary="Boot with cloud-init user-data that sets a password and enables password SSH")
def password_user_data(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    server = finding.facts.get("server") or {}
    net = finding.facts.get("network") or {}
    image = server.get("image_id") or "<image-id>"
    name = f"{server.get('name') or 'instance'}-pw"
    command = _osc("server", "create", "--image", image, "--flavor", "<flavor>", "--network",
                   net.get("id") or "<network-id>", "--user-data", "./user-data.yaml", name)
    return [Remedy(
        id="password-user-data", kind="command", durable=False,
        title=t("Quick: a password for the image's user through cloud-init user-data"),
        explain=(t("Quick, less safe: save this as ./user-data.yaml (the `password` sets the default user's "
                   "password, e.g. rocky; `expire: false` skips the forced change; `ssh_pwauth: true` turns password "
                   "SSH on), choose your own password, then create the instance with it:") + "\n\n" + USER_DATA),
        command=command, path="./user-data.yaml", diff=_user_data_diff(),
        warning=t("Password SSH invites brute force from anything that reaches port 22; prefer a key pair and keep "
                  "the security group to your own address."))]


def _metadata_hosts(ctx: ProbeContext) -> dict[str, list[str]]:
    """Which hosts run which metadata-path agents, and which of those are dead."""
    out: dict[str, list[str]] = {"hosts": [], "dead": []}
    try:
        for a in ctx.cloud.agents():
            if a.get("agent_type") in ("Metadata agent", "DHCP agent", "L3 agent"):
                if a.get("host") not in out["hosts"]:
                    out["hosts"].append(a.get("host"))
                if not a.get("is_alive", a.get("alive", True)):
                    out["dead"].append(f"{a.get('host')}:{a.get('binary')}")
    except WizardError:
        pass
    return out


@remedy("metadata-repair", also=("metadata-config-drive",), summary="Bring the metadata path back, or boot with a config drive")
def metadata_repair(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    server = finding.facts.get("server") or {}
    net = finding.facts.get("network") or {}
    found = _metadata_hosts(ctx)
    out: list[Remedy] = []
    for item in found["dead"]:
        host, binary = item.split(":", 1)
        container = binary.replace("-", "_")
        out.append(Remedy(
            id="metadata-repair" if not out else f"metadata-repair-{len(out) + 1}", kind="command", durable=True,
            title=t("Start {container} on {host}", container=container, host=host),
            explain=t("Durable: Neutron reports {binary} on {host} as dead. Metadata reaches the instance through "
                      "haproxy in qdhcp-<network> (Kolla forces it there) or in qrouter-<router>, then the metadata "
                      "agent, then nova's metadata API. Start the container, read its log for why it stopped, then "
                      "reboot the instance ({command}) so cloud-init tries again.", binary=binary, host=host,
                      command=f"openstack server reboot {server.get('id')}"),
            command=as_root([engine_for(ctx, host), "start", container]) + "\n"
            + as_root([engine_for(ctx, host), "logs", "--tail", "50", container]),
            host=host, actions=[NodeCommand(host, [engine_for(ctx, host), "start", container],
                                            sudo=become_for(ctx, host), timeout=60)],
            verify_after=t("cloud-init asks the metadata service only at boot, so the console still shows the "
                           "first boot's failure: reboot the instance ({command}), then run the diagnosis again",
                           command=f"openstack server reboot {server.get('id') or '<server>'}")))
    if not out:
        hosts = found["hosts"] or ["<network-node>"]
        # kolla_container_engine of that host (podman or docker), never a hard-coded docker.
        engine = engine_for(ctx, hosts[0]) if found["hosts"] else _deploy_engine(ctx)
        out.append(Remedy(
            id="metadata-repair", kind="command", durable=True,
            title=t("Check the metadata path on the network node"),
            explain=t("Durable: find the broken link. The agents look alive, so check the containers and (2025.2+) the "
                      "haproxy/dnsmasq wrapper containers per namespace, and that the subnet has DHCP enabled "
                      "(Kolla serves metadata from qdhcp-<network>)."),
            command="\n".join([
                as_root([engine, "ps", "-a", "--filter", "name=neutron_metadata_agent", "--filter",
                      "name=neutron_dhcp_agent", "--filter", "name=neutron_l3_agent"]),
                as_root([engine, "ps", "-a", "--filter", "name=neutron_l3_agent_haproxy_", "--filter",
                      "name=neutron_dhcp_agent_haproxy_", "--filter", "name=neutron_dhcp_agent_dnsmasq_"]),
                as_root(["tail", "-n", "50", "/var/log/kolla/neutron/neutron-metadata-agent.log"]),
            ]),
            host=hosts[0]))
    out.append(Remedy(
        id="metadata-config-drive", kind="command", durable=False,
        title=t("Workaround: boot with a config drive"),
        explain=t("Quick: a config drive hands the key and user-data to cloud-init on a disk, bypassing "
                  "169.254.169.254; it also tells a metadata-path fault from an image or credential fault."),
        command=_osc("server", "create", "--use-config-drive", "--image", server.get("image_id") or "<image-id>",
                     "--flavor", "<flavor>", "--network", net.get("id") or "<network-id>",
                     *(["--key-name", server["key_name"]] if server.get("key_name") else []),
                     f"{server.get('name') or 'instance'}-cd")))
    return out


def _deploy_engine(ctx: ProbeContext) -> str:
    """kolla_container_engine as globals.yml (or Kolla's default) sets it, for a host not known yet."""
    from ..readings import nodes as _nodeio
    model = _nodeio.kolla_or_none(ctx)
    hosts = list(getattr(model, "hosts", []) or []) if model is not None else []
    return engine_for(ctx, hosts[0]) if hosts else "docker"


@remedy("login-user", summary="Log in as the image's default user")
def login_user(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    login = finding.facts.get("login") or {}
    address = finding.facts.get("address") or "<address>"
    return [Remedy(
        id="login-user", kind="command", durable=True, title=t("Log in as {user}", user=login.get('user')),
        explain=t("cloud-init installed your key for {user} ({source}). Use sudo for root "
                  "work; root login stays disabled on cloud images.", user=login.get('user'), source=login.get('from')),
        command=f"ssh {quote(login.get('user') or 'USER')}@{quote(address)}")]


@remedy("instance-not-active", summary="Find out why the instance is not ACTIVE")
def instance_not_active(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    server = finding.facts.get("server") or {}
    sid = server.get("id") or "<server-id>"
    status = server.get("status")
    if status == "SHUTOFF":
        return [Remedy(id="instance-not-active", kind="command", durable=True,
                       title=t("Start {server}", server=server.get('name')),
                       explain=t("The instance is stopped; start it and wait for ACTIVE."),
                       command=_osc("server", "start", sid))]
    return [Remedy(
        id="instance-not-active", kind="command", durable=True, title=t("Read {server}'s fault", server=server.get('name')),
        explain=t("The instance never became ACTIVE. If the fault says 'Exceeded maximum number of retries', run "
                  "{command}.", command="kolla-wizard diagnose --symptom max-retries --server " + quote(sid)),
        command=_osc("server", "show", sid, "-f", "json", "-c", "status", "-c", "fault"))]
