"""The Kolla configuration model: inventory, variable precedence with reasons, overrides, and
what Kolla would render for each host."""
from .cli_syntax import reconfigure_argv
from .ini import parse_bridge_mappings, parse_ini
from .inventory import Inventory, parse_inventory
from .model import KollaModel
from .reader import DictReader
from .release import Release
from .render import ExpectedOvs
from .variables import Resolution, Source

__all__ = ["DictReader", "ExpectedOvs", "Inventory", "KollaModel", "Release", "Resolution", "Source",
           "parse_bridge_mappings", "parse_ini", "parse_inventory", "reconfigure_argv"]
