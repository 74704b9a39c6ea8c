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
    """Send ``messages`` through ``api`` and return the reply text the caller got."""
    if api == "chat":
        if stream:
            chunks = clients.openai.chat.completions.create(
                model="gpt-4o", messages=messages, stream=True, **extra  # type: ignore[arg-type]
            )
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reply = clients.openai.chat.completions.create(
            model="gpt-4o", messages=messages, **extra  # type: ignore[arg-type]
        )
        return reply.choices[0].message.content or ""
    if api == "responses":
        if stream:
            text = []
            events = clients.openai.responses.create(
                model="gpt-4o", input=messages, stream=True, **extra  # type: ignore[arg-type]
            )
            for event in events:
                if event.type == "response.output_text.delta":
                    text.append(event.delta)
                elif event.type == "error":
                    raise RuntimeError(f"error event: {event.message}")
            return "".join(text)
        response = clients.openai.responses.create(
            model="gpt-4o", input=messages, **extra  # type: ignore[arg-type]
        )
        return response.output_text
    if stream:
        with clients.anthropic.messages.stream(
            model="claude-haiku-4-5", max_tokens=256, messages=messages, **extra  # type: ignore[arg-type]
        ) as events:
            return "".join(events.text_stream)
    message = clients.anthropic.messages.create(
        model="claude-haiku-4-5", max_tokens=256, messages=messages, **extra  # type: ignore[arg-type]
    )
    return "".join(block.text for block in message.content if block.type == "text")
