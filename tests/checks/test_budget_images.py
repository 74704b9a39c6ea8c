"""An image is bounded by its model's image cost, whatever its source.

The provider resizes every image (inline or by URL) to its maximum, so one image costs
at most a fixed number of tokens per model: 6,000 covers most, but ``gpt-4o-mini`` bills
images ~33x dearer in tokens (2,833 + 5,667 per 512-pixel tile: ~48 K for a high-detail
image of 8 tiles). Before, every image was bounded by 6,000 tokens: a ``gpt-4o-mini``
call with one image was reserved ~6 K tokens and could be billed 48 K.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from guard.checks._prices import PriceTable
from guard.checks._tokens import IMAGE_TOKENS
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

IMAGE = {"type": "image_url", "image_url": {"url": "https://x.test/cat.png", "detail": "high"}}


def body(model: str) -> dict[str, object]:
    return {"model": model, "max_tokens": 50, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "what is it?"}, IMAGE]}]}  # fmt: skip


def test_the_table_bounds_gpt_4o_mini_images_apart() -> None:
    table = PriceTable.shipped()
    mini = table.lookup("gpt-4o-mini-2024-07-18")
    assert mini is not None and mini.image_tokens >= 2_833 + 8 * 5_667
    other = table.lookup("gpt-4.1-mini")
    assert other is not None and other.image_tokens == IMAGE_TOKENS


def test_an_image_url_is_reserved_at_its_models_image_cost(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy = tmp_path / "images.yaml"
    policy.write_text("budgets:\n  - {name: tokens, window: day, limit_tokens: 20000}\n")
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    refused = httpx.post(proxy.url + "/v1/chat/completions", json=body("gpt-4o-mini"))
    assert refused.status_code == 429, refused.text
    assert fake_upstream.requests == []
    allowed = httpx.post(proxy.url + "/v1/chat/completions", json=body("gpt-4o"))
    assert allowed.status_code == 200, allowed.text
