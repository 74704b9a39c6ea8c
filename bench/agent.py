"""Agent limits: what the ``agent`` check with SQLite state adds to one call.

Rows (issue 23 asks for <= 0.3 ms per call, median):

- ``agent.guard.none.call``: a call whose reply makes one tool call, through the guard
  with no checks (the baseline).
- ``agent.guard.sqlite.call``: the same call with an ``agent`` entry that uses every
  stateful key (steps, tool calls, session time, the loop window, a sequence rule) plus
  the allowlist and an argument rule, state in SQLite; ``extra.added_ms`` is the
  difference of the medians. Each call is its own session step; sessions rotate so the
  loop window never trips.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._runner import Result, from_samples
from guard import formats
from guard.engine import Guard
from guard.policy import Policy
from guard.stores import open_store
from guard.types import Caller

AGENT = {
    "check": "agent",
    "tools_allowed": ["search", "get_weather", "db_read_*"],
    "arguments": [{"tool": "run_shell", "pointer": "/command", "deny_regex": r"\brm\s+-rf\b"}],
    "max_steps": 10**9,
    "max_tool_calls": 10**9,
    "max_session_seconds": 86_400,
    "repeat": {"window": 6, "max_same": 3},
    "sequences": [{"after": ["read_inbox"], "deny": ["send_email"]}],
}
REQUEST = json.dumps(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "weather? " * 20}]}
).encode()


def _reply(number: int) -> bytes:
    arguments = json.dumps({"city": f"city-{number}"})
    return json.dumps({
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
            "function": {"name": "get_weather", "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }).encode()  # fmt: skip


async def _row(with_agent: bool, directory: Path, seconds: float) -> list[float]:
    store = open_store(f"sqlite://{directory / 'agent-state.db'}")
    body: dict[str, Any] = {"name": "agent-bench", "stream": {"whole_reply": "buffer"}}
    body["input"] = [AGENT] if with_agent else []
    guard = Guard(Policy.from_dict(body), store=store)
    fmt = formats.get("openai.chat")
    replies = [_reply(n) for n in range(64)]
    counter = 0

    async def one_call() -> None:
        nonlocal counter
        counter += 1
        caller = Caller(tenant="team-a", session=f"session-{counter % 1000}")
        call = fmt.parse_request(REQUEST, caller)
        lifecycle = guard.open(call, frontend="bench")
        sent = await lifecycle.astart()
        assert sent is not None
        await lifecycle.adeliver(fmt.parse_reply(sent, replies[counter % 64]))
        await lifecycle.afinish()
        assert lifecycle.output is not None and not lifecycle.output.blocked

    try:
        for _ in range(200):
            await one_call()
        samples: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(samples) < 200:
            started = time.perf_counter()
            await one_call()
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        await store.close()


def run(seconds: float) -> list[Result]:
    directory = Path(tempfile.mkdtemp(prefix="guardwire-bench-agent-"))
    none = asyncio.run(_row(False, directory, seconds))
    agent = asyncio.run(_row(True, directory, seconds))
    base = from_samples("agent.guard.none.call", none)
    with_agent = from_samples("agent.guard.sqlite.call", agent)
    with_agent.extra["added_ms"] = round(with_agent.median_ms - base.median_ms, 4)
    return [base, with_agent]
