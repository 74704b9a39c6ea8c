"""A document sent by reference (a file id or URL) is not bounded by the request's bytes.

The reservation's input bound is the body's UTF-8 bytes (every token is at least one
byte), plus a fixed bound per image. A PDF referenced by ``file_id`` (chat's ``file``
part, Responses' ``input_file``, Anthropic's ``document`` with a ``file`` or ``url``
source) is ~40 bytes in the body and up to 100 pages for the provider (1,500-3,000 text
tokens a page, plus an image of each page). Here the upstream bills 50,000 input tokens
for one: the call was reserved ~100 tokens against a 2,000-token ceiling and spent 50 K.

Not fixed: the only proven bound is the model's context window (the price table does not
carry it; up to 1 M tokens), and reserving that per document would refuse every call
with a file on a token budget below it. A bound per document (like ``IMAGE_TOKENS``) is
a product decision; see the report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream

LIMIT = 2000
POLICY = f"""\
name: documents
budgets:
  - {{name: tokens, scope: global, window: day, limit_tokens: {LIMIT}}}
"""


@pytest.mark.xfail(strict=True, reason="no bound for documents by reference (a decision)")
def test_a_document_by_reference_keeps_the_ceiling(
    start_proxy: Callable[..., ProxyServer], fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    billed: list[int] = []

    def usage(payload: dict[str, Any]) -> tuple[int, int]:
        billed.append(50_000 + 20)  # a 30-page PDF, read as text and page images
        return 50_000, 20

    fake_upstream.usage_for = usage
    policy = tmp_path / "documents.yaml"
    policy.write_text(POLICY)
    proxy = start_proxy(upstream=fake_upstream.url, policy=str(policy), store="memory://")
    part = {"type": "file", "file": {"file_id": "file-abc123"}}
    body = {"model": "gpt-4o-mini", "max_tokens": 20, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "summarise"}, part]}]}  # fmt: skip
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        statuses = [client.post("/v1/chat/completions", json=body).status_code for _ in range(3)]
    assert sum(billed) <= LIMIT, (billed, statuses)
