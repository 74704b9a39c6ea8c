"""Token counting formats: input checks only (anthropic_count.py, openai_input_tokens.py)."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard
from guard.errors import GuardError
from guard.formats import get
from guard.types import Action, Reply, Usage

AWS = "AKIAABCDEFGHIJKLMNOP"
REQUESTS = {
    "anthropic.count_tokens": {
        "model": "c",
        "system": "be brief",
        "messages": [{"role": "user", "content": f"my key is {AWS}"}],
        "stream": True,
        "max_tokens": 5,
    },
    "openai.input_tokens": {
        "input": f"my key is {AWS}",
        "instructions": "be brief",
        "stream": True,
    },
}
REPLIES = {
    "anthropic.count_tokens": b'{"input_tokens": 17}',
    "openai.input_tokens": b'{"object": "response.input_tokens", "input_tokens": 17}',
}


@pytest.fixture(scope="module")
def engine() -> Guard:
    return Guard(registry=CollectorRegistry())


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_prompt_gets_the_input_checks(engine: Guard, name: str) -> None:
    fmt = get(name)
    call = fmt.parse_request(json.dumps(REQUESTS[name]).encode())
    assert call.format == name and not call.stream
    assert call.max_tokens is None and call.response_format is None
    assert [s.text for s in call.segments] == ["be brief", f"my key is {AWS}"]
    assert engine.before(call).action is Action.REDACT
    assert AWS not in fmt.request_body(call).decode()


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_reply_is_a_count_not_model_text(engine: Guard, name: str) -> None:
    fmt = get(name)
    assert getattr(fmt, "checks_reply", True) is False
    call = fmt.parse_request(json.dumps(REQUESTS[name]).encode())
    reply = fmt.parse_reply(call, REPLIES[name])
    # No usage: counting spends no tokens (nothing for the token and cost metrics).
    assert reply.choices == [] and reply.usage is None and reply.text == ""
    assert engine.after(call, reply).action is Action.ALLOW
    assert fmt.reply_body(reply) is REPLIES[name]
    assert json.loads(fmt.render_reply(call, reply)) == json.loads(REPLIES[name])
    with pytest.raises(GuardError, match="does not stream"):
        fmt.stream_filter(call, engine)
    demo = fmt.render_reply(call, Reply(name, [], Usage(9, 3)))
    assert json.loads(demo)["input_tokens"] == 9


def test_the_openai_count_may_leave_out_the_model() -> None:
    call = get("openai.input_tokens").parse_request(b'{"input": "hi"}')
    assert call.model is None
    with pytest.raises(GuardError, match="'model' is required"):
        get("openai.responses").parse_request(b'{"input": "hi"}')
