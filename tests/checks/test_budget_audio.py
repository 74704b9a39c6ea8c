"""Audio priced as audio: a chat call asking for audio output (or sending audio) is
reserved and settled at the price table's audio prices, and a model without them is
refused by a USD ceiling (guard.checks._budget_audio).

Before, ``gpt-4o-audio-preview`` matched ``gpt-4o*`` and its audio output ($80 per million
tokens) was reserved and settled at the text output price ($10): a USD ceiling passed
eight times over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks._budget_audio import audio_of
from guard.checks._budget_ledger import Counter
from guard.checks._prices import PriceTable
from guard.errors import ConfigError
from guard.types import Usage
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

AUDIO_MODEL = "gpt-4o-audio-preview"
ASK: dict[str, Any] = {
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
    "messages": [{"role": "user", "content": "say hi"}],
}


def audio_reply(prompt: int, completion: int, audio: int) -> dict[str, Any]:
    message = {"role": "assistant", "content": None, "refusal": None,
               "audio": {"id": "audio_1", "data": "UklGRg==", "expires_at": 1,
                         "transcript": "hi"}}  # fmt: skip
    return {
        "id": "chatcmpl-audio", "object": "chat.completion", "created": 1, "model": AUDIO_MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"audio_tokens": audio, "text_tokens": completion - audio}},
    }  # fmt: skip


def policy(tmp: Path, limit: str) -> str:
    path = tmp / "audio.yaml"
    path.write_text(f"budgets:\n  - {{name: voice, scope: global, window: day, {limit}}}\n")
    return str(path)


def test_audio_tokens_are_priced_apart_from_text() -> None:
    price = PriceTable.shipped().lookup(AUDIO_MODEL)
    assert price is not None and price.model == "gpt-4o-audio"
    assert (price.output, price.audio_output, price.audio_input) == (10_000, 80_000, 40_000)
    # 100 text tokens in; 600 out, of which 580 audio.
    assert (
        price.cost(Usage(100, 600, audio_output_tokens=580))
        == 100 * 2_500 + 20 * 10_000 + 580 * 80_000
    )
    assert price.cost(Usage(100, 600)) == 100 * 2_500 + 600 * 10_000  # no audio: as before
    text_only = PriceTable.shipped().lookup("gpt-4o-mini")
    assert text_only is not None and text_only.audio_output is None
    # A reservation holds every output token at the dearer of the two prices.
    counter = Counter("b", "global", None, None, "k:usd", 10**9, 2_500, 10_000, 0,
                      per_audio_output=80_000)  # fmt: skip
    assert counter.amount(100, 1_000) == 100 * 2_500 + 1_000 * 80_000


def test_what_asks_for_or_sends_audio() -> None:
    assert audio_of(ASK) == (False, True)
    assert audio_of({"modalities": ["text"], "messages": []}) == (False, False)
    sends = {"messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]}  # fmt: skip
    assert audio_of(sends) == (True, False)
    earlier = {"messages": [{"role": "assistant", "audio": {"id": "audio_1"}}]}
    assert audio_of(earlier) == (True, False)


def test_audio_output_is_reserved_and_settled_at_the_audio_price(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy(tmp_path, "limit_usd: 0.05"),
        store=f"sqlite://{tmp_path / 'state.db'}",
    )  # fmt: skip
    fake_upstream.enqueue(Script(body=audio_reply(100, 600, 580)))
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=AUDIO_MODEL, max_completion_tokens=1_000, **ASK
    )
    # $0.05 at $80 per million audio tokens is 625 tokens, less the input's bound: the
    # call is clamped (at the text price, $10, 1,000 tokens were affordable).
    clamped = int(raw.headers["x-guardwire-max-tokens-clamped"])
    assert 16 <= clamped < 625
    assert fake_upstream.requests[-1].json["max_completion_tokens"] == clamped
    assert raw.parse().choices[0].message.audio is not None
    metrics = httpx.get(proxy.url + "/metrics").text
    spent = (100 * 2_500 + 20 * 10_000 + 580 * 80_000) / 1e9
    line = f'guardwire_budget_spend_usd_total{{budget="voice",model="gpt-4o-audio"}} {spent}'
    assert line in metrics, [m for m in metrics.splitlines() if "spend_usd" in m]
    assert f'guardwire_cost_usd_total{{model="gpt-4o-audio"}} {spent}' in metrics


def test_a_model_without_an_audio_price_is_refused_by_a_usd_ceiling(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy(tmp_path, "limit_usd: 1"),
        store=f"sqlite://{tmp_path / 'state.db'}",
    )  # fmt: skip
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", **ASK)
    assert refused.value.code == "budget_unpriced_audio"
    assert "'voice'" in refused.value.message and "asks for audio" in refused.value.message
    assert "audio_output" in refused.value.message and "say hi" not in refused.value.message
    sends = [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]  # fmt: skip
    with pytest.raises(openai.BadRequestError) as too:
        client.chat.completions.create(model="gpt-4o-mini", messages=sends)  # type: ignore[arg-type]
    assert too.value.code == "budget_unpriced_audio" and "sends audio" in too.value.message
    assert fake_upstream.requests == []


def test_a_token_ceiling_counts_audio_tokens_like_any_other(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    proxy = start_proxy(
        upstream=fake_upstream.url, policy=policy(tmp_path, "limit_tokens: 100000"),
        store="memory://",
    )  # fmt: skip
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", max_completion_tokens=50, **ASK)
    assert len(fake_upstream.requests) == 1


def test_the_transport_refuses_unpriced_audio(fake_upstream: FakeUpstream, tmp_path: Path) -> None:
    engine = guard.Guard(
        guard.Policy.load(policy(tmp_path, "limit_usd: 1")),
        store=f"sqlite://{tmp_path / 'transport.db'}", registry=CollectorRegistry(),
    )  # fmt: skip
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1", api_key="k", max_retries=0,
        http_client=httpx.Client(transport=engine.transport()),
    )  # fmt: skip
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", **ASK)
    assert refused.value.code == "budget_unpriced_audio"
    assert fake_upstream.requests == []


def test_a_boolean_price_is_refused(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  - {model: m, input: 1, output: true}\n")
    with pytest.raises(ConfigError) as caught:
        PriceTable.load(prices)
    assert "models.0.output" in str(caught.value) and "boolean" in str(caught.value)
