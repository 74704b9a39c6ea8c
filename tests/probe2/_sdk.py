"""One way to talk to the proxy or the transport with the official SDKs, for each API.

``Clients`` holds an OpenAI and an Anthropic client pointed at a running proxy, or at the
fake upstream through ``guard.transport()``; ``ask`` sends one user turn through chat
completions, the Responses API or Anthropic messages, complete or streamed, and returns
the reply's text as the caller sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
from prometheus_client import CollectorRegistry

import guard
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

APIS = ("chat", "responses", "messages")
#: A model of the shipped price table the anthropic SDK does not warn about.
CLAUDE = "claude-haiku-4-5"


@dataclass
class Clients:
    """The two SDK clients of one frontend, and where the metrics of its calls go."""

    openai: openai.OpenAI
    anthropic: anthropic.Anthropic
    registry: CollectorRegistry
    proxy: ProxyServer | None = None


def clients_for(
    frontend: str,
    policy: Path,
    upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer],
    **proxy_config: Any,
) -> Clients:
    """SDK clients through ``frontend`` (``proxy`` or ``transport``) running ``policy``."""
    if frontend == "proxy":
        server = start_proxy(upstream=upstream.url, policy=str(policy), **proxy_config)
        base = server.url
        registry = server.app.telemetry.registry
        oai_http, ant_http = httpx2.Client(), httpx2.Client()
    else:
        server = None
        registry = CollectorRegistry()
        engine = guard.Guard(policy, registry=registry, store="memory://")
        base = upstream.url
        oai_http = httpx2.Client(transport=engine.transport())
        ant_http = httpx2.Client(transport=engine.transport())
    return Clients(
        openai.OpenAI(base_url=base + "/v1", api_key="k", max_retries=0, http_client=oai_http),
        anthropic.Anthropic(base_url=base, api_key="k", max_retries=0, http_client=ant_http),
        registry,
        server,
    )


def ask(clients: Clients, api: str, messages: list[dict[str, Any]], stream: bool,
        **extra: Any) -> str:  # fmt: skip
    """Send ``messages`` through ``api`` and return the reply text the caller got
    (an error event of a Responses stream raises ``RuntimeError``)."""
    # The SDKs' typed parameters are checked by the SDKs themselves at run time.
    oai: Any = clients.openai
    ant: Any = clients.anthropic
    if api == "chat":
        if stream:
            chunks = oai.chat.completions.create(
                model="gpt-4o", messages=messages, stream=True, **extra
            )
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reply = oai.chat.completions.create(model="gpt-4o", messages=messages, **extra)
        return str(reply.choices[0].message.content or "")
    if api == "responses":
        if not stream:
            return str(oai.responses.create(model="gpt-4o", input=messages, **extra).output_text)
        text = []
        for event in oai.responses.create(model="gpt-4o", input=messages, stream=True, **extra):
            if event.type == "response.output_text.delta":
                text.append(event.delta)
            elif event.type == "error":
                raise RuntimeError(f"error event: {event.message}")
        return "".join(text)
    if stream:
        with ant.messages.stream(
            model=CLAUDE, max_tokens=256, messages=messages, **extra
        ) as events:
            return "".join(events.text_stream)
    message = ant.messages.create(model=CLAUDE, max_tokens=256, messages=messages, **extra)
    return "".join(block.text for block in message.content if block.type == "text")
