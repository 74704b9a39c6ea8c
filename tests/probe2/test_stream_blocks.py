"""A value cut across two text blocks of a *streamed* Anthropic reply is caught.

The complete reply's text blocks are read as one text (guard.checks._text_parts); the
stream's consecutive text blocks share one stream channel, so a key, an email, a card or
a denied phrase cut at a block boundary is redacted (the replacement in the block where
it starts, the rest removed from the next) or ends the stream with the API's error event,
through the official ``anthropic`` SDK, via the proxy and via the transport.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import CLAUDE, Clients, clients_for

#: Output checks that redact PII and block a card (the README's pii example, output side).
PII_POLICY = """\
output:
  - check: pii
    action: redact
    entities: [EMAIL_ADDRESS, CREDIT_CARD]
    per_entity: {CREDIT_CARD: {action: block}}
"""
KEYWORD_POLICY = """\
output:
  - check: rules
    rules:
      - name: weapons
        action: block
        keywords: [how to build a bomb]
"""


def _event(data: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (data["type"].encode(), json.dumps(data).encode())


def _text_blocks(*texts: str, ping: bool = False) -> list[bytes]:
    usage = {"input_tokens": 1, "output_tokens": 1}
    message = {"id": "m", "type": "message", "role": "assistant", "model": CLAUDE, "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": usage}  # fmt: skip
    events = [_event({"type": "message_start", "message": message})]
    for index, text in enumerate(texts):
        block = {"type": "text", "text": ""}
        events.append(
            _event({"type": "content_block_start", "index": index, "content_block": block})
        )
        for start in range(0, len(text), 7):
            delta = {"type": "text_delta", "text": text[start : start + 7]}
            events.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(_event({"type": "content_block_stop", "index": index}))
        if ping:
            events.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(_event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 5}}))
    return [*events, _event({"type": "message_stop"})]


@pytest.fixture(params=["proxy", "transport"])
def frontend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _clients(
    frontend: str, policy: str, tmp_path: Path, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer],
) -> Clients:  # fmt: skip
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    return clients_for(frontend, path, fake_upstream, start_proxy)


def _blocks(clients: Clients) -> list[str]:
    """The text blocks of the streamed reply, as the SDK assembled them."""
    ant: Any = clients.anthropic
    messages = [{"role": "user", "content": "go"}]
    with ant.messages.stream(model=CLAUDE, max_tokens=256, messages=messages) as events:
        final = events.get_final_message()
    return [block.text for block in final.content if block.type == "text"]


@pytest.mark.parametrize(
    ("policy", "first", "second", "expected"),
    [
        ("extends: default\n", "use sk-proj-abcdefghij", "klmnopqrstuvwxyz0123 now",
         ["use [API_KEY]", " now"]),
        (PII_POLICY, "write to maria.lopez@", "example.org today",
         ["write to <EMAIL_ADDRESS>", " today"]),
    ],
    ids=["key", "email"],
)  # fmt: skip
def test_a_value_cut_across_two_streamed_text_blocks_is_redacted(
    policy: str, first: str, second: str, expected: list[str], frontend: str,
    fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients(frontend, policy, tmp_path, fake_upstream, start_proxy)
    fake_upstream.enqueue(Script(events=_text_blocks(first, second, ping=True)))
    assert _blocks(clients) == expected


@pytest.mark.parametrize(
    ("policy", "first", "second", "rule"),
    [
        ("extends: default\n", "here: -----BEGIN RSA PRIV", "ATE KEY-----\nMIIE", "private-key"),
        (PII_POLICY, "charge 4111 1111", " 1111 1111 please", "CREDIT_CARD"),
        (KEYWORD_POLICY, "this is how to build a b", "omb, step by step", "weapons"),
    ],
    ids=["private-key", "card", "keyword"],
)  # fmt: skip
def test_a_value_cut_across_two_streamed_text_blocks_ends_the_stream_with_an_error_event(
    policy: str, first: str, second: str, rule: str, frontend: str,
    fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients(frontend, policy, tmp_path, fake_upstream, start_proxy)
    fake_upstream.enqueue(Script(events=_text_blocks(first, second)))
    with pytest.raises(anthropic.APIStatusError) as caught:
        _blocks(clients)
    assert rule in str(caught.value)
    assert "1111" not in str(caught.value) and "omb" not in str(caught.value)
