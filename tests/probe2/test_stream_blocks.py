"""A value cut across two text blocks of a *streamed* Anthropic reply (or two
``output_text`` parts of a streamed Responses message) is caught.

The complete reply's text blocks are read as one text (guard.checks._text_parts); the
stream's consecutive text blocks share one stream channel, so a key, an email, a card or
a denied phrase cut at a block boundary is redacted (the replacement in the block where
it starts, the rest removed from the next) or ends the stream with the API's error event,
through the official SDKs, via the proxy and via the transport.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from guard.formats.openai_responses import FORMAT as RESPONSES
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


def _two_output_text_parts(first: str, second: str) -> list[bytes]:
    """A Responses stream of one message with two ``output_text`` parts."""
    parts = [{"type": "output_text", "text": text, "annotations": []} for text in (first, second)]
    message = {"id": "msg", "type": "message", "role": "assistant", "status": "completed",
               "content": parts}  # fmt: skip
    body = {"id": "r", "object": "response", "created_at": 1, "status": "completed",
            "model": "gpt-4o", "output": [message],
            "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}  # fmt: skip
    call = RESPONSES.parse_request(b'{"model": "gpt-4o", "input": "go", "stream": true}')
    return list(RESPONSES.render_stream(call, RESPONSES.reply_from_raw(body)))


def test_a_key_cut_across_two_streamed_output_text_parts_is_redacted(
    frontend: str, fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients(frontend, "extends: default\n", tmp_path, fake_upstream, start_proxy)
    events = _two_output_text_parts("use sk-proj-abcdefghij", "klmnopqrstuvwxyz0123 now")
    fake_upstream.enqueue(Script(events=events))
    oai: Any = clients.openai
    with oai.responses.stream(model="gpt-4o", input="go") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert [part.text for part in final.output[0].content] == ["use [API_KEY]", " now"]
    assert "".join(deltas) == "use [API_KEY] now"


def test_a_card_cut_across_two_streamed_output_text_parts_ends_with_the_error_event(
    frontend: str, fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients(frontend, PII_POLICY, tmp_path, fake_upstream, start_proxy)
    events = _two_output_text_parts("charge 4111 1111", " 1111 1111 please")
    fake_upstream.enqueue(Script(events=events))
    oai: Any = clients.openai
    with pytest.raises(openai.APIError) as caught:
        for _ in oai.responses.create(model="gpt-4o", input="go", stream=True):
            pass
    assert "CREDIT_CARD" in str(caught.value) and "1111" not in str(caught.value)


#: The README's pii example (pseudonymised input, restored in the reply).
PSEUDONYMS = """\
input:
  - check: pii
    action: pseudonymise
    entities: [EMAIL_ADDRESS]
output:
  - check: pii
    action: redact
"""


def test_placeholders_in_joined_text_blocks_are_restored_in_their_block(
    frontend: str, fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:  # fmt: skip
    clients = _clients(frontend, PSEUDONYMS, tmp_path, fake_upstream, start_proxy)
    events = _text_blocks("I wrote to <EMAIL_ADDRESS_1>", " and <EMAIL_ADDRESS_1> today.")
    fake_upstream.enqueue(Script(events=events))
    ant: Any = clients.anthropic
    messages = [{"role": "user", "content": "mail maria.lopez@example.org"}]
    with ant.messages.stream(model=CLAUDE, max_tokens=256, messages=messages) as stream:
        final = stream.get_final_message()
    assert "maria.lopez" not in fake_upstream.requests[-1].body.decode()
    assert [block.text for block in final.content] == [
        "I wrote to maria.lopez@example.org",
        " and maria.lopez@example.org today.",
    ]
