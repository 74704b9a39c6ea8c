"""Reply fields the model writes that reached the client unchecked (black-box probe,
session 6): a chat message's ``annotations[].url_citation`` (title and url), the legacy
``choices[].text`` of a chat reply (some OpenAI-compatible servers send it), the
Responses API's ``url_citation`` annotations of ``output_text`` parts (complete, and
streamed as ``response.output_text.annotation.added``, ``content_part.done``,
``output_item.done`` and the terminal event), and a ``web_search_call``'s
``action.query``. Before, a private key there passed a policy that blocks it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard import Policy
from guard.formats import get
from guard.policy import data_path
from tests.e2e import test_coverage as coverage
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY----- MIIBxyz"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
SAID = f"the key is {API_KEY} ok"
REDACTED = "the key is [API_KEY] ok"


def _citation(title: str, url: str = "https://example.com/a") -> dict[str, Any]:
    return {"type": "url_citation", "start_index": 0, "end_index": 3, "title": title, "url": url}


def _chat(message: dict[str, Any], **choice: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", **choice}],
    }


def _chat_annotation(title: str, url: str = "https://example.com/a") -> dict[str, Any]:
    citation = _citation(title, url)
    del citation["type"]
    return {"type": "url_citation", "url_citation": citation}


def _response(*items: dict[str, Any]) -> dict[str, Any]:
    return {"id": "r", "object": "response", "status": "completed", "output": list(items)}


def _message_item(text: str, *annotations: dict[str, Any]) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": list(annotations)}
    return {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
            "content": [part]}  # fmt: skip


def _search_item(query: str) -> dict[str, Any]:
    action = {"type": "search", "query": query}
    return {"type": "web_search_call", "id": "ws1", "status": "completed", "action": action}


#: Case -> (path, the complete reply with the text in the field).
COMPLETE: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "chat annotation title": (
        "/v1/chat/completions",
        lambda t: _chat(
            {"role": "assistant", "content": "see", "annotations": [_chat_annotation(t)]}
        ),
    ),
    "chat annotation url": (
        "/v1/chat/completions",
        lambda t: _chat(
            {
                "role": "assistant",
                "content": "see",
                "annotations": [_chat_annotation("t", "https://example.com/?" + t)],
            }
        ),
    ),
    "chat legacy choice text": (
        "/v1/chat/completions",
        lambda t: _chat({"role": "assistant", "content": "ok"}, text=t),
    ),
    "responses annotation title": (
        "/v1/responses",
        lambda t: _response(_message_item("see", _citation(t))),
    ),
    "responses web search query": ("/v1/responses", lambda t: _response(_search_item(t))),
}


def _ask(proxy: ProxyServer, path: str, stream: bool = False) -> httpx.Response:
    body: dict[str, Any] = {"model": "m", "stream": stream}
    if path == "/v1/responses":
        body["input"] = "q"
    else:
        body["messages"] = [{"role": "user", "content": "q"}]
    return httpx.post(proxy.url + path, json=body, timeout=10)


@pytest.mark.parametrize("case", COMPLETE)
def test_model_text_in_a_complete_reply_field_is_blocked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, case: str
) -> None:
    path, reply = COMPLETE[case]
    fake_upstream.enqueue(Script(body=reply(PRIVATE_KEY)))
    response = _ask(upstream_proxy, path)
    assert response.status_code == 400, response.text
    assert "PRIVATE KEY" not in response.text and "secrets" in response.text


@pytest.mark.parametrize("case", COMPLETE)
def test_model_text_in_a_complete_reply_field_is_redacted_in_place(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, case: str
) -> None:
    path, reply = COMPLETE[case]
    fake_upstream.enqueue(Script(body=reply(SAID)))
    response = _ask(upstream_proxy, path)
    assert response.status_code == 200, response.text
    assert API_KEY not in response.text
    assert response.json() == reply(REDACTED)


# -- streams ------------------------------------------------------------------------------


def _data(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _event(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def _chat_stream(**choice: Any) -> list[bytes]:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    first = {"index": 0, "delta": {"role": "assistant", "content": "see"}, "finish_reason": None}
    middle = {"index": 0, "delta": {}, "finish_reason": None, **choice}
    last = {"index": 0, "delta": {}, "finish_reason": "stop"}
    return [
        *(_data(chunk | {"choices": [item]}) for item in (first, middle, last)),
        b"data: [DONE]\n\n",
    ]


def _responses_events(item: dict[str, Any], *between: dict[str, Any]) -> list[bytes]:
    """created, the item added (without its text), ``between``, the item done, completed."""
    response = {"id": "r", "object": "response", "model": "m", "output": []}
    started = item | {"status": "in_progress"}
    if item["type"] == "message":
        started["content"] = []
    elif item["type"] == "web_search_call":
        started["action"] = {"type": "search"}
    events = [
        {"type": "response.created", "response": response | {"status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": started},
        *between,
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": _response(item) | {"model": "m"}},
    ]
    return [_event(event | {"sequence_number": n}) for n, event in enumerate(events)]


def _annotated_stream(title: str) -> list[bytes]:
    item = _message_item("see", _citation(title))
    part = item["content"][0]
    where = {"item_id": "m1", "output_index": 0, "content_index": 0}
    return _responses_events(
        item,
        {"type": "response.content_part.added", **where, "part": part | {"text": "", "annotations": []}},
        {"type": "response.output_text.delta", **where, "delta": "see", "logprobs": []},
        {"type": "response.output_text.annotation.added", **where, "annotation_index": 0,
         "annotation": _citation(title)},
        {"type": "response.output_text.done", **where, "text": "see", "logprobs": []},
        {"type": "response.content_part.done", **where, "part": part},
    )  # fmt: skip


def _search_stream(query: str) -> list[bytes]:
    where = {"item_id": "ws1", "output_index": 0}
    return _responses_events(
        _search_item(query),
        {"type": "response.web_search_call.searching", **where},
        {"type": "response.web_search_call.completed", **where},
    )


#: Case -> (path, the stream with the text in the field).
STREAMS: dict[str, tuple[str, Callable[[str], list[bytes]]]] = {
    "chat annotation title": (
        "/v1/chat/completions",
        lambda t: _chat_stream(delta={"annotations": [_chat_annotation(t)]}),
    ),
    "chat legacy choice text": ("/v1/chat/completions", lambda t: _chat_stream(text=t)),
    "responses annotation title": ("/v1/responses", _annotated_stream),
    "responses web search query": ("/v1/responses", _search_stream),
}


@pytest.mark.parametrize("case", STREAMS)
def test_a_stream_never_releases_model_text_of_a_reply_field_unchecked(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream, case: str
) -> None:
    path, events = STREAMS[case]
    for text, blocked in ((PRIVATE_KEY, True), (SAID, False)):
        fake_upstream.enqueue(Script(events=events(text)))
        response = _ask(upstream_proxy, path, stream=True)
        assert "PRIVATE KEY" not in response.text and API_KEY not in response.text
        assert ('"error"' in response.text) is blocked, response.text
        if not blocked:  # (streamed text may go out in pieces around the redaction)
            assert "[API_KEY]" in response.text


# -- through the openai SDK ---------------------------------------------------------------

SDK_CASES: dict[str, tuple[Callable[[str], dict[str, Any]], Callable[[str], list[bytes]]]] = {
    "responses annotation title": (
        lambda t: _response(_message_item("see", _citation(t))),
        _annotated_stream,
    ),
    "responses web search query": (lambda t: _response(_search_item(t)), _search_stream),
    # (An output item of a type this version does not know: the SDK passes it on too.)
    "responses unknown item": (
        lambda t: _response(_future_item(t)),
        lambda t: _responses_events(_future_item(t)),
    ),
}


def _future_item(text: str) -> dict[str, Any]:
    return {"type": "x_future_item", "id": "f1", "status": "completed", "body": {"words": text}}


@pytest.mark.parametrize("case", SDK_CASES)
@pytest.mark.parametrize("stream", [False, True])
def test_the_sdk_gets_the_responses_field_redacted(case: str, stream: bool) -> None:
    engine = guard.Guard(registry=CollectorRegistry())
    complete, events = SDK_CASES[case]
    body = (
        b"".join(events(SAID)) if stream else json.dumps(complete(SAID) | {"model": "m"}).encode()
    )
    upstream = coverage.Upstream(body, sse=stream)
    client = coverage.openai_client(engine, upstream)
    if stream:
        seen = [
            event.model_dump(warnings=False)
            for event in client.responses.create(model="m", input="q", stream=True)
        ]
    else:
        seen = [client.responses.create(model="m", input="q").model_dump(warnings=False)]
    text = json.dumps(seen)
    assert API_KEY not in text and "[API_KEY]" in text


@pytest.mark.parametrize("mode", ["progressive", "buffer"])
@pytest.mark.parametrize("case", ["responses annotation title", "responses web search query"])
def test_both_stream_modes_rewrite_every_event_that_repeats_the_field(mode: str, case: str) -> None:
    text = data_path("rules", "default.yaml").read_text(encoding="utf-8")
    policy = Policy.from_yaml(text.replace("  mode: progressive", f"  mode: {mode}"))
    engine = guard.Guard(policy, registry=CollectorRegistry())
    fmt = get("openai.responses")
    call = fmt.parse_request(b'{"model": "m", "input": "q", "stream": true}')
    stream = fmt.stream_filter(call, engine)
    out = (
        b"".join(stream.feed(event) for event in STREAMS[case][1](SAID)) + stream.close()
    ).decode()
    # The citation: annotation.added, content_part.done, output_item.done and completed
    # (a buffered stream is rendered anew: the item and the completed response).
    least = 4 if mode == "progressive" and "annotation" in case else 2
    assert API_KEY not in out and out.count(REDACTED) >= least, out
