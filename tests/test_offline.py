"""guardwire works offline: nothing connects anywhere but loopback (see conftest)."""

from __future__ import annotations

import logging
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


def test_pii_check_runs_offline_and_validates_emails_without_fetching(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Presidio's e-mail validation uses tldextract, which fetches the public-suffix list
    on first use; the pii check makes it use the bundled snapshot (conftest fails any
    outbound connection, so a fetch would fail this test)."""
    import tldextract.tldextract as module
    from prometheus_client import CollectorRegistry

    engine = guard.Guard("strict", registry=CollectorRegistry())
    with caplog.at_level(logging.DEBUG, logger="tldextract"):
        decision = engine.check_input(
            "mail maria.lopez@mail.example.co.uk, card 4111 1111 1111 1111"
        )
    # tldextract logs every failed fetch of the suffix list; none was even tried.
    assert not [r for r in caplog.records if r.name.startswith("tldextract")]
    assert decision.text == "mail <EMAIL_ADDRESS>, card <CREDIT_CARD>"
    assert module.TLD_EXTRACTOR.suffix_list_urls == ()
    assert getattr(module.TLD_EXTRACTOR, "_guardwire_offline", False)
