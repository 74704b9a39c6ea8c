"""A document sent by reference (a file id or URL) is not bounded by the request's bytes.

The reservation's input bound is the body's UTF-8 bytes (every token is at least one
byte), plus a fixed bound per image. A PDF referenced by ``file_id`` (chat's ``file``
part, Responses' ``input_file``, Anthropic's ``document`` with a ``file`` or ``url``
source) is ~40 bytes in the body and up to 100 pages for the provider. Before, the
upstream billed 50,000 input tokens for one: the call was reserved ~100 tokens against
a 2,000-token ceiling and spent 50 K. Provider-side tools (web search, file search,
Anthropic's server tools) add tokens the request cannot bound either.

Now a budget with a ceiling refuses such a call (400 ``budget_unbounded_input``, naming
the field and the budget, never its value) unless it sets ``reference_tokens``: then
each document (each use of a tool: ``max_uses``) reserves that many input tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

LIMIT = 2000
POLICY = """\
name: documents
budgets:
  - {{name: tokens, scope: global, window: day, limit_tokens: {limit}{extra}}}
"""
FILE_PART = {"type": "file", "file": {"file_id": "file-abc123"}}
CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "max_tokens": 20, "messages": [
    {"role": "user", "content": [{"type": "text", "text": "summarise"}, FILE_PART]}]}  # fmt: skip


def policy_file(tmp: Path, extra: str = "", limit: int = LIMIT) -> str:
    path = tmp / "documents.yaml"
    path.write_text(POLICY.format(limit=limit, extra=extra))
    return str(path)


@pytest.fixture
def sqlite_proxy(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> Iterator[Callable[..., ProxyServer]]:
    def start(extra: str = "", limit: int = LIMIT) -> ProxyServer:
        return start_proxy(
            upstream=fake_upstream.url, policy=policy_file(tmp_path, extra, limit),
            store=f"sqlite://{tmp_path / 'state.db'}",
        )  # fmt: skip

    yield start


def test_a_document_by_reference_is_refused_without_reference_tokens(
    sqlite_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = sqlite_proxy()
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**CHAT)
    assert refused.value.code == "budget_unbounded_input"
    message = refused.value.message
    assert "messages[0].content[1].file" in message and "'tokens'" in message
    assert "reference_tokens" in message
    assert "file-abc123" not in message and "summarise" not in message
    with pytest.raises(openai.BadRequestError) as again:
        client.responses.create(model="gpt-4o-mini", max_output_tokens=20, input=[
            {"role": "user", "content": [
                {"type": "input_text", "text": "summarise"},
                {"type": "input_file", "file_url": "https://example.com/secret.pdf"}]}])  # fmt: skip
    assert again.value.code == "budget_unbounded_input"
    assert "input[0].content[1].file_url" in again.value.message
    assert "secret" not in again.value.message
    messages = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as too:
        messages.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=[
            {"role": "user", "content": [
                {"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}},
                {"type": "text", "text": "summarise"}]}])  # fmt: skip
    assert too.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "messages[0].content[0].source" in str(too.value) and "x.test" not in str(too.value)
    assert fake_upstream.requests == []


def test_a_provider_side_tool_is_refused_without_reference_tokens(
    sqlite_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    proxy = sqlite_proxy()
    messages = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as refused:
        messages.messages.create(
            model="claude-haiku-4-5", max_tokens=20,
            messages=[{"role": "user", "content": "what happened today?"}],
            tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        )  # fmt: skip
    assert "tools[0]" in str(refused.value) and "provider-side tool" in str(refused.value)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as too:
        client.responses.create(
            model="gpt-4o-mini", max_output_tokens=20, input="what happened today?",
            tools=[{"type": "web_search_preview"}],
        )  # fmt: skip
    assert too.value.code == "budget_unbounded_input" and "tools[0]" in too.value.message
    assert fake_upstream.requests == []


def test_reference_tokens_reserve_each_document_and_keep_the_ceiling(
    sqlite_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    billed: list[int] = []

    def usage(payload: dict[str, Any]) -> tuple[int, int]:
        billed.append(1_500 + 20)  # the document costs what the budget reserves for it
        return 1_500, 20

    fake_upstream.usage_for = usage
    proxy = sqlite_proxy(", reference_tokens: 1500")
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    reply = client.chat.completions.create(**CHAT)
    assert reply.choices[0].message.content
    # 1,500 of 2,000 are spent: the next document cannot be reserved for (429).
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(**CHAT)
    assert refused.value.code == "budget_exceeded"
    assert sum(billed) <= LIMIT, billed
    assert len(fake_upstream.requests) == 1


def test_a_server_tool_reserves_reference_tokens_per_use(
    sqlite_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream
) -> None:
    """3,000 tokens per use on a 10,000-token ceiling: two uses fit, three do not, and a
    tool without ``max_uses`` is reserved for ten."""
    proxy = sqlite_proxy(", reference_tokens: 3000", limit=10_000)
    messages = anthropic.Anthropic(base_url=proxy.url, api_key="k", max_retries=0)

    def ask(**tool: Any) -> Any:
        return messages.messages.create(
            model="claude-haiku-4-5", max_tokens=20,
            messages=[{"role": "user", "content": "what happened today?"}],
            tools=[{"type": "web_search_20250305", "name": "web_search", **tool}],
        )  # fmt: skip

    assert ask(max_uses=2).content[0].type == "text"
    for tool in ({"max_uses": 3}, {}):
        with pytest.raises(anthropic.RateLimitError):
            ask(**tool)
    assert len(fake_upstream.requests) == 1


def test_the_transport_refuses_and_reserves_alike(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    store = f"sqlite://{tmp_path / 'transport.db'}"
    refusing = guard.Guard(
        guard.Policy.load(policy_file(tmp_path)), store=store, registry=CollectorRegistry()
    )
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
        http_client=httpx.Client(transport=refusing.transport()),
    )  # fmt: skip
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**CHAT)
    assert refused.value.code == "budget_unbounded_input"
    assert "messages[0].content[1].file" in refused.value.message
    assert fake_upstream.requests == []
    fake_upstream.usage_for = lambda payload: (1_500, 20)
    allowing = guard.Guard(
        guard.Policy.load(policy_file(tmp_path, ", reference_tokens: 1500")),
        store=f"sqlite://{tmp_path / 'transport2.db'}", registry=CollectorRegistry(),
    )  # fmt: skip
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
        http_client=httpx.Client(transport=allowing.transport()),
    )  # fmt: skip
    client.chat.completions.create(**CHAT)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT)
    assert len(fake_upstream.requests) == 1


def test_a_requests_only_budget_lets_documents_through(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    """A budget that counts requests only has no token ceiling to keep."""
    policy = tmp_path / "requests.yaml"
    policy.write_text("budgets:\n  - {name: calls, window: day, limit_requests: 5}\n")
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    response = httpx.post(proxy.url + "/v1/chat/completions", json=CHAT)
    assert response.status_code == 200, response.text
