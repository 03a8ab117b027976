"""``rabbitmqctl cluster_status`` as RabbitMQ 4.1 prints it (the series Kolla's rabbitmq image
installs: rabbitmq-server-4.1.*), from deps/rabbitmq_cli/.../cluster_status_command.ex: a banner
"Cluster status of node rabbit@<host> ...", then sections "Basics", "Disk Nodes", "Running Nodes",
..., "Network Partitions" with "(none)" or "Node <n> cannot communicate with <a>, <b>" lines.
Kolla names nodes rabbit@<hostname> (rabbitmq-env.conf.j2 RABBITMQ_NODENAME)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..i18n import t

CONTAINER = "rabbitmq"
# rabbitmqctl boots an Erlang VM and asks the broker over its distribution port: seconds on an idle
# controller, far more on a busy one (a broker with thousands of queues, a loaded 2-core node). Each
# call gets this bound instead of the transport's 15 s default, under the engine's 60 s per probe.
CTL_TIMEOUT = 45.0
SECTIONS = ("Basics", "Cluster Tags", "Disk Nodes", "RAM Nodes", "Running Nodes", "Versions", "CPU Cores",
            "Maintenance status", "Alarms", "Network Partitions", "Listeners", "Feature flags")
PARTITION_RE = re.compile(r"^Node (\S+) cannot communicate with (.+)$")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class ClusterStatus:
    node: str = ""
    disk_nodes: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    partitions: dict[str, list[str]] = field(default_factory=dict)


def host_of(node_name: str) -> str:
    return node_name.split("@", 1)[-1]


def partitions_text(partitions: dict[str, list[str]]) -> str:
    return "; ".join(t("{node} cannot communicate with {peers}", node=k, peers=', '.join(v)) for k, v in partitions.items())


def parse_cluster_status(text: str) -> ClusterStatus:
    status = ClusterStatus()
    section = ""
    for raw in ANSI_RE.sub("", text).splitlines():
        line = raw.strip()
        if line.startswith("Cluster status of node "):
            status.node = line[len("Cluster status of node "):].removesuffix(" ...").strip()
            continue
        if line in SECTIONS:
            section = line
            continue
        if not line or line == "(none)":
            continue
        if section == "Disk Nodes":
            status.disk_nodes.append(line)
        elif section == "Running Nodes":
            status.running.append(line)
        elif section == "Network Partitions":
            match = PARTITION_RE.match(line)
            if match:
                status.partitions[match.group(1)] = [p.strip() for p in match.group(2).split(",") if p.strip()]
    return status
