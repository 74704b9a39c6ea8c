"""Shared fixtures: policies built from YAML snippets, isolated metric registries."""

from __future__ import annotations

import ipaddress
import socket
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy


def _loopback_only(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host in ("localhost", ""):
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise OSError(f"test tried to reach {host!r}: guardwire must work offline")


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Fail any connection to a non-loopback address (nothing may fetch lazily)."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _loopback_only(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _loopback_only(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry, so metric assertions do not see other tests' traffic."""
    return CollectorRegistry()


@pytest.fixture
def make_guard(registry: CollectorRegistry) -> Callable[..., Guard]:
    """Build a Guard from a YAML policy snippet (dedented) on the test's registry."""

    def build(policy_yaml: str | None = None, **kwargs: object) -> Guard:
        policy = None if policy_yaml is None else Policy.from_yaml(textwrap.dedent(policy_yaml))
        return Guard(policy, registry=registry, **kwargs)  # type: ignore[arg-type]

    return build


# End-to-end fixtures (proxy servers, fake upstream) are shared by tests/e2e and the
# examples test.
from tests.e2e.fixtures import (  # noqa: E402
    demo_proxy,
    fake_upstream,
    proxy_of,
    start_proxy,
    upstream_proxy,
)

__all__ = ["demo_proxy", "fake_upstream", "proxy_of", "start_proxy", "upstream_proxy"]
