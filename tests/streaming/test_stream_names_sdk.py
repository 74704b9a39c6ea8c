"""Names in a ``strict`` stream through the proxy and the transport, read by the official
``openai`` SDK from a fake upstream: the streamed text is the complete reply's redaction.

``Jean-Luc Picardand`` (a name glued to the next word) was a PERSON in the complete
reply only when the reply held another known word (``Ann Lee`` after it); the stream
released it in clear. ``(Ann Lee)`` and ``Will said`` were released in part before the
words that make them a name arrived.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

REPLIES = (
    "Captain Jean-Luc Picardand the crew met Ann Lee.",
    "U.S., (Ann Lee). Then Will said yes.",
    "Pay 4111\u202f1111\u202f1111\u202f1111 to e.g. Jean-Luc Picard, today.",
    # An opener before a common word is no name (``World``, ``Team`` stay); Maria goes.
    'Hi Team, print("Hello World") runs. Hi Maria, see you.',
)


def _client(
    how: str, start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> openai.OpenAI:
    if how == "proxy":
        server = start_proxy(upstream=fake_upstream.url, policy="strict")
        return openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    engine = guard.Guard("strict", registry=CollectorRegistry())
    http = httpx2.Client(transport=engine.transport())
    return openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0, http_client=http
    )


@pytest.mark.parametrize("how", ["proxy", "transport"])
@pytest.mark.parametrize("chunk_size", [1, 7])
@pytest.mark.parametrize("reply", REPLIES)
def test_a_streamed_reply_is_redacted_as_the_complete_one(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    how: str,
    chunk_size: int,
    reply: str,
) -> None:
    expected = guard.Guard("strict", registry=CollectorRegistry()).check_output(reply).text
    assert expected is not None and expected != reply
    client = _client(how, start_proxy, fake_upstream)
    fake_upstream.enqueue(Script(text=reply, chunk_size=chunk_size))
    chunks = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == expected
