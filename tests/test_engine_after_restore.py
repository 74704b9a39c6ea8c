"""``Guard.before(call)`` / ``after(call, reply)``: a reply to a pseudonymised request
gets the caller's values back, as through the proxy and the transport."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy, formats

POLICY = """\
name: pseudonyms
input:
  - check: pii
    action: pseudonymise
    entities: [EMAIL_ADDRESS]
"""
EMAIL = "jane.roe@example.org"


def _reply_bytes(api: str, text: str) -> bytes:
    if api == "openai.chat":
        return json.dumps({
            "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }).encode()  # fmt: skip
    return json.dumps({
        "id": "m1", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 5},
    }).encode()  # fmt: skip


def _request(api: str) -> bytes:
    body: dict[str, object] = {
        "model": "gpt-4o-mini" if api == "openai.chat" else "claude-sonnet-4",
        "messages": [{"role": "user", "content": f"Write to {EMAIL} about the invoice."}],
    }
    if api == "anthropic.messages":
        body["max_tokens"] = 50
    return json.dumps(body).encode()


@pytest.mark.parametrize("api", ["openai.chat", "anthropic.messages"])
def test_after_restores_the_pseudonyms_before_sent(api: str) -> None:
    guard = Guard(Policy.from_yaml(POLICY), registry=CollectorRegistry())
    fmt = formats.get(api)
    call = fmt.parse_request(_request(api), None)
    decision = guard.before(call)
    sent = fmt.request_body(call).decode()
    assert EMAIL not in sent and "<EMAIL_ADDRESS_1>" in sent, decision
    reply = fmt.parse_reply(call, _reply_bytes(api, "Sent to <EMAIL_ADDRESS_1>, done."))
    guard.after(call, reply)
    assert [c.text for c in reply.choices] == [f"Sent to {EMAIL}, done."]
    assert EMAIL in fmt.reply_body(reply).decode()
    assert "<EMAIL_ADDRESS_1>" not in fmt.reply_body(reply).decode()


def test_after_leaves_a_placeholder_the_model_invented() -> None:
    guard = Guard(Policy.from_yaml(POLICY), registry=CollectorRegistry())
    fmt = formats.get("openai.chat")
    call = fmt.parse_request(_request("openai.chat"), None)
    guard.before(call)
    reply = fmt.parse_reply(call, _reply_bytes("openai.chat", "Also <EMAIL_ADDRESS_7>."))
    guard.after(call, reply)
    assert reply.choices[0].text == "Also <EMAIL_ADDRESS_7>."
