"""The embedded lab: a simulated Kolla-Ansible homelab on 127.0.0.1 (HTTP APIs + SSH nodes).

Never imports other ``wizard.*`` modules: it is an independent reading of OpenStack and Kolla."""
from .lab import CLOUD_NAME, Lab
from .scenario import list_scenarios, load_scenario
from .yamlpos import ScenarioError

__all__ = ["CLOUD_NAME", "Lab", "ScenarioError", "list_scenarios", "load_scenario"]
