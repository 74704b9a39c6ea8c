"""The built-in offline demo model (``guardwire-demo``).

With no upstream configured, ``guardwire serve`` answers from this deterministic model so
that the proxy runs end to end on a fresh machine with no key and no network. It speaks
both wire formats (through the same format modules as real replies), streams, reports
usage, and calls a declared tool when the prompt names it. :class:`DemoTransport` puts
the same model behind an httpx transport, for in-process examples and tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from guard import formats
from guard._httpx import ASYNC_STREAMS, ASYNC_TRANSPORTS, SYNC_STREAMS, SYNC_TRANSPORTS, package_of
from guard.errors import RequestError
from guard.formats.base import dumps
from guard.types import Call, Choice, Reply, ToolCall, Usage

MODEL = "guardwire-demo"
_JSON = [("content-type", "application/json")]
_SSE = [("content-type", "text/event-stream")]


def _tokens(text: str) -> int:
    return len(text.encode("utf-8")) // 4 + 1


def _example(schema: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A minimal value that satisfies a simple JSON Schema (demo tool arguments and
    structured replies): ``$ref`` into ``$defs``, ``anyOf``/``oneOf``, ``const``, ``enum``,
    type lists, minimum sizes. ``defs`` is the root schema's ``$defs``."""
    if not isinstance(schema, dict) or depth > 32:
        return None
    if defs is None:
        defs = schema.get("$defs") or schema.get("definitions") or {}
    reference = schema.get("$ref")
    if isinstance(reference, str):
        return _example(defs.get(reference.rsplit("/", 1)[-1]), defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return _example(options[0], defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            name: _example(properties.get(name), defs, depth + 1)
            for name in schema.get("required", [])
        }
    if kind == "array":
        item = _example(schema.get("items"), defs, depth + 1)
        return [item] * int(schema.get("minItems", 0))
    if kind == "string":
        return "demo".ljust(int(schema.get("minLength", 0)), "o")
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    return {"boolean": True}.get(kind) if isinstance(kind, str) else None


def _structured(call: Call, last_user: str) -> str | None:
    """The demo's JSON reply when the request asks for one (``response_format``)."""
    wanted = call.response_format or {}
    if wanted.get("type") == "json_object":
        return json.dumps({"model": MODEL, "you_said": last_user})
    if wanted.get("type") != "json_schema":
        return None
    spec = wanted.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else wanted.get("schema")
    return json.dumps(_example(schema))


def answer(call: Call) -> Reply:
    """The demo model's deterministic reply to a call."""
    last_user = next((s.text for s in reversed(call.segments) if s.role == "user"), "")
    choice = Choice(0, finish_reason="stop")
    named = [t for t in call.tools if t.get("name") and t["name"] in last_user]
    if named:
        tool = named[0]
        arguments = json.dumps(_example(tool.get("parameters") or {"type": "object"}) or {})
        choice.tool_calls.append(
            ToolCall(f"call_demo_{int(time.time() * 1000)}", tool["name"], arguments)
        )
        choice.finish_reason = "tool_calls"
    elif (structured := _structured(call, last_user)) is not None:
        choice.text = structured
    else:
        choice.text = (
            "This is guardwire's offline demo model (no upstream is configured). "
            f"You said: {last_user}"
            if last_user
            else "This is guardwire's offline demo model."
        )
    usage = Usage(
        _tokens(call.text()), _tokens(choice.text + "".join(c.arguments for c in choice.tool_calls))
    )
    # Chat's ``n``: as many alike choices as asked (capped: it is a demo).
    wanted = call.raw.get("n") if call.format == "openai.chat" and isinstance(call.raw, dict) else 1
    count = min(wanted, 8) if isinstance(wanted, int) and not isinstance(wanted, bool) else 1
    choices = [choice] + [
        Choice(i, choice.text, list(choice.tool_calls), choice.finish_reason)
        for i in range(1, count)
    ]
    usage.output_tokens *= len(choices)
    return Reply(call.format, choices, usage=usage, model=MODEL)


def respond(
    method: str, path: str, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes | list[bytes]]:
    """The demo model's HTTP answer: status, headers, and a body or the SSE events."""
    if method == "GET" and path.rstrip("/").endswith("/models"):
        listing = {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "guardwire"}],
        }
        return 200, _JSON, dumps(listing)
    fmt = formats.for_path(path) if method == "POST" else None
    if fmt is None:
        message = f"the demo model does not serve {method} {path}"
        error = {
            "error": {
                "message": message,
                "type": "not_found_error",
                "param": None,
                "code": "not_found",
            }
        }
        return 404, _JSON, dumps(error)
    try:
        call = fmt.parse_request(body)
    except RequestError as exc:
        return exc.status, _JSON, fmt.error_body(exc.status, str(exc), exc.code)
    reply = answer(call)
    if call.stream:
        return 200, _SSE, list(fmt.render_stream(call, reply))
    return 200, _JSON, fmt.render_reply(call, reply)


class _Events(*SYNC_STREAMS, *ASYNC_STREAMS):  # type: ignore[misc]
    def __init__(self, events: list[bytes]) -> None:
        self._events = events

    def __iter__(self) -> Iterator[bytes]:
        yield from self._events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self._events:
            yield event


class DemoTransport(*SYNC_TRANSPORTS, *ASYNC_TRANSPORTS):  # type: ignore[misc]
    """An httpx (or httpx2) transport answered by the demo model, sync and async."""

    def handle_request(self, request: Any) -> Any:
        package = package_of(request)
        status, headers, body = respond(request.method, request.url.path, request.read())
        if isinstance(body, list):
            return package.Response(status, headers=headers, stream=_Events(body), request=request)
        return package.Response(status, headers=headers, content=body, request=request)

    async def handle_async_request(self, request: Any) -> Any:
        await request.aread()
        return self.handle_request(request)
