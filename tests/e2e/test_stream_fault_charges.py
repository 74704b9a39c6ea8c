"""What a stream that the upstream broke is charged, through the official SDKs, the
proxy and the transport.

A 200 whose body is not the API's stream (an HTML error page, say) shows no sign that a
model ran: it is charged nothing, as the same body is for a complete call (a 502,
released). A stream cut after some of its text is charged what was counted (the input
bound and the streamed text), not the whole reservation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anthropic
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.probe3._upstream import Faulty, call, frontend_for
from tests.probe3._upstream import shared_upstream as shared_upstream  # a fixture
from tests.probe3._upstream import upstream as upstream  # a fixture

APIS = ("chat", "responses", "messages")


def _spent(upstream: Faulty, fault: str, frontend: str, api: str, tmp_path: Path,
           start_proxy: Callable[..., ProxyServer]) -> int:  # fmt: skip
    upstream.fault = fault
    tmp_path.mkdir(exist_ok=True)
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy)
    if fault == "gzip":  # the whole stream (gzipped), with its usage
        call(clients, api, stream=True)
    else:
        with pytest.raises((openai.APIError, anthropic.APIError)):  # the error event
            call(clients, api, stream=True)
    reserved, spent = clients.settled(calls=1)
    assert reserved == 0
    return spent


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
@pytest.mark.parametrize("api", APIS)
def test_a_stream_after_a_garbage_200_is_charged_nothing(
    upstream: Faulty, start_proxy: Callable[..., ProxyServer], tmp_path: Path,
    frontend: str, api: str,
) -> None:  # fmt: skip
    assert _spent(upstream, "not_json", frontend, api, tmp_path, start_proxy) == 0


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
@pytest.mark.parametrize("api", ["chat", "messages"])
def test_a_stream_cut_mid_text_is_charged_what_was_counted_not_the_reservation(
    upstream: Faulty, start_proxy: Callable[..., ProxyServer], tmp_path: Path,
    frontend: str, api: str,
) -> None:  # fmt: skip
    whole = _spent(upstream, "gzip", frontend, api, tmp_path / "ok", start_proxy)
    cut = _spent(upstream, "reset_mid_body", frontend, api, tmp_path / "cut", start_proxy)
    # The whole stream reports usage (12 in, 6 out); the cut one is charged its input
    # bound and the text it streamed: a few times that at most, never the reservation
    # (thousands of output tokens).
    assert 0 < cut < 10 * whole, (cut, whole)


def test_a_buffered_stream_cut_mid_text_is_still_charged(upstream: Faulty) -> None:
    """In buffer mode nothing is metered while the stream passes: the text read so far
    (``CallEnd.streamed_characters``) is what shows that a model ran."""
    import time

    import httpx2
    from prometheus_client import CollectorRegistry

    import guard
    from guard.checks._windows import counter_key, scope_value, window_bounds
    from tests.probe3._upstream import BUDGET_POLICY

    upstream.fault = "reset_mid_body"
    policy = guard.Policy.from_yaml("stream: {mode: buffer}\n" + BUDGET_POLICY)
    engine = guard.Guard(policy, registry=CollectorRegistry(), store="memory://")
    client = openai.OpenAI(
        base_url=upstream.url + "/v1", api_key="k", max_retries=0,
        http_client=httpx2.Client(transport=engine.transport(), timeout=5),
    )  # fmt: skip
    with pytest.raises(openai.APIError):
        chunks = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        list(chunks)
    window, _ = window_bounds("day", time.time(), None)
    key = counter_key("daily", scope_value(None), window, "usd")
    store = engine.store.sync
    assert store.reserved(key) == 0
    assert store.get(key) > 0
