"""guardwire works offline: nothing connects anywhere but loopback (see conftest)."""

from __future__ import annotations

import socket

import pytest

import guard


def test_network_guard_is_active() -> None:
    with pytest.raises(OSError, match="must work offline"), socket.socket() as sock:
        sock.connect(("192.0.2.1", 80))


def test_engine_proxy_app_and_transport_import_and_run_offline() -> None:
    from prometheus_client import CollectorRegistry

    from guard.proxy.app import ProxyApp
    from guard.proxy.config import load_config

    engine = guard.Guard(registry=CollectorRegistry())
    assert engine.check_input("hello").action is guard.Action.ALLOW
    ProxyApp(load_config(None, env={}), registry=CollectorRegistry())
    guard.transport(guard=engine)
