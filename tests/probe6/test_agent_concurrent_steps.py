"""An agent's limits hold when its steps run at once, as a framework's parallel branches
(``asyncio.gather``) or worker threads run them.

README (Agent limits): ``max_steps`` counts model calls per session, ``repeat`` stops the
same tool call with the same arguments after ``max_same``, ``max_tool_calls`` bounds the
tool calls a session's replies may carry. Every refusal is the SDK's own
``PermissionDeniedError`` (403) naming the limit, and ``guardwire_agent_findings_total``
and the audit log name the decision, never the arguments.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
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

#: What the refused arguments carry: never in an error, a metric or the audit log.
MARKER = "MARKER-4e0b"
TOOLS: Any = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("search", "fetch")
]
ANTHROPIC_TOOLS: Any = [{"name": "search", "input_schema": {"type": "object"}}]
MESSAGES: Any = [{"role": "user", "content": "find it"}]
LOOP = Script(tool_calls=[("search", {"q": MARKER})])


def policy(**limits: Any) -> str:
    lines = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in limits.items())
    return f"name: agentcaps\ninput:\n  - check: agent\n    tools_allowed: [search]\n{lines}"


@pytest.fixture
def agent_proxy(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> Callable[..., ProxyServer]:
    def start(audit: Path | None = None, **limits: Any) -> ProxyServer:
        path = tmp_path / f"policy{len(list(tmp_path.glob('policy*')))}.yaml"
        path.write_text(policy(**limits))
        extra = {"audit_log": str(audit)} if audit is not None else {}
        return start_proxy(
            upstream=fake_upstream.url,
            policy=str(path),
            store=f"sqlite://{tmp_path / 'state.db'}",
            **extra,
        )

    return start


def outcome(exc: BaseException | None) -> str:
    """``ok``, or the refusal's code: a 403 ``PermissionDeniedError`` before the reply,
    the API's error event (the SDK's ``APIError``) once a stream has started."""
    if exc is None:
        return "ok"
    assert isinstance(exc, openai.APIError | anthropic.APIError), exc
    assert MARKER not in str(exc)
    if isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        assert exc.status_code == 403
    if isinstance(exc, openai.APIError):
        return str(exc.code)
    body: Any = exc.body
    return str(body["error"]["details"]["error_code"])


async def gather_chat(client: openai.AsyncOpenAI, count: int, stream: bool) -> list[str]:
    async def one() -> None:
        if not stream:
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS
            )
            return
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS
        ) as events:
            await events.get_final_completion()

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    return [outcome(r if isinstance(r, BaseException) else None) for r in results]


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "streamed"])
def test_max_steps_holds_under_asyncio_gather_through_the_proxy(
    agent_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, stream: bool
) -> None:
    proxy = agent_proxy(max_steps=4)
    client = openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0,
                                default_headers={"x-guardwire-session": "gather-1"})  # fmt: skip
    outcomes = asyncio.run(gather_chat(client, 12, stream))
    assert sorted(outcomes) == ["agent_step_cap"] * 8 + ["ok"] * 4
    assert len(fake_upstream.requests) == 4  # refused steps never reached the model
    # Another session of the same caller has its own steps.
    other = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0,
                          default_headers={"x-guardwire-session": "gather-2"})  # fmt: skip
    other.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "streamed"])
def test_a_loop_is_stopped_at_max_same_under_asyncio_gather(
    agent_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, stream: bool
) -> None:
    proxy = agent_proxy(repeat={"window": 10, "max_same": 2, "action": "block"})
    client = openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0,
                                default_headers={"x-guardwire-session": "loop-1"})  # fmt: skip
    fake_upstream.enqueue(*[LOOP] * 8)
    outcomes = asyncio.run(gather_chat(client, 8, stream))
    assert sorted(outcomes) == ["agent_loop"] * 6 + ["ok"] * 2


def test_max_tool_calls_holds_for_parallel_tool_calls_in_threads(
    agent_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    """Each reply carries two parallel tool calls; five allowed in the session: two
    replies pass (four calls), and the audit names the refusals without arguments."""
    audit = tmp_path / "audit.jsonl"
    proxy = agent_proxy(audit=audit, max_tool_calls=5)
    pair = Script(tool_calls=[("search", {"q": MARKER}), ("search", {"q": MARKER + "-2"})])
    fake_upstream.enqueue(*[pair] * 8)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0,
                           default_headers={"x-guardwire-session": "threads-1"})  # fmt: skip
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
            found = outcome(None)
        except openai.APIError as exc:
            found = outcome(exc)
        with lock:
            outcomes.append(found)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["agent_step_cap"] * 6 + ["ok"] * 2
    metrics = httpx2.get(proxy.url + "/metrics").text
    assert (
        'guardwire_agent_findings_total{action="block",check="agent",kind="agent.step_cap"} 6.0'
        in metrics
    )
    proxy.stop()  # the audit log is complete once the proxy stopped
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert MARKER not in audit.read_text() and "threads-1" not in audit.read_text()
    assert sum(r.get("outcome") == "blocked" for r in records) == 6


def test_async_transport_with_anthropic_keeps_the_step_cap(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    engine = guard.Guard(guard.Policy.from_yaml(policy(max_steps=3)),
                         store=f"sqlite://{tmp_path / 's.db'}", registry=CollectorRegistry())  # fmt: skip

    async def main() -> list[str]:
        http = httpx2.AsyncClient(transport=engine.async_transport())
        client = anthropic.AsyncAnthropic(base_url=fake_upstream.url, api_key="k", max_retries=0,
                                          http_client=http,
                                          default_headers={"x-guardwire-session": "claude-1"})  # fmt: skip

        async def one() -> None:
            async with client.messages.stream(model="claude-x", max_tokens=50, messages=MESSAGES,
                                              tools=ANTHROPIC_TOOLS) as events:  # fmt: skip
                await events.get_final_message()

        results = await asyncio.gather(*(one() for _ in range(9)), return_exceptions=True)
        await http.aclose()
        await engine.aclose()
        return [outcome(r if isinstance(r, BaseException) else None) for r in results]

    assert sorted(asyncio.run(main())) == ["agent_step_cap"] * 6 + ["ok"] * 3


BUDGET_POLICY = """\
name: agentbudget
input:
  - check: agent
    max_steps: 4
budgets:
  - {name: per-session, scope: session, window: none, limit_requests: 3}
"""


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "streamed"])
def test_a_session_budget_holds_across_concurrent_steps_and_refusals_cost_no_step(
    start_proxy: Callable[..., ProxyServer],
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    stream: bool,
) -> None:
    """Three requests per session: ten parallel steps get three answers and seven 429s
    (``budget_exceeded``); the refused steps were given back, so the session's fourth
    step is refused by the budget, not by the step cap."""
    path = tmp_path / "budget.yaml"
    path.write_text(BUDGET_POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(path),
                        store=f"sqlite://{tmp_path / 'state.db'}")  # fmt: skip

    async def one(client: openai.AsyncOpenAI) -> None:
        if stream:
            async with client.chat.completions.stream(
                model="gpt-4o-mini", messages=MESSAGES, max_tokens=20
            ) as events:
                await events.get_final_completion()
        else:
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, max_tokens=20
            )

    async def run(count: int) -> list[str]:
        headers = {"x-guardwire-session": "budget-1"}  # a client per event loop
        client = openai.AsyncOpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0,
                                    default_headers=headers)  # fmt: skip
        results = await asyncio.gather(*(one(client) for _ in range(count)),
                                       return_exceptions=True)  # fmt: skip
        return [
            str(getattr(r, "code", r)) if isinstance(r, BaseException) else "ok" for r in results
        ]

    assert sorted(asyncio.run(run(10))) == ["budget_exceeded"] * 7 + ["ok"] * 3
    assert len(fake_upstream.requests) == 3
    assert asyncio.run(run(1)) == ["budget_exceeded"]
