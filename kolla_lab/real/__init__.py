"""The real tier's lab backend: real Keystone and Neutron, kolla-ansible's own templates.
Imports nothing outside kolla_lab."""
from .lab import RealLab, start_real_lab
from .venvs import RealTierUnavailable

__all__ = ["RealLab", "RealTierUnavailable", "start_real_lab"]
