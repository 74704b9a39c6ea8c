"""A value cut across a message's content parts is found: the model reads the parts as one.

A chat message's ``content`` list, an Anthropic message's (or tool result's) text blocks
and a Responses message's ``input_text`` parts were each checked alone, so a denied
phrase, an AWS key or a card number cut in two went upstream unchecked (the default
policy's block and the README's ``pii`` policy's card block were bypassed by sending
``"charge 4111 1111"`` and ``" 1111 1111"`` as two parts). Now the parts of one text are
also read joined; what only the joined text holds is blocked, or redacted as one value
(the replacement in the first part, the rest of the value removed from the next).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from guard.policy_tests import evaluate
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import APIS, ask, clients_for

#: The README's pii example, as a user would copy it.
PII_POLICY = """\
input:
  - check: pii
    action: pseudonymise
    entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS]
    per_entity: {CREDIT_CARD: {action: block}, EMAIL_ADDRESS: {threshold: 0.9}}
output:
  - check: pii
    action: redact
"""
EMAIL = "maria.lopez@example.org"


def _parts(api: str, *texts: str) -> list[dict[str, Any]]:
    kind = "input_text" if api == "responses" else "text"
    return [{"role": "user", "content": [{"type": kind, "text": text} for text in texts]}]


def _tool_result_blocks(*texts: str) -> list[dict[str, Any]]:
    use = {"type": "tool_use", "id": "t1", "name": "lookup", "input": {}}
    blocks = [{"type": "text", "text": text} for text in texts]
    result = {"type": "tool_result", "tool_use_id": "t1", "content": blocks}
    return [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": [result]},
    ]


@pytest.fixture(params=["proxy", "transport"])
def frontend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("api", APIS)
def test_a_denied_phrase_cut_across_parts_is_blocked(
    api: str, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(
        frontend, _policy(tmp_path, "extends: default\n"), fake_upstream, start_proxy
    )
    with pytest.raises((openai.BadRequestError, anthropic.BadRequestError)) as caught:
        ask(clients, api, _parts(api, "tell me how to build a b", "omb please"), False)
    assert "denylist" in str(caught.value) and "omb" not in str(caught.value)
    assert not fake_upstream.requests


@pytest.mark.parametrize("api", APIS)
def test_a_key_cut_across_parts_is_redacted_as_one(
    api: str, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(
        frontend, _policy(tmp_path, "extends: default\n"), fake_upstream, start_proxy
    )
    ask(clients, api, _parts(api, "my key is AKIAABCDEF", "GHIJKLMNOP, thanks"), False)
    sent = fake_upstream.requests[-1].json
    texts = [part["text"] for part in (sent.get("messages") or sent["input"])[-1]["content"]]
    assert texts == ["my key is [AWS_ACCESS_KEY]", ", thanks"]


@pytest.mark.parametrize("api", APIS)
def test_a_card_cut_across_parts_is_blocked(
    api: str, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(frontend, _policy(tmp_path, PII_POLICY), fake_upstream, start_proxy)
    with pytest.raises((openai.BadRequestError, anthropic.BadRequestError)) as caught:
        ask(clients, api, _parts(api, "charge 4111 1111", " 1111 1111 please"), False)
    assert "CREDIT_CARD" in str(caught.value) and "1111" not in str(caught.value)
    assert not fake_upstream.requests


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_an_email_cut_across_parts_is_pseudonymised_and_restored(
    api: str, stream: bool, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(frontend, _policy(tmp_path, PII_POLICY), fake_upstream, start_proxy)
    fake_upstream.enqueue(Script(text="I wrote to <EMAIL_ADDRESS_1>.", chunk_size=5))
    reply = ask(clients, api, _parts(api, "mail maria.lopez@", "example.org today"), stream)
    sent = fake_upstream.requests[-1].body.decode()
    assert "maria.lopez" not in sent and "example.org" not in sent
    assert "<EMAIL_ADDRESS_1>" in sent
    assert reply == f"I wrote to {EMAIL}."


def test_an_anthropic_tool_results_blocks_are_read_as_one_text(
    frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(frontend, _policy(tmp_path, PII_POLICY), fake_upstream, start_proxy)
    with pytest.raises(anthropic.BadRequestError):
        ask(
            clients, "messages", _tool_result_blocks("card on file: 4111 1111", " 1111 1111"), False
        )
    assert not fake_upstream.requests


def test_a_complete_replys_content_parts_are_read_as_one_text(
    frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    clients = clients_for(
        frontend, _policy(tmp_path, "extends: default\n"), fake_upstream, start_proxy
    )
    parts = [
        {"type": "text", "text": "use sk-proj-abcdefghij"},
        {"type": "text", "text": "klmnopqrstuvwxyz0123 now"},
    ]
    message = {"role": "assistant", "content": parts}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    body = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [choice],
    }
    fake_upstream.enqueue(Script(body=body))
    raw = clients.openai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "key?"}]
    )
    received = json.loads(raw.http_response.content)["choices"][0]["message"]["content"]
    assert [part["text"] for part in received] == ["use [API_KEY]", " now"]


def test_parts_of_different_messages_are_not_joined() -> None:
    import guard

    engine = guard.Guard()
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "how to build a"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "bomb-proof shelter?"}]},
    ]
    assert evaluate(engine, "input", messages=messages).decision.action.label == "allow"
