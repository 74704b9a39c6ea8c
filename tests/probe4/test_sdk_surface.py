"""The SDK surface a developer reaches for in the first hour, against the demo model, via
the proxy and the in-process transport: async clients, ``with_raw_response``, the
``.stream()`` helpers, an agent's denied tool call in a stream. A block must be the SDK's
own exception with guardwire's readable message and code; nothing may quote the user's
text in the message or in any log line. (These held when probed; the test keeps them.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

import guard
from guard.demo import DemoTransport
from tests.e2e.fixtures import ProxyServer

MARKER = "zebracornflake"
BLOCKED = f"how to build a bomb {MARKER}"
SECRET = f"my key is AKIAABCDEFGHIJKLMNOP {MARKER}"
AGENT_POLICY = "name: agentish\ninput:\n  - check: agent\n    tools_denied: [send_email]\n"
MESSAGE = "guardwire blocked this request: check 'denylist' ('weapons')"


def _clients(
    frontend: str, start_proxy: Callable[..., ProxyServer], policy: str | None = None
) -> tuple[openai.AsyncOpenAI, anthropic.AsyncAnthropic]:
    if frontend == "proxy":
        server = start_proxy(**({"policy": policy} if policy else {}))
        return (
            openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0),
            anthropic.AsyncAnthropic(base_url=server.url, api_key="unused", max_retries=0),
        )
    engine = guard.Guard(policy, store="memory://") if policy else guard.Guard()

    def client() -> httpx2.AsyncClient:
        transport = guard.async_transport(guard=engine, transport=DemoTransport())
        return httpx2.AsyncClient(transport=transport)

    return (
        openai.AsyncOpenAI(api_key="unused", max_retries=0, http_client=client()),
        anthropic.AsyncAnthropic(api_key="unused", max_retries=0, http_client=client()),
    )


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_async_clients_and_helpers(
    frontend: str, start_proxy: Callable[..., ProxyServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="guardwire")
    oai, anth = _clients(frontend, start_proxy)
    say: Any = [{"role": "user", "content": SECRET}]
    bad: Any = [{"role": "user", "content": BLOCKED}]

    async def main() -> None:
        raw = await oai.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=say)
        assert raw.headers["x-guardwire-verdict"] == "redact"
        assert "[AWS_ACCESS_KEY]" in (raw.parse().choices[0].message.content or "")
        with pytest.raises(openai.BadRequestError) as chat_block:
            await oai.chat.completions.create(model="gpt-4o-mini", messages=bad)
        assert chat_block.value.code == "content_blocked"
        assert MESSAGE in str(chat_block.value)
        async with oai.chat.completions.stream(model="gpt-4o-mini", messages=say) as stream:
            final = await stream.get_final_completion()
        assert "[AWS_ACCESS_KEY]" in (final.choices[0].message.content or "")
        with pytest.raises(openai.BadRequestError):
            async with oai.responses.stream(model="gpt-4o-mini", input=BLOCKED) as events:
                async for _ in events:
                    pass
        async with anth.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=say) as s:
            text = "".join([t async for t in s.text_stream])
        assert "[AWS_ACCESS_KEY]" in text
        with pytest.raises(anthropic.BadRequestError) as anth_block:
            async with anth.messages.stream(
                model="claude-haiku-4-5", max_tokens=64, messages=bad
            ) as s:
                async for _ in s:
                    pass
        assert MESSAGE in str(anth_block.value)
        for error in (chat_block.value, anth_block.value):
            assert MARKER not in str(error) and MARKER not in str(error.body)

    asyncio.run(main())
    assert MARKER not in caplog.text


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_denied_tool_call_ends_the_stream_with_the_sdks_error(
    frontend: str, start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> None:
    policy = tmp_path / "agentish.yaml"
    policy.write_text(AGENT_POLICY)
    oai, anth = _clients(frontend, start_proxy, str(policy))
    parameters = {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]}
    asked: Any = [{"role": "user", "content": f"please send_email {MARKER}"}]

    async def main() -> None:
        tools: Any = [
            {"type": "function", "function": {"name": "send_email", "parameters": parameters}}
        ]
        with pytest.raises(openai.APIError) as chat_error:
            stream = await oai.chat.completions.create(
                model="gpt-4o-mini", messages=asked, tools=tools, stream=True
            )
            async for _ in stream:
                pass
        anthropic_tools: Any = [{"name": "send_email", "input_schema": parameters}]
        with pytest.raises(anthropic.APIStatusError) as anth_error:
            async with anth.messages.stream(
                model="claude-haiku-4-5", max_tokens=64, messages=asked, tools=anthropic_tools
            ) as s:
                async for _ in s:
                    pass
        for error in (chat_error.value, anth_error.value):
            assert "the reply called a tool the policy does not allow" in str(error)
            assert MARKER not in str(error)
        # The error's type is the one the same refusal has unstreamed (a 403), where it
        # read invalid_request_error in both APIs' stream error events.
        assert isinstance(chat_error.value.body, dict)
        assert chat_error.value.body["type"] == "permission_error"
        assert isinstance(anth_error.value.body, dict)
        assert anth_error.value.body["error"]["type"] == "permission_error"

    asyncio.run(main())
