"""Upstream replies the guard cannot pass on, and the error that names what is wrong.

Through the official SDKs, proxy and transport: a 200 that is not UTF-8, an empty 200,
an HTML page (its Content-Type named), and a reply with a key that differs from a field only in case (``"Content"`` beside
``content``: a client in Go or ASP.NET may read the one the guard did not check). Each
is a 502 (a stream's error event once it started) whose message says which fault it is,
counted as ``upstream_error``, never quoting the reply's text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import anthropic
import openai
import pytest

from guard.errors import UpstreamError
from guard.formats._json import load_reply
from tests.e2e.fixtures import ProxyServer
from tests.probe3._upstream import MARKER, Faulty, call, frontend_for
from tests.probe3._upstream import shared_upstream as shared_upstream  # a fixture
from tests.probe3._upstream import upstream as upstream  # a fixture

APIS = ("chat", "responses", "messages")
#: What the message says, per fault.
SAYS = {
    "not_utf8": "not valid UTF-8",
    "empty_body": "an empty body",
    "html_page": "not valid JSON (its Content-Type is text/html, not JSON)",
    "case_variant": "only in case",
}


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("fault", "stream"),
    [
        ("not_utf8", False),
        ("empty_body", False),
        ("html_page", False),
        ("case_variant", False),
        ("case_variant", True),
    ],
    ids=["not_utf8", "empty_body", "html_page", "case_variant", "case_variant-stream"],
)
def test_a_broken_reply_is_a_502_that_names_its_fault(
    upstream: Faulty,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    stream: bool,
    api: str,
    frontend: str,
) -> None:
    upstream.fault = fault
    clients = frontend_for(frontend, upstream.url, tmp_path, start_proxy)
    with (
        caplog.at_level(logging.DEBUG, logger="guard"),
        caplog.at_level(logging.DEBUG, logger="guardwire"),
        pytest.raises((openai.APIError, anthropic.APIError)) as raised,
    ):
        call(clients, api, stream)
    error = raised.value
    assert not isinstance(error, openai.APIConnectionError | anthropic.APIConnectionError)
    if not stream:
        assert getattr(error, "status_code", None) == 502, repr(error)
    message = str(error)
    assert SAYS[fault] in message, message
    if fault != "html_page":
        assert "not valid JSON" not in message
    if fault == "case_variant":
        assert "'Content'" in message or "'Text'" in message or "'Delta'" in message, message
    assert MARKER not in message
    assert not [r for r in caplog.records if MARKER in r.getMessage()]
    assert len(upstream.bodies) == 1
    clients.settled(calls=1)
    assert clients.calls() == {"upstream_error": 1.0}


#: Replies whose case variants sit in maps the client owns (a tool call's input, a tool's
#: JSON Schema echoed by the Responses API, metadata): data, passed on.
CLIENT_MAPS = {
    "a tool_use input": (
        "Anthropic",
        {"type": "message", "role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": "f", "input": {"Content": "x", "Text": 1}}]},
    ),
    "Responses tools and metadata": (
        "OpenAI",
        {"object": "response", "output": [], "metadata": {"Text": "x"}, "tools": [
            {"type": "function", "name": "f", "parameters": {
                "type": "object", "properties": {"Content": {"type": "string"}}}}]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CLIENT_MAPS)
def test_a_case_variant_in_a_map_the_client_owns_is_data(case: str) -> None:
    api, reply = CLIENT_MAPS[case]
    assert load_reply(json.dumps(reply).encode(), api) == reply


@pytest.mark.parametrize(
    "reply",
    [
        {"choices": [{"message": {"content": "clean", "Content": MARKER}}]},
        {"Choices": [{"message": {"content": MARKER}}]},
        {"choices": [{"message": {"tool_calls": [{"function": {"Arguments": MARKER}}]}}]},
        {"choices": [{"me\u017f\u017fage": {"content": MARKER}}]},  # long s
        {"usage": {"Output_tokens": 1}},
    ],
)
def test_a_reply_with_a_case_variant_of_a_field_is_an_upstream_fault(reply: object) -> None:
    with pytest.raises(UpstreamError) as raised:
        load_reply(json.dumps(reply).encode(), "OpenAI")
    assert raised.value.status == 502
    assert "only in case" in str(raised.value)
    assert MARKER not in str(raised.value)
    # The next reply decoded on this thread starts afresh.
    assert load_reply(b'{"choices": []}', "OpenAI") == {"choices": []}
