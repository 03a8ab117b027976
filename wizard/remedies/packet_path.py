"""Remedies for the unreachable instance, durable first (Kolla's way, through kolla-ansible),
quick second (on the node, now). Kolla containers are systemd units since kolla-ansible 16.0.0
(2023.1): ``kolla-<container>-container.service``, StartLimitBurst 10, so a crash loop ends in a
failed unit that needs ``systemctl reset-failed`` before ``restart`` (kolla-facts §9). Kolla has
no variable for Neutron's MTU: global_physnet_mtu and path_mtu go in /etc/kolla/config overrides."""
from __future__ import annotations

from typing import Any

from ..probe_context import ProbeContext
from ..findings import Finding, Remedy
from ..kolla.release import Release
from .provider_networks import engine_for, model_or_none, reconfigure_command
from .quoting import join, quote
from .registry import remedy
from ..i18n import t

SYSTEMD_SINCE = Release.parse("2023.1")    # kolla-ansible 16.0.0


def _uses_systemd(ctx: ProbeContext) -> bool:
    release = getattr(model_or_none(ctx), "release", None)
    return release is None or not SYSTEMD_SINCE or release >= SYSTEMD_SINCE


def _restart_lines(ctx: ProbeContext, host: str, container: str) -> list[str]:
    engine = engine_for(ctx, host)
    if _uses_systemd(ctx):
        unit = f"kolla-{container}-container.service"
        return [f"sudo systemctl reset-failed {unit}", f"sudo systemctl restart {unit}",
                f"sudo {engine} logs --tail 50 {container}"]
    return [f"sudo {engine} start {container}", f"sudo {engine} logs --tail 50 {container}"]


@remedy("restart-neutron-agent", also=("restart-neutron-agent-now",),
        summary="Bring a stopped or crash-looping Neutron agent back (Kolla deploy of neutron; systemd unit now)")
def restart_neutron_agent(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    facts = finding.facts
    agent = facts.get("agent") or {}
    container = agent.get("container") or ("neutron_dhcp_agent" if "dhcp" in finding.id else "neutron_l3_agent")
    kind = agent.get("kind") or container
    host = finding.host or facts.get("host")
    if not host:
        return []
    deploy = reconfigure_command(ctx, None, "neutron")
    deploy[deploy.index("reconfigure")] = "deploy"
    log = "/var/log/kolla/neutron/" + container.replace("_", "-") + ".log"
    after = (t(" Then reboot the instance (openstack server reboot) so the guest asks DHCP again.")
             if "dhcp" in finding.id else "")
    return [
        Remedy(id="restart-neutron-agent", kind="command", durable=True,
               title=t("Let Kolla bring {container} on {host} back (deploy -t neutron)", container=container, host=host),
               explain=(t("Kolla's neutron role starts every neutron container that is not running (its "
                          "check-containers handler compares the container's state). Read why the {kind} stopped "
                          "first: {log} on {host}.", kind=kind, log=log, host=host) + after),
               command=join(deploy), host=None),
        Remedy(id="restart-neutron-agent-now", kind="command", durable=False,
               title=t("Restart {container} on {host} now", container=container, host=host),
               explain=(t("Kolla runs each container as a systemd unit since kolla-ansible 16.0.0; a unit that "
                          "crash-looped 10 times is failed until reset.") if _uses_systemd(ctx) else
                        t("Before kolla-ansible 16.0.0 the containers are started by the engine directly."))
               + t(" The agent rebuilds the router's namespace, NAT and dnsmasq on start (full sync).") + after,
               command="\n".join(_restart_lines(ctx, host, container)), host=host),
    ]


@remedy("router-add-to-agent", summary="Schedule the router to an alive L3 agent")
def router_add_to_agent(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    router = (finding.facts.get("router") or {}).get("id")
    if not router:
        return []
    return [Remedy(id="router-add-to-agent", kind="command", durable=True,
                   title=t("Schedule the router to an alive L3 agent"),
                   explain=t("Pick an alive L3 agent from the list and add the router to it."),
                   command=f"openstack network agent list --agent-type l3 --long\n"
                           f"openstack network agent add router --l3 <alive-l3-agent-id> {quote(router)}")]


@remedy("plug-external-interface", also=("plug-external-interface-now",),
        summary="Give br-ex its uplink: a NIC that exists, through Kolla's neutron_external_interface")
def plug_external_interface(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    up = finding.facts.get("uplink") or {}
    host, nic = up.get("host") or finding.host, up.get("nic")
    if not host or not nic:
        return []
    engine = engine_for(ctx, host)
    reconf = reconfigure_command(ctx, None, "openvswitch,neutron")
    return [
        Remedy(id="plug-external-interface", kind="command", durable=True,
               title=t("Set neutron_external_interface to a spare NIC of {host} and reconfigure "
                       "openvswitch,neutron", host=host),
               explain=(t("neutron_external_interface is {nic} ({where}). Set it in /etc/kolla/globals.yml (or as a "
                          "host var in the inventory when hosts differ) to a NIC that exists on the host, is up and "
                          "carries no address (on a single NIC: one end of a veth pair whose peer sits in the Linux "
                          "bridge holding the host's address), then let Kolla's openvswitch role plug it into br-ex.", nic=nic, where=up.get('where') or t("Kolla default"))),
               command=join(reconf), host=None),
        Remedy(id="plug-external-interface-now", kind="command", durable=False,
               title=t("Plug {nic} into br-ex on {host} now", nic=nic, host=host),
               explain=t("Only if the NIC exists and carries no address; Kolla's next deploy does the same."),
               command=f"sudo ip link set {quote(nic)} up\n"
                       f"sudo {engine} exec openvswitch_vswitchd ovs-vsctl --may-exist add-port br-ex {quote(nic)}",
               host=host),
    ]


@remedy("external-nic-address", summary="Move the host's address off Kolla's external NIC (veth pair + Linux bridge)")
def external_nic_address(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    up = finding.facts.get("uplink") or {}
    host, nic, address = up.get("host") or finding.host, up.get("nic"), up.get("address")
    if not host or not nic:
        return []
    return [Remedy(
        id="external-nic-address", kind="command", durable=True,
        title=t("Take {address} off {nic} on {host}; keep the host's address on a Linux bridge", address=address, nic=nic, host=host),
        explain=(t("{nic} is a port of br-ex, so its own address is unusable (Kolla's globals.yml sample: \"It "
                   "is recommended this interface not be configured with any IP addresses\"). Remove the "
                   "address from the NIC's NetworkManager profile; on a single NIC put the host's address on "
                   "a Linux bridge (br0) with the physical NIC and veth0, and use veth1 as "
                   "neutron_external_interface. Do it from the console: if you SSH in on this address you "
                   "lose the session.", nic=nic)),
        warning=t("If {address} is the address you reach {host} on, this cuts your SSH session.", address=address, host=host),
        command=f"sudo nmcli -f NAME,DEVICE connection show\nsudo ip addr del {quote(address)} dev {quote(nic)}",
        host=host)]


@remedy("fip-pool-outside-dhcp", summary="Keep the floating IP pool out of the home router's DHCP range")
def fip_pool_outside_dhcp(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    facts = finding.facts
    address = facts.get("address")
    fip = (facts.get("fip") or {}).get("id")
    lan = facts.get("lan") or {}
    pool = ", ".join(lan.get("pool") or []) or t("the floating pool")
    subnet = lan.get("subnet") or "<external-subnet>"
    network = lan.get("network") or "public1"
    return [
        Remedy(id="fip-pool-outside-dhcp", kind="command", durable=True,
               title=t("Shrink the floating pool (or the home router's DHCP pool) so they no longer overlap"),
               explain=(t("The floating pool is {pool}. Choose a range the home router never hands out (or shrink "
                          "its DHCP pool in its admin page), then set the subnet's allocation pool to it.", pool=pool)),
               command=f"openstack subnet set --no-allocation-pool --allocation-pool start=FIRST,end=LAST {quote(subnet)}"),
        Remedy(id="fip-pool-outside-dhcp-2", kind="command", durable=False,
               title=t("Give the instance another floating IP than {address}", address=address),
               explain=t("A new address from the pool, one no LAN machine holds (check with ping first)."),
               command=(f"openstack floating ip delete {quote(fip)}\n" if fip else "")
               + f"openstack floating ip create --port {quote((facts.get('port') or {}).get('id'))} {quote(network)}"),
    ]


@remedy("instance-port-check", summary="Look at the port's binding and the compute's OVS agent")
def instance_port_check(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    port = (finding.facts.get("port") or {}).get("id")
    return [Remedy(id="instance-port-check", kind="command", durable=True,
                   title=t("Read the port's binding and the OVS agent on its host"),
                   explain=t("A port stays DOWN when the OVS agent on its compute is dead or cannot wire it; the "
                             "max-retries tree diagnoses that agent."),
                   command=f"openstack port show {quote(port)} -c status -c binding_host_id -c binding_vif_type\n"
                           "openstack network agent list --agent-type open-vswitch --long")]


@remedy("mtu-match-path", also=("mtu-match-path-network",),
        summary="Make Neutron's MTU match the path: Kolla overrides + reconfigure, and the network's MTU now")
def mtu_match_path(ctx: ProbeContext, finding: Finding) -> list[Remedy]:
    mtu = finding.facts.get("mtu") or {}
    underlay, path, name = mtu.get("underlay"), mtu.get("path"), mtu.get("network_name")
    if not underlay or not path:
        return []
    model = model_or_none(ctx)
    config_dir = getattr(getattr(ctx, "settings", None), "kolla_config_dir", "/etc/kolla") or "/etc/kolla"
    del model
    reconf = reconfigure_command(ctx, None, "neutron")
    return [
        Remedy(id="mtu-match-path", kind="command", durable=True,
               title=t("Tell Neutron the underlay MTU is {underlay} (Kolla overrides) and reconfigure neutron", underlay=underlay),
               explain=(t("Kolla has no MTU variable; Neutron's global_physnet_mtu and [ml2] path_mtu are set in "
                          "{config_dir}/config/neutron.conf and {config_dir}/config/neutron/ml2_conf.ini (merged "
                          "into every neutron service's file). New networks then get {underlay} - 50 = {value} on "
                          "VXLAN. Existing networks keep their MTU: set it too (the per-network fix).", config_dir=config_dir, underlay=underlay, value=underlay - 50)),
               command=(f"printf '[DEFAULT]\\nglobal_physnet_mtu = {underlay}\\n' | sudo tee -a {config_dir}/config/neutron.conf\n"
                        f"printf '[ml2]\\npath_mtu = {underlay}\\n' | sudo tee -a {config_dir}/config/neutron/ml2_conf.ini\n"
                        + join(reconf))),
        Remedy(id="mtu-match-path-network", kind="command", durable=False,
               title=t("Set network {name}'s MTU to {path} now", name=name, path=path),
               explain=(t("Neutron's net-mtu-writable: the new MTU reaches the guest with its next DHCP lease "
                          "(reboot the instance or renew its lease).")),
               command=f"openstack network set --mtu {path} {quote(name)}"),
    ]
