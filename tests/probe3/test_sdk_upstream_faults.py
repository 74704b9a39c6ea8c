"""Upstream faults, seen through the official SDKs: proxy and transport, the three APIs,
complete and streamed.

Each fault (a timeout, a reset before or in the middle of the body, 429 / 500 / 503, a
200 that is not JSON or is cut short, a stream without its final event) must reach the
SDK as a readable error of the API's own kind (the class the SDK raises for it), be
counted once as ``upstream_error``, leave nothing of the budget reserved (and charge
nothing when no reply came), and never put the request's text into a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.probe3._upstream import (
    BUDGET_POLICY,
    MARKER,
    Faulty,
    call,
    frontend_for,
)
from tests.probe3._upstream import shared_upstream as shared_upstream  # a fixture
from tests.probe3._upstream import upstream as upstream  # a fixture

APIS = ("chat", "responses", "messages")
#: What the SDK sees for each fault: a status (an API error of that status), ``timeout``
#: or ``connection`` (the SDK's own exception for them), or ``event`` (a stream that
#: started ends with the API's error event, which the SDK raises).
EXPECTED: dict[tuple[str, str, bool], int | str] = {}
for _stream in (False, True):
    EXPECTED |= {
        ("status_429_retry_after", "proxy", _stream): 429,
        ("status_429_retry_after", "transport", _stream): 429,
        ("read_timeout", "proxy", _stream): 504,
        ("read_timeout", "transport", _stream): "timeout",
        ("reset_before", "proxy", _stream): 502,
        ("reset_before", "transport", _stream): "connection",
    }
for _frontend in ("proxy", "transport"):
    EXPECTED |= {
        ("reset_mid_body", _frontend, False): 502 if _frontend == "proxy" else "connection",
        ("reset_mid_body", _frontend, True): "event",
        # A 200 whose body is not the API's reply is the upstream's fault: a 502, as the
        # proxy answers (the transport raised guardwire's own UpstreamError before).
        ("not_json", _frontend, False): 502,
        ("not_json", _frontend, True): "event",
        ("truncated_json", _frontend, False): 502,
        ("no_final_event", _frontend, True): "event",
    }
#: Faults after which no model reply exists: nothing may be charged.
NOTHING_CHARGED = {"status_429_retry_after", "reset_before"}
#: Faults the three APIs meet on the same path (before any reply is read): two APIs, one
#: of each family, keep the set fast.
BEFORE_THE_REPLY = {"status_429_retry_after", "reset_before", "read_timeout"}
CASES = [
    pytest.param(fault, frontend, api, stream, id=f"{fault}-{frontend}-{api}-{'stream' if stream else 'complete'}")
    for (fault, frontend, stream) in EXPECTED
    for api in (("chat", "messages") if fault in BEFORE_THE_REPLY else APIS)
]  # fmt: skip


def _raised(exc: Exception, expected: int | str) -> None:
    if isinstance(expected, int):
        assert isinstance(exc, openai.APIStatusError | anthropic.APIStatusError), repr(exc)
        assert exc.status_code == expected, repr(exc)
    elif expected == "timeout":
        assert isinstance(exc, openai.APITimeoutError | anthropic.APITimeoutError), repr(exc)
    elif expected == "connection":
        assert isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError), repr(exc)
    else:
        # An error event: the SDK's own API error (not a connection error), readable.
        assert isinstance(exc, openai.APIError | anthropic.APIError), repr(exc)
        assert not isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError)
        assert "upstream" in str(exc), str(exc)


@pytest.mark.parametrize(("fault", "frontend", "api", "stream"), CASES)
def test_an_upstream_fault_reaches_the_sdk_as_its_own_error(
    upstream: Faulty,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    frontend: str,
    api: str,
    stream: bool,
) -> None:
    upstream.fault = fault
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy)
    with (
        caplog.at_level(logging.DEBUG, logger="guard"),
        caplog.at_level(logging.DEBUG, logger="guardwire"),
        pytest.raises(Exception) as raised,
    ):
        call(clients, api, stream)
    _raised(raised.value, EXPECTED[fault, frontend, stream])
    assert len(upstream.bodies) == 1  # max_retries=0: one request, never re-sent by us
    reserved, spent = clients.settled(calls=1)
    assert clients.calls() == {"upstream_error": 1.0}
    assert reserved == 0
    if fault in NOTHING_CHARGED or fault == "not_json" or (fault.endswith("json") and not stream):
        assert spent == 0
    assert not [r for r in caplog.records if MARKER in r.getMessage()]


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
@pytest.mark.parametrize("api", APIS)
def test_an_upstream_that_says_do_not_retry_is_not_retried(
    upstream: Faulty,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
    frontend: str,
    api: str,
) -> None:
    """``x-should-retry: false`` on a 500 stops the SDKs' retries; the proxy dropped the
    header, so each SDK sent the same call three times through it (once directly)."""
    upstream.fault = "status_500_no_retry"
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy, retries=2)
    with pytest.raises((openai.InternalServerError, anthropic.InternalServerError)):
        call(clients, api, stream=False)
    assert len(upstream.bodies) == 1


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_retry_after_429_is_retried_and_counted_per_attempt(
    upstream: Faulty, start_proxy: Callable[..., ProxyServer], tmp_path: Path, frontend: str
) -> None:
    upstream.fault = "status_429_retry_after"
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy, retries=1)
    with pytest.raises(openai.RateLimitError):
        call(clients, "chat", stream=False)
    assert len(upstream.bodies) == 2
    assert clients.settled(calls=2) == (0, 0)
    assert clients.calls() == {"upstream_error": 2.0}


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
@pytest.mark.parametrize("api", ["chat", "messages"])
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_a_gzip_reply_reads_as_the_plain_one(
    upstream: Faulty,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
    frontend: str,
    api: str,
    stream: bool,
) -> None:
    upstream.fault = "gzip"
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy)
    assert call(clients, api, stream) == "alpha beta gamma delta"
    assert clients.settled(calls=1)[0] == 0


@pytest.mark.parametrize("api", ["chat", "messages"])
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_a_slow_loris_upstream_is_cut_by_the_proxy(
    upstream: Faulty,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
    api: str,
    stream: bool,
) -> None:
    """One byte every 0.25 s keeps each socket read within the read timeout (1 s), but no
    event ever completes in time: a complete reply ends at ``timeouts.total`` (2 s) with a
    504, a stream after the read timeout with the API's error event. Before, a stream
    waited for the whole trickle (minutes), until the client's own timeout (10 s here)."""
    upstream.fault = "slow_loris"
    clients = frontend_for("proxy", upstream.url, tmp_path, start_proxy)
    with pytest.raises((openai.APIError, anthropic.APIError)) as raised:
        call(clients, api, stream)
    assert not isinstance(raised.value, openai.APITimeoutError | anthropic.APITimeoutError)
    assert "in time" in str(raised.value)
    assert clients.settled(calls=1)[0] == 0


@pytest.mark.parametrize("fault", ["not_json", "truncated_json"])
def test_the_async_transport_answers_a_broken_reply_with_a_502(
    upstream: Faulty, tmp_path: Path, fault: str
) -> None:
    upstream.fault = fault
    policy = tmp_path / "faults.yaml"
    policy.write_text(BUDGET_POLICY)
    engine = guard.Guard(policy, registry=CollectorRegistry(), store="memory://")

    async def ask() -> None:
        http = httpx2.AsyncClient(transport=engine.async_transport())
        oai = openai.AsyncOpenAI(base_url=upstream.url + "/v1", api_key="k", max_retries=0,
                                 http_client=http)  # fmt: skip
        ant = anthropic.AsyncAnthropic(base_url=upstream.url, api_key="k", max_retries=0,
                                       http_client=http)  # fmt: skip
        prompt: Any = [{"role": "user", "content": "hi"}]
        with pytest.raises(openai.InternalServerError) as chat:
            await oai.chat.completions.create(model="gpt-4o-mini", messages=prompt)
        with pytest.raises(anthropic.InternalServerError) as messages:
            await ant.messages.create(model="gpt-4o-mini", max_tokens=9, messages=prompt)
        assert chat.value.status_code == messages.value.status_code == 502
        await http.aclose()

    asyncio.run(ask())
    calls = engine.telemetry.registry.get_sample_value(
        "guardwire_calls_total",
        {"frontend": "transport", "format": "openai.chat", "outcome": "upstream_error"},
    )
    assert calls == 1


@pytest.fixture
def unaccepting_upstream() -> Iterator[str]:
    """A listener whose accept queue is full: a new connection's handshake never ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    yield url
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_connect_timeout_is_an_sdk_timeout_and_counted_once(
    unaccepting_upstream: str, start_proxy: Callable[..., ProxyServer], tmp_path: Path,
    frontend: str,
) -> None:  # fmt: skip
    clients = frontend_for(frontend, unaccepting_upstream, tmp_path, start_proxy)
    with pytest.raises((openai.APITimeoutError, openai.InternalServerError)) as raised:
        call(clients, "chat", stream=False)
    if frontend == "proxy":
        assert getattr(raised.value, "status_code", None) == 504
        assert "did not accept a connection" in str(raised.value)
    reserved, _ = clients.settled(calls=1)
    assert reserved == 0
    assert clients.calls() == {"upstream_error": 1.0}


def test_a_call_whose_connection_never_opened_charges_nothing(
    unaccepting_upstream: str, start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> None:
    clients = frontend_for("proxy", unaccepting_upstream, tmp_path, start_proxy)
    with pytest.raises(openai.InternalServerError):
        call(clients, "chat", stream=False)
    assert clients.settled(calls=1) == (0, 0)
