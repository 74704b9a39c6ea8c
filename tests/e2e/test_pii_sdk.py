"""The pii check through the proxy (OpenAI and Anthropic SDKs) and the transport: the
upstream never sees the values, the caller gets them back, blocks are the API's 400."""

from __future__ import annotations

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
from tests.fake_upstream import FakeUpstream, Script

POLICY = """\
name: pii-e2e
input:
  - check: pii
    action: pseudonymise
    scope: session
    per_entity: {CREDIT_CARD: {action: block}}
output:
  - check: pii
    action: redact
"""
EMAIL, PHONE = "maria.lopez@example.org", "+1 415-555-0132"
PROMPT = f"Write to {EMAIL} and call {PHONE} about the order."
# The placeholder is split over three chunks at chunk_size=7: "Hi <EMA" "IL_ADDR" "ESS_1>,".
REPLY = "Hi <EMAIL_ADDRESS_1>, I will call <PHONE_NUMBER_1>. <PERSON_3> stays as is."
RESTORED = f"Hi {EMAIL}, I will call {PHONE}. <PERSON_3> stays as is."


@pytest.fixture(params=["proxy", "transport"])
def clients(
    request: pytest.FixtureRequest,
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
) -> Iterator[tuple[openai.OpenAI, anthropic.Anthropic]]:
    policy = tmp_path / "pii.yaml"
    policy.write_text(POLICY)
    if request.param == "proxy":
        server = start_proxy(upstream=fake_upstream.url, policy=str(policy))
        base, oai_http, ant_http = server.url, httpx2.Client(), httpx2.Client()
    else:
        engine = guard.Guard(policy, registry=CollectorRegistry())
        base = fake_upstream.url
        oai_http = httpx2.Client(transport=engine.transport())
        ant_http = httpx2.Client(transport=engine.transport())
    oai = openai.OpenAI(base_url=base + "/v1", api_key="k", max_retries=0, http_client=oai_http)
    ant = anthropic.Anthropic(base_url=base, api_key="k", max_retries=0, http_client=ant_http)
    yield oai, ant


def _upstream_saw(fake_upstream: FakeUpstream) -> str:
    return fake_upstream.requests[-1].body.decode()


def _assert_pseudonymised(fake_upstream: FakeUpstream) -> None:
    sent = _upstream_saw(fake_upstream)
    assert EMAIL not in sent and "415-555" not in sent
    assert "<EMAIL_ADDRESS_1>" in sent and "<PHONE_NUMBER_1>" in sent


@pytest.mark.parametrize("stream", [False, True])
def test_openai_sdk_values_never_reach_upstream_and_come_back(
    clients: Any, fake_upstream: FakeUpstream, stream: bool
) -> None:
    oai, _ = clients
    fake_upstream.enqueue(Script(text=REPLY, chunk_size=7))
    messages: Any = [{"role": "user", "content": PROMPT}]
    if stream:
        chunks = oai.chat.completions.create(model="m", messages=messages, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        result = oai.chat.completions.create(model="m", messages=messages)
        text = result.choices[0].message.content or ""
    _assert_pseudonymised(fake_upstream)
    assert text == RESTORED


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_sdk_values_never_reach_upstream_and_come_back(
    clients: Any, fake_upstream: FakeUpstream, stream: bool
) -> None:
    _, ant = clients
    fake_upstream.enqueue(Script(text=REPLY, chunk_size=7))
    messages: Any = [{"role": "user", "content": PROMPT}]
    if stream:
        with ant.messages.stream(model="m", max_tokens=64, messages=messages) as events:
            text = "".join(events.text_stream)
    else:
        message = ant.messages.create(model="m", max_tokens=64, messages=messages)
        text = message.content[0].text
    _assert_pseudonymised(fake_upstream)
    assert text == RESTORED


def test_new_pii_in_a_reply_is_redacted(clients: Any, fake_upstream: FakeUpstream) -> None:
    oai, _ = clients
    fake_upstream.enqueue(Script(text="Ask bob@example.com or 4111 1111 1111 1111.", chunk_size=5))
    chunks = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "who?"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Ask <EMAIL_ADDRESS> or <CREDIT_CARD>."


def test_a_blocked_entity_is_the_apis_own_400(clients: Any, fake_upstream: FakeUpstream) -> None:
    oai, ant = clients
    before = len(fake_upstream.requests)
    card = [{"role": "user", "content": "charge 4111 1111 1111 1111 please"}]
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="m", messages=card)  # type: ignore[arg-type]
    assert caught.value.status_code == 400 and "4111" not in str(caught.value)
    with pytest.raises(anthropic.BadRequestError):
        ant.messages.create(model="m", max_tokens=8, messages=card)  # type: ignore[arg-type]
    assert len(fake_upstream.requests) == before


def test_session_placeholders_are_restored_in_later_calls(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "pii.yaml"
    policy.write_text(POLICY)
    server = start_proxy(upstream=fake_upstream.url, policy=str(policy))
    oai = openai.OpenAI(
        base_url=server.url + "/v1",
        api_key="k",
        max_retries=0,
        default_headers={"x-guardwire-session": "conversation-7"},
    )
    oai.chat.completions.create(model="m", messages=[{"role": "user", "content": PROMPT}])
    fake_upstream.enqueue(Script(text="Your address was <EMAIL_ADDRESS_1>."))
    later = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "what was my address?"}]
    )
    assert later.choices[0].message.content == f"Your address was {EMAIL}."
    assert EMAIL not in _upstream_saw(fake_upstream)


def test_wrap_pseudonymises_and_restores(tmp_path: Path) -> None:
    policy = tmp_path / "pii.yaml"
    policy.write_text(POLICY)
    engine = guard.Guard(policy, registry=CollectorRegistry())
    seen: list[str] = []

    @guard.wrap(guard=engine)
    def model(prompt: str) -> str:
        seen.append(prompt)
        return "Sure, I wrote to <EMAIL_ADDRESS_1>."

    @guard.wrap(guard=engine)
    def streamer(prompt: str) -> Iterator[str]:
        seen.append(prompt)
        yield from ["Hi <EMA", "IL_ADDR", "ESS_1>! New: bob@example.com"]

    assert model(f"mail {EMAIL}") == f"Sure, I wrote to {EMAIL}."
    assert "".join(streamer(f"mail {EMAIL}")) == f"Hi {EMAIL}! New: <EMAIL_ADDRESS>"
    assert seen == ["mail <EMAIL_ADDRESS_1>", "mail <EMAIL_ADDRESS_1>"]
