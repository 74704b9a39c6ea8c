"""Fast, scriptable fake OpenAI + Anthropic upstream for tests and load benchmarks.

Serves ``POST /v1/chat/completions`` and ``POST /v1/responses`` (OpenAI), ``POST
/v1/messages`` (Anthropic) and ``GET /v1/models`` over HTTP/1.1 keep-alive, parsing with ``httptools`` on a bare
``asyncio.Protocol`` (uvloop when importable). Anything else gets a 404.

In tests::

    with FakeUpstream() as up:
        up.enqueue(Script(tool_calls=[("get_weather", {"city": "Paris"})]), Script(status=500))
        ...  # point an SDK, httpx or the proxy at up.url
        assert up.requests[0].json["model"] == "gpt-4o"

As a benchmark process (serves the default reply forever)::

    python tests/fake_upstream.py --port 9100 --reply-bytes 1024
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import http
import itertools
import json
import secrets
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httptools

try:
    from uvloop import new_event_loop
except ImportError:  # pragma: no cover - uvloop is optional
    from asyncio import new_event_loop  # type: ignore[assignment]

DEFAULT_REPLY = "Hello from the fake upstream."
JSON_TYPE = b"application/json"
SSE_TYPE = b"text/event-stream"
_PROVIDERS = {
    "/v1/chat/completions": "openai",
    "/v1/responses": "responses",
    "/v1/messages": "anthropic",
}
_PHRASES = {status.value: status.phrase.encode() for status in http.HTTPStatus}
_FINISH = {
    "openai": ("stop", "tool_calls"),
    "responses": ("completed", "completed"),
    "anthropic": ("end_turn", "tool_use"),
}
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Non-stream bodies are serialized with this placeholder as the reply text, which is then
# swapped for the cached serialization of the real text (saves re-escaping it per request).
_TEXT_SLOT = f"\x00{secrets.token_hex(8)}"


def _dumps(obj: object) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON."""
    return _encode(obj).encode()


_TEXT_SLOT_JSON = _dumps(_TEXT_SLOT)
_text_json = functools.lru_cache(maxsize=64)(_dumps)


@dataclass
class Script:
    """How to answer one completion request.

    ``text=None`` means the server's ``reply_text``, unless ``tool_calls`` are given:
    then the reply has no text part. ``status`` != 200 sends ``body`` or a provider-shaped
    error. ``body`` replaces the whole response with plain JSON (even for stream requests).
    ``delay`` is waited before the headers, ``stream_delay`` between stream events.
    ``reset`` closes the connection with a TCP RST and no response; ``break_stream_after``
    sends that many events and then closes without the terminal chunk. ``usage`` is
    (prompt/input, completion/output) tokens, estimated from the texts when omitted.
    ``finish_reason`` is sent verbatim as OpenAI ``finish_reason``/Anthropic ``stop_reason``.
    ``events`` replaces a stream's rendered events with these raw SSE events (shapes the
    renderer does not make: legacy ``function_call`` deltas, custom tool calls...).
    """

    text: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] | None = None
    status: int = 200
    body: bytes | dict[str, Any] | None = None
    delay: float = 0.0
    reset: bool = False
    break_stream_after: int | None = None
    chunk_size: int = 8
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    stream_delay: float = 0.0
    events: list[bytes] | None = None


_DEFAULT_SCRIPT = Script()


@dataclass
class RecordedRequest:
    """One request as received: header names are lower-case, ``json`` is None if unparsable."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class _Reply:
    """A fully rendered response: raw bytes plus how to deliver them."""

    head: bytes  # status line and headers (plus the whole body for non-streams)
    events: list[bytes] = field(default_factory=list)  # chunk-framed stream events
    tail: bytes = b""  # the terminating chunk of a complete stream
    delay: float = 0.0
    stream_delay: float = 0.0
    close: bool = False
    reset: bool = False


@dataclass
class _Completion:
    """Everything needed to render a completion in either provider's format."""

    n: int
    model: str
    text: str | None
    tools: list[tuple[str, dict[str, Any], str]]  # (name, input, input as JSON)
    usage: tuple[int, int]
    finish: str
    chunk_size: int
    include_usage: bool
    created: int


def _estimate_tokens(text: str) -> int:
    """Deterministic token estimate: one token per four UTF-8 bytes, plus one."""
    return len(text.encode()) // 4 + 1


def _prompt_tokens(payload: dict[str, Any]) -> int:
    """Estimate prompt tokens from the system prompt and the message texts."""
    parts: list[str] = []
    for item in [{"content": payload.get("system")}, *(payload.get("messages") or [])]:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p["text"] for p in content if isinstance(p, dict) and "text" in p]
    return _estimate_tokens("".join(map(str, parts)))


def _split(text: str, size: int) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` characters."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _head(status: int, content_type: bytes, length: int | None, keep_alive: bool) -> bytes:
    """Render the status line and headers; ``length=None`` means a chunked body."""
    lines = [b"HTTP/1.1 %d %s" % (status, _PHRASES.get(status, b"Unknown"))]
    lines.append(b"Content-Type: " + content_type)
    if length is None:
        lines += [b"Cache-Control: no-cache", b"Transfer-Encoding: chunked"]
    else:
        lines.append(b"Content-Length: %d" % length)
    if not keep_alive:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _json_reply(status: int, body: bytes, keep_alive: bool, delay: float = 0.0) -> _Reply:
    """A complete Content-Length JSON response."""
    head = _head(status, JSON_TYPE, len(body), keep_alive)
    return _Reply(head + body, delay=delay, close=not keep_alive)


def _error_body(provider: str, status: int, message: str) -> bytes:
    """An error body shaped like the given provider's."""
    if provider == "anthropic":
        default = "api_error" if status >= 500 else "invalid_request_error"
        error = {"type": _ANTHROPIC_ERRORS.get(status, default), "message": message}
        return _dumps({"type": "error", "error": error})
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return _dumps({"error": {"message": message, "type": kind, "param": None, "code": None}})


def _openai_json(c: _Completion) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": c.text, "refusal": None}
    if c.tools:
        message["tool_calls"] = [
            {
                "id": f"call_fake{c.n}_{i}",
                "type": "function",
                "function": {"name": n, "arguments": a},
            }
            for i, (n, _, a) in enumerate(c.tools)
        ]
    prompt, completion = c.usage
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    return {
        "id": f"chatcmpl-fake{c.n}",
        "object": "chat.completion",
        "created": c.created,
        "model": c.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": c.finish}],
        "usage": {**usage, "total_tokens": prompt + completion},
        "system_fingerprint": "fp_fake",
    }


def _openai_events(c: _Completion) -> list[bytes]:
    """The SSE events of a streamed chat completion, ending with ``data: [DONE]``."""
    full = _openai_json(c)
    base = {"id": full["id"], "object": "chat.completion.chunk", "created": c.created}
    base |= {"model": c.model, "system_fingerprint": "fp_fake"}
    # Only the delta and finish_reason vary between chunks: serialize the rest once.
    prefix = b"data: " + _dumps(base)[:-1] + b',"choices":[{"index":0,"delta":'
    usage_null = b',"usage":null' if c.include_usage else b""

    def suffix(finish: str | None) -> bytes:
        return b',"logprobs":null,"finish_reason":%s}]%s}\n\n' % (_dumps(finish), usage_null)

    unfinished = suffix(None)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return prefix + _dumps(delta) + (unfinished if finish is None else suffix(finish))

    opening = {"role": "assistant", "content": None if c.text is None else "", "refusal": None}
    events = [chunk(opening)]
    content = prefix + b'{"content":'
    events += [content + _dumps(p) + b"}" + unfinished for p in _split(c.text or "", c.chunk_size)]
    for i, call in enumerate(full["choices"][0]["message"].get("tool_calls", [])):
        start = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        events.append(chunk({"tool_calls": [{"index": i, **start}]}))
        for piece in _split(call["function"]["arguments"], c.chunk_size):
            events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
    events.append(chunk({}, c.finish))
    if c.include_usage:
        events.append(b"data: " + _dumps({**base, "choices": [], "usage": full["usage"]}) + b"\n\n")
    return [*events, b"data: [DONE]\n\n"]


def _anthropic_json(c: _Completion) -> dict[str, Any]:
    """A non-streamed Anthropic ``message`` object."""
    content: list[dict[str, Any]] = [] if c.text is None else [{"type": "text", "text": c.text}]
    content += [
        {"type": "tool_use", "id": f"toolu_fake{c.n}_{i}", "name": name, "input": args}
        for i, (name, args, _) in enumerate(c.tools)
    ]
    return {
        "id": f"msg_fake{c.n}",
        "type": "message",
        "role": "assistant",
        "model": c.model,
        "content": content,
        "stop_reason": c.finish,
        "stop_sequence": None,
        "usage": {"input_tokens": c.usage[0], "output_tokens": c.usage[1]},
    }


def _anthropic_events(c: _Completion) -> list[bytes]:
    """The SSE events of a streamed Anthropic message, ending with ``message_stop``."""

    def event(data: dict[str, Any]) -> bytes:
        return b"event: %s\ndata: %s\n\n" % (data["type"].encode(), _dumps(data))

    message = _anthropic_json(c)
    usage = {"input_tokens": c.usage[0], "output_tokens": 1}
    start = {**message, "content": [], "stop_reason": None, "usage": usage}
    events = [event({"type": "message_start", "message": start})]
    # (opening block, delta type, delta key, full content to stream in deltas)
    blocks: list[tuple[dict[str, Any], str, str, str]] = []
    if c.text is not None:
        blocks.append(({"type": "text", "text": ""}, "text_delta", "text", c.text))
    for block, (_, _, args) in zip(message["content"][len(blocks) :], c.tools, strict=True):
        blocks.append(({**block, "input": {}}, "input_json_delta", "partial_json", args))
    for index, (opening, kind, key, full) in enumerate(blocks):
        events.append(
            event({"type": "content_block_start", "index": index, "content_block": opening})
        )
        if index == 0:
            events.append(event({"type": "ping"}))
        # Deltas differ only in the piece: serialize the rest once.
        empty = {"type": "content_block_delta", "index": index, "delta": {"type": kind, key: ""}}
        prefix = event(empty).removesuffix(b'""}}\n\n')
        events += [prefix + _dumps(piece) + b"}}\n\n" for piece in _split(full, c.chunk_size)]
        events.append(event({"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": c.finish, "stop_sequence": None}
    events.append(
        event({"type": "message_delta", "delta": delta, "usage": {"output_tokens": c.usage[1]}})
    )
    return [*events, event({"type": "message_stop"})]


def _responses_json(c: _Completion) -> dict[str, Any]:
    """A non-streamed Responses API ``response`` object."""
    output: list[dict[str, Any]] = []
    if c.text is not None:
        part = {"type": "output_text", "text": c.text, "annotations": []}
        message = {"id": f"msg_fake{c.n}", "type": "message", "role": "assistant"}
        output.append({**message, "status": "completed", "content": [part]})
    output += [
        {
            "id": f"fc_fake{c.n}_{i}",
            "type": "function_call",
            "status": "completed",
            "call_id": f"call_fake{c.n}_{i}",
            "name": name,
            "arguments": arguments,
        }
        for i, (name, _, arguments) in enumerate(c.tools)
    ]
    usage = {"input_tokens": c.usage[0], "output_tokens": c.usage[1]}
    return {
        "id": f"resp_fake{c.n}",
        "object": "response",
        "created_at": c.created,
        "status": "completed",
        "model": c.model,
        "output": output,
        "usage": {**usage, "total_tokens": sum(c.usage)},
    }


def _responses_events(c: _Completion) -> list[bytes]:
    """The SSE events of a streamed response, ending with ``response.completed``."""
    number = itertools.count()

    def event(kind: str, **data: Any) -> bytes:
        payload = _dumps({"type": kind, **data, "sequence_number": next(number)})
        return b"event: %s\ndata: %s\n\n" % (kind.encode(), payload)

    full = _responses_json(c)
    head = {**full, "status": "in_progress", "output": [], "usage": None}
    events = [event("response.created", response=head)]
    for index, item in enumerate(full["output"]):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            opening = {**item, "status": "in_progress", "content": []}
            events.append(event("response.output_item.added", output_index=index, item=opening))
            part = item["content"][0]
            empty = {**part, "text": ""}
            events.append(event("response.content_part.added", **at, content_index=0, part=empty))
            for piece in _split(part["text"], c.chunk_size):
                kind = "response.output_text.delta"
                events.append(event(kind, **at, content_index=0, delta=piece, logprobs=[]))
            kind = "response.output_text.done"
            events.append(event(kind, **at, content_index=0, text=part["text"], logprobs=[]))
            events.append(event("response.content_part.done", **at, content_index=0, part=part))
        else:
            opening = {**item, "status": "in_progress", "arguments": ""}
            events.append(event("response.output_item.added", output_index=index, item=opening))
            for piece in _split(item["arguments"], c.chunk_size):
                events.append(event("response.function_call_arguments.delta", **at, delta=piece))
            done = {**at, "name": item["name"], "arguments": item["arguments"]}
            events.append(event("response.function_call_arguments.done", **done))
        events.append(event("response.output_item.done", output_index=index, item=item))
    return [*events, event("response.completed", response=full)]


_JsonRenderer = Callable[[_Completion], dict[str, Any]]
_EventsRenderer = Callable[[_Completion], list[bytes]]
_RENDERERS: dict[str, tuple[_JsonRenderer, _EventsRenderer]] = {
    "openai": (_openai_json, _openai_events),
    "responses": (_responses_json, _responses_events),
    "anthropic": (_anthropic_json, _anthropic_events),
}


class _Connection(asyncio.Protocol):
    """One client connection: parses requests and writes replies in order."""

    def __init__(self, upstream: FakeUpstream) -> None:
        self._upstream = upstream
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._backlog: collections.deque[_Reply] = collections.deque()  # pipelined replies
        self._task: asyncio.Task[None] | None = None  # the reply being sent slowly, if any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._upstream._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._upstream._connections.discard(self)
        self._transport = None
        if self._task is not None:
            self._task.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            body = _error_body("openai", 400, "Malformed HTTP request")
            self._backlog.append(_json_reply(400, body, keep_alive=False))
            self._pump()

    # httptools parser callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self._body)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        path, _, query = self._url.decode("latin-1").partition("?")
        method = self._parser.get_method().decode()
        request = RecordedRequest(method, path, query, self._headers, body, parsed)
        self._backlog.append(self._upstream._reply_for(request, self._parser.should_keep_alive()))
        self._pump()

    def abort(self) -> None:
        """Drop the connection immediately."""
        if self._transport is not None:
            self._transport.abort()

    def _pump(self) -> None:
        """Send queued replies in order; a slow one is handed to a task."""
        while self._backlog and self._task is None and self._transport is not None:
            reply = self._backlog.popleft()
            if reply.delay or reply.stream_delay:
                self._task = asyncio.get_running_loop().create_task(self._send_slowly(reply))
                return
            self._transport.write(b"".join((reply.head, *reply.events, reply.tail)))
            self._finish(reply)

    async def _send_slowly(self, reply: _Reply) -> None:
        """Send a reply honouring its ``delay`` and ``stream_delay``."""
        await asyncio.sleep(reply.delay)
        for index, data in enumerate((reply.head, *reply.events, reply.tail)):
            if reply.stream_delay and 1 < index <= len(reply.events):
                await asyncio.sleep(reply.stream_delay)
            if self._transport is None:
                return
            self._transport.write(data)
        self._task = None
        self._finish(reply)
        self._pump()

    def _finish(self, reply: _Reply) -> None:
        """Apply a reply's connection handling: keep open, close, or reset."""
        transport = self._transport
        if transport is None or not (reply.reset or reply.close):
            return
        self._transport = None
        if reply.reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0 makes the close send a RST
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()


class FakeUpstream:
    """A fake OpenAI + Anthropic API server running in a background thread."""

    def __init__(
        self, reply_text: str = DEFAULT_REPLY, port: int = 0, *, record: bool = True
    ) -> None:
        """Configure (without starting); ``record=False`` keeps ``requests`` empty."""
        self.reply_text = reply_text
        self.port = port
        self.record = record
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Script] = collections.deque()
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake-upstream"}
        self._models_body = _dumps({"object": "list", "data": [model]})
        #: When set, the usage of replies whose script gives none: called with the request
        #: JSON, returns (prompt/input, completion/output) tokens (e.g. random within the
        #: request's max_tokens, for budget tests).
        self.usage_for: Callable[[dict[str, Any]], tuple[int, int]] | None = None

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *responses: Script) -> None:
        """Script the next completion requests, FIFO; default replies resume when drained."""
        with self._lock:
            self._queue.extend(responses)

    def reset(self) -> None:
        """Forget queued scripts and recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def start(self) -> FakeUpstream:
        """Bind 127.0.0.1 and serve from a daemon thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("FakeUpstream is already running")
        loop = new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            # Leave SIGINT/SIGTERM to the main thread: only it runs Python signal handlers.
            if hasattr(signal, "pthread_sigmask"):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                listen = loop.create_server(
                    lambda: _Connection(self), "127.0.0.1", self.port, backlog=4096
                )
                self._server = cast(asyncio.Server, loop.run_until_complete(listen))
            except BaseException as exc:  # re-raised in the starting thread
                errors.append(exc)
            ready.set()
            if not errors:
                loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            self._thread = None
            raise errors[0]
        assert self._server is not None
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop = loop
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then end the server thread."""
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            for conn in list(self._connections):
                conn.abort()
            await asyncio.sleep(0)  # let connection_lost cancel the slow senders
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = self._thread = self._server = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _reply_for(self, request: RecordedRequest, keep_alive: bool) -> _Reply:
        """Record ``request`` and render its reply (runs in the server thread)."""
        if self.record:
            self.requests.append(request)
        provider = _PROVIDERS.get(request.path)
        if request.method == "POST" and provider is not None:
            script = _DEFAULT_SCRIPT
            if self._queue:  # lock-free fast path when nothing is scripted
                with self._lock:
                    script = self._queue.popleft() if self._queue else script
            return self._completion(provider, request, script, keep_alive)
        if request.method == "POST" and request.path == "/v1/messages/count_tokens":
            count = {"input_tokens": _prompt_tokens(request.json or {})}
            return _json_reply(200, _dumps(count), keep_alive)
        if request.method == "POST" and request.path == "/v1/responses/input_tokens":
            tokens = _estimate_tokens(json.dumps((request.json or {}).get("input")))
            count = {"object": "response.input_tokens", "input_tokens": tokens}
            return _json_reply(200, _dumps(count), keep_alive)
        if request.method == "GET" and request.path == "/v1/models":
            return _json_reply(200, self._models_body, keep_alive)
        message = f"Unknown request URL: {request.method} {request.path}"
        return _json_reply(404, _error_body("openai", 404, message), keep_alive)

    def _completion(
        self, provider: str, request: RecordedRequest, script: Script, keep_alive: bool
    ) -> _Reply:
        """Render a completion, or the scripted failure, in ``provider``'s format."""
        if script.reset:
            return _Reply(b"", delay=script.delay, reset=True)
        status, body = script.status, script.body
        payload = request.json
        if body is None and status == 200 and not isinstance(payload, dict):
            status, body = 400, _error_body(provider, 400, "Request body must be a JSON object")
        if body is not None or status != 200:
            if body is None:
                body = _error_body(provider, status, f"Scripted error {status}")
            body = body if isinstance(body, bytes) else _dumps(body)
            return _json_reply(status, body, keep_alive, script.delay)

        tools = [(name, args, json.dumps(args)) for name, args in script.tool_calls or []]
        text = script.text if script.text is not None or tools else self.reply_text
        spoken = (text or "") + "".join(name + args for name, _, args in tools)
        stream = bool(payload.get("stream"))
        options = payload.get("stream_options")
        completion = _Completion(
            n=next(self._counter),
            model=str(payload.get("model", "fake-model")),
            text=text if stream or text is None else _TEXT_SLOT,
            tools=tools,
            usage=script.usage
            or (self.usage_for(payload) if self.usage_for is not None else None)
            or (_prompt_tokens(payload), _estimate_tokens(spoken)),
            finish=script.finish_reason or _FINISH[provider][bool(tools)],
            chunk_size=script.chunk_size,
            include_usage=isinstance(options, dict) and options.get("include_usage") is True,
            created=int(time.time()),
        )
        render_json, render_events = _RENDERERS[provider]
        if not stream:
            body = _dumps(render_json(completion))
            if text is not None:
                body = body.replace(_TEXT_SLOT_JSON, _text_json(text), 1)
            return _json_reply(200, body, keep_alive, script.delay)

        events = script.events if script.events is not None else render_events(completion)
        frames = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
        head = _head(200, SSE_TYPE, None, keep_alive)
        cut = script.break_stream_after
        return _Reply(
            head,
            frames if cut is None else frames[:cut],
            tail=b"0\r\n\r\n" if cut is None else b"",
            delay=script.delay,
            stream_delay=script.stream_delay,
            close=cut is not None or not keep_alive,
        )


def _filler(size: int) -> str:
    """Deterministic ASCII text of exactly ``size`` characters."""
    sentence = "The quick brown fox jumps over the lazy dog. "
    return (sentence * (size // len(sentence) + 1))[:size]


def main(argv: list[str] | None = None) -> None:
    """Serve default replies until SIGINT/SIGTERM, printing ``READY <url>`` once listening."""
    parser = argparse.ArgumentParser(description="Fake OpenAI + Anthropic upstream.")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--reply-bytes", type=int, help="size of the reply text (ASCII)")
    args = parser.parse_args(argv)
    text = DEFAULT_REPLY if args.reply_bytes is None else _filler(args.reply_bytes)
    upstream = FakeUpstream(text, args.port, record=False).start()
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print(f"READY {upstream.url}", flush=True)
    stopping.wait()
    upstream.stop()


if __name__ == "__main__":
    main()
