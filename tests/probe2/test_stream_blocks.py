"""Known gap (not fixed this round): a secret cut across two text blocks of a *streamed*
Anthropic reply passes. Each block is its own stream channel, released at its
``content_block_stop``; the complete reply's blocks are read as one text
(guard.checks._text_parts), the stream's are not. Catching it needs the first block's
tail held past its stop event (a stream-filter change, in guard/formats/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import CLAUDE, ask, clients_for


def _event(data: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (data["type"].encode(), json.dumps(data).encode())


def _two_text_blocks(first: str, second: str) -> list[bytes]:
    usage = {"input_tokens": 1, "output_tokens": 1}
    message = {"id": "m", "type": "message", "role": "assistant", "model": CLAUDE, "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": usage}  # fmt: skip
    events = [_event({"type": "message_start", "message": message})]
    for index, text in enumerate((first, second)):
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": text}
        events.append(
            _event({"type": "content_block_start", "index": index, "content_block": block})
        )
        events.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(_event({"type": "content_block_stop", "index": index}))
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(_event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 5}}))
    return [*events, _event({"type": "message_stop"})]


@pytest.mark.xfail(strict=True, reason="stream blocks are separate channels (see module doc)")
def test_a_key_cut_across_two_streamed_text_blocks_is_redacted(
    fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> None:
    policy = tmp_path / "default.yaml"
    policy.write_text("extends: default\n")
    clients = clients_for("proxy", policy, fake_upstream, start_proxy)
    events = _two_text_blocks("use sk-proj-abcdefghij", "klmnopqrstuvwxyz0123 now")
    fake_upstream.enqueue(Script(events=events))
    received = ask(clients, "messages", [{"role": "user", "content": "key?"}], True)
    assert "abcdefghij" not in received and "klmnopqrstuvwxyz" not in received
