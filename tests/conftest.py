"""Suite-wide guards.

Network hygiene: tests, the lab and the demo only ever connect to 127.0.0.0/8. The lab's
192.168.35.x and 10.x addresses are data inside the lab. This guard makes any attempt to dial
anything else fail loudly instead of sending a packet off the machine."""
from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# The expected view comes from kolla-ansible's templates wherever kolla-ansible is installed; the
# suite's golden files and scenario expectations must not depend on the machine that runs them.
# Tests of the oracle pass its prefix explicitly (or set this variable themselves).
os.environ.setdefault("KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX", "off")
# The suite expects English unless a test asks for Korean itself (--lang ko, LANG=ko_KR.UTF-8): a
# developer's Korean locale must not change what the other tests read.
for _name in ("LC_ALL", "LC_MESSAGES", "LANG"):
    if os.environ.get(_name, "").lower().startswith("ko"):
        os.environ[_name] = "C.UTF-8"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(address) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host in ("localhost",):
                return
            raise AssertionError(f"test tried to connect to non-loopback host {host!r}") from None
        if not ip.is_loopback:
            raise AssertionError(f"test tried to connect to non-loopback address {host}")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def english_after_each_test():
    """A test that switched the language (main(["--lang", "ko", ...]), the TUI's switch) leaves
    the process in English for the next one."""
    yield
    from wizard import i18n
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.fixture(autouse=True, scope="session")
def loopback_only():
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
