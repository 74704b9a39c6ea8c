"""Cached traffic is priced the same way everywhere: budget settlement, the budget's
spend metric and ``guardwire_cost_usd_total`` (cached input at ``cached_input``,
Anthropic cache writes at ``cache_write``), for OpenAI chat, Anthropic and Responses
replies (``usage.input_tokens_details.cached_tokens``), complete and streamed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guard import formats
from guard.checks._prices import NANO_PER_USD, PriceTable
from guard.types import Caller
from tests.checks.test_budget import engine, spent

MESSAGES = [{"role": "user", "content": "hi"}]
CHAT_REPLY = {
    "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1_000, "completion_tokens": 7, "total_tokens": 1_007,
              "prompt_tokens_details": {"cached_tokens": 600}},
}  # fmt: skip
ANTHROPIC_REPLY = {
    "id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
    "usage": {"input_tokens": 10, "cache_creation_input_tokens": 1_000,
              "cache_read_input_tokens": 2_000, "output_tokens": 5},
}  # fmt: skip
RESPONSES_REPLY = {
    "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o-mini",
    "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
    "usage": {"input_tokens": 1_000, "output_tokens": 7, "total_tokens": 1_007,
              "input_tokens_details": {"cached_tokens": 600},
              "output_tokens_details": {"reasoning_tokens": 0}},
}  # fmt: skip
#: format, request body, reply body, expected (plain input, cached, written, output).
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], tuple[int, int, int, int]]] = {
    "chat": ("openai.chat", {"model": "gpt-4o-mini", "messages": MESSAGES}, CHAT_REPLY,
             (400, 600, 0, 7)),
    "anthropic": ("anthropic.messages",
                  {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": MESSAGES},
                  ANTHROPIC_REPLY, (10, 2_000, 1_000, 5)),
    "responses": ("openai.responses", {"model": "gpt-4o-mini", "input": "hi"}, RESPONSES_REPLY,
                  (400, 600, 0, 7)),
}  # fmt: skip


def expected_nano(model: str, tokens: tuple[int, int, int, int]) -> int:
    price = PriceTable.shipped().lookup(model)
    assert price is not None
    plain, cached, written, output = tokens
    return (
        plain * price.input + cached * price.cached_input + written * price.cache_write
        + output * price.output
    )  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_cost_metric_prices_cached_input_like_budget_settlement(case: str) -> None:
    fmt_name, body, reply, tokens = CASES[case]
    engine_, store = engine(limit_usd=10.0)
    fmt = formats.get(fmt_name)
    call = fmt.parse_request(json.dumps(body).encode(), Caller(tenant="acme"))
    lifecycle = engine_.open(call, frontend="check")
    assert await lifecycle.astart() is not None
    await lifecycle.adeliver(fmt.parse_reply(call, json.dumps(reply).encode()))
    await lifecycle.afinish()
    nano = expected_nano(body["model"], tokens)
    assert spent(store) == nano
    sample = engine_.telemetry.registry.get_sample_value
    label = PriceTable.shipped().label(body["model"])
    cost = sample("guardwire_cost_usd_total", {"model": label})
    budget = sample("guardwire_budget_spend_usd_total", {"budget": "team-daily", "model": label})
    assert cost == pytest.approx(nano / NANO_PER_USD)
    assert budget == pytest.approx(nano / NANO_PER_USD)


def test_responses_cached_tokens_are_read_complete_and_streamed() -> None:
    fmt = formats.get("openai.responses")
    reply = fmt.reply_from_raw(RESPONSES_REPLY)
    assert reply.usage is not None and reply.usage.cached_input_tokens == 600
    call = fmt.parse_request(b'{"model": "gpt-4o-mini", "input": "hi", "stream": true}')
    stream = fmt.stream_filter(call, engine(limit_usd=10.0)[0])
    head = {**RESPONSES_REPLY, "status": "in_progress", "output": [], "usage": None}
    events = [("response.created", {"response": head}),
              ("response.completed", {"response": RESPONSES_REPLY})]  # fmt: skip
    for number, (kind, data) in enumerate(events):
        payload = {"type": kind, "sequence_number": number, **data}
        stream.feed(f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode())
    stream.close()
    assert stream.reply.usage is not None and stream.reply.usage.cached_input_tokens == 600
    # Cached tokens beyond the input (a broken report) are not believed.
    broken = {**RESPONSES_REPLY, "usage": {"input_tokens": 10, "output_tokens": 1,
                                           "input_tokens_details": {"cached_tokens": 600}}}  # fmt: skip
    usage = fmt.reply_from_raw(broken).usage
    assert usage is not None and usage.cached_input_tokens == 0


@pytest.mark.parametrize("case", list(CASES))
def test_rendered_replies_keep_the_cache_counts(case: str) -> None:
    # A buffered stream is rendered from the normalised reply: the client's usage must
    # read back the same (cached and cache-written input included).
    fmt_name, body, raw, _ = CASES[case]
    fmt = formats.get(fmt_name)
    call = fmt.parse_request(json.dumps(body).encode())
    reply = fmt.reply_from_raw(raw)
    rendered = fmt.reply_from_raw(json.loads(fmt.render_reply(call, reply)))
    assert rendered.usage == reply.usage
    assert reply.usage is not None and reply.usage.cached_input_tokens > 0
