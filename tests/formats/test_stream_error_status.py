"""A refusal's error event in a stream carries the error type the same refusal has
unstreamed: the type comes from the refusing verdict's status (an agent limit's 403, a
budget's 429, a state-store outage's 503), never from a table of codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guard import formats


def _event_error(body: bytes) -> dict[str, Any]:
    data = next(
        line.removeprefix(b"data: ") for line in body.splitlines() if line.startswith(b"data: ")
    )
    payload = json.loads(data)
    return dict(payload["error"])


@pytest.mark.parametrize("fmt_name", ["openai.chat", "openai.responses", "anthropic.messages"])
@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "agent_loop"), (429, "budget_exceeded"), (503, "store_unavailable"), (403, "new_kind")],
)
def test_a_refusals_event_has_its_unstreamed_error_type(
    fmt_name: str, status: int, code: str
) -> None:
    fmt = formats.get(fmt_name)
    unstreamed = json.loads(fmt.error_body(status, "refused", code))["error"]["type"]
    streamed = _event_error(fmt.stream_error("refused", code, status))
    assert streamed["type"] == unstreamed
    assert code in json.dumps(streamed)


@pytest.mark.parametrize("fmt_name", ["openai.chat", "openai.responses", "anthropic.messages"])
def test_without_a_status_a_refusal_is_an_invalid_request(fmt_name: str) -> None:
    fmt = formats.get(fmt_name)
    streamed = _event_error(fmt.stream_error("refused", "content_blocked"))
    assert streamed["type"] == "invalid_request_error"
