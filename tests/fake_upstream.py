"""Fast, scriptable fake OpenAI + Anthropic upstream for tests and load benchmarks.

Serves ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic)
and ``GET /v1/models`` over HTTP/1.1 keep-alive, using ``httptools`` on a bare
``asyncio.Protocol`` (uvloop when available). Anything else gets a 404.

In tests::

    with FakeUpstream() as up:
        up.enqueue(Script(tool_calls=[("get_weather", {"city": "Paris"})]))
        ...  # point a client or the proxy at up.url
        assert up.requests[0].json["model"] == "gpt-4o"

As a benchmark process::

    python tests/fake_upstream.py --port 9100 --reply-bytes 1024
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import http
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional
    uvloop = None

DEFAULT_REPLY = "Hello from the fake upstream."
JSON_TYPE = b"application/json"
SSE_TYPE = b"text/event-stream"
CHUNKED_END = b"0\r\n\r\n"
_PROVIDERS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_dumps_str = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(obj: object) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON."""
    return _dumps_str(obj).encode()


@dataclass
class Script:
    """How to answer one completion request (see module docstring).

    ``text=None`` means the server's ``reply_text``, unless ``tool_calls`` are
    given, in which case the reply has no text part at all.
    ``finish_reason`` is sent verbatim (OpenAI ``finish_reason`` or Anthropic
    ``stop_reason``). ``body`` overrides the whole response as plain JSON,
    even for stream requests.
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


_DEFAULT_SCRIPT = Script()


@dataclass
class RecordedRequest:
    """One request as received by the fake upstream."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class _Reply:
    """A fully rendered response: raw bytes plus how to deliver them."""

    head: bytes
    events: list[bytes] = field(default_factory=list)
    tail: bytes = b""
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
    finish: str | None
    chunk_size: int
    include_usage: bool
    created: int


def _estimate_tokens(text: str) -> int:
    """Deterministic token estimate: one token per four UTF-8 bytes, plus one."""
    return len(text.encode()) // 4 + 1


def _prompt_tokens(payload: dict[str, Any]) -> int:
    """Estimate prompt tokens from the system prompt and message texts."""
    parts: list[str] = []
    for item in [{"content": payload.get("system")}, *(payload.get("messages") or [])]:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [
                p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
            ]
    return _estimate_tokens("".join(parts))


def _split(text: str, size: int) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` characters."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _head(status: int, content_type: bytes, length: int | None, keep_alive: bool) -> bytes:
    """Render the status line and headers; ``length=None`` means chunked."""
    try:
        phrase = http.HTTPStatus(status).phrase.encode()
    except ValueError:
        phrase = b"Unknown"
    lines = [b"HTTP/1.1 %d %s" % (status, phrase), b"Content-Type: " + content_type]
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
        kind = _ANTHROPIC_ERRORS.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return _dumps({"type": "error", "error": {"type": kind, "message": message}})
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
                "function": {"name": name, "arguments": args},
            }
            for i, (name, _, args) in enumerate(c.tools)
        ]
    prompt, completion = c.usage
    return {
        "id": f"chatcmpl-fake{c.n}",
        "object": "chat.completion",
        "created": c.created,
        "model": c.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": c.finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "system_fingerprint": "fp_fake",
    }


def _openai_events(c: _Completion) -> list[bytes]:
    """The SSE events of a streamed chat completion, ending with ``[DONE]``."""
    full = _openai_json(c)
    base = {"id": full["id"], "object": "chat.completion.chunk", "created": c.created}
    base |= {"model": c.model, "system_fingerprint": full["system_fingerprint"]}

    # Only the delta and finish_reason vary between chunks: serialize the rest once.
    prefix = b"data: " + _dumps(base)[:-1] + b',"choices":[{"index":0,"delta":'
    usage_null = b',"usage":null' if c.include_usage else b""

    def suffix(finish: str | None) -> bytes:
        return b',"logprobs":null,"finish_reason":%s}]%s}\n\n' % (_dumps(finish), usage_null)

    unfinished = suffix(None)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return prefix + _dumps(delta) + (unfinished if finish is None else suffix(finish))

    events = [
        chunk({"role": "assistant", "content": "" if c.text is not None else None, "refusal": None})
    ]
    content = prefix + b'{"content":'
    events += [content + _dumps(p) + b"}" + unfinished for p in _split(c.text or "", c.chunk_size)]
    for i, call in enumerate(full["choices"][0]["message"].get("tool_calls", [])):
        start = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        events.append(chunk({"tool_calls": [{"index": i, **start}]}))
        pieces = _split(call["function"]["arguments"], c.chunk_size)
        events += [
            chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]}) for p in pieces
        ]
    events.append(chunk({}, c.finish))
    if c.include_usage:
        events.append(b"data: " + _dumps({**base, "choices": [], "usage": full["usage"]}) + b"\n\n")
    return [*events, b"data: [DONE]\n\n"]


def _anthropic_json(c: _Completion) -> dict[str, Any]:
    """A non-streamed Anthropic ``message`` object."""
    content: list[dict[str, Any]] = [{"type": "text", "text": c.text}] if c.text is not None else []
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
    """The SSE events of a streamed Anthropic message."""

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


class _Connection(asyncio.Protocol):
    """One client connection: parses requests and writes replies in order."""

    def __init__(self, upstream: FakeUpstream) -> None:
        self._upstream = upstream
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._backlog: collections.deque[_Reply] = collections.deque()
        self._task: asyncio.Task[None] | None = None

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
            self._backlog.append(
                _json_reply(400, _error_body("openai", 400, "Malformed HTTP request"), False)
            )
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
        """Send queued replies in order; slow ones are handed to a task."""
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
        for index, data in enumerate((reply.head, *reply.events)):
            if self._transport is None:
                return
            if reply.stream_delay and index > 1:
                await asyncio.sleep(reply.stream_delay)
            self._transport.write(data)
        if self._transport is not None:
            self._transport.write(reply.tail)
            self._task = None
            self._finish(reply)
            self._pump()

    def _finish(self, reply: _Reply) -> None:
        """Apply a reply's connection handling: keep open, close, or reset."""
        transport = self._transport
        if transport is None:
            return
        if reply.reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0 makes close() send a RST
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            self._transport = None
        elif reply.close:
            transport.close()
            self._transport = None


class FakeUpstream:
    """A fake OpenAI + Anthropic API server running in a background thread."""

    def __init__(
        self, reply_text: str = DEFAULT_REPLY, port: int = 0, *, record: bool = True
    ) -> None:
        """Configure (but do not start) the server; ``record=False`` skips recording."""
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
        models = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake-upstream"}
            for m in ("fake-model",)
        ]
        self._models_body = _dumps({"object": "list", "data": models})

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *responses: Script) -> None:
        """Script the next completion requests (FIFO); then default replies resume."""
        with self._lock:
            self._queue.extend(responses)

    def reset(self) -> None:
        """Forget queued scripts and recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def start(self) -> FakeUpstream:
        """Bind 127.0.0.1 and serve in a daemon thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("FakeUpstream already started")
        loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                listen = loop.create_server(
                    lambda: _Connection(self), "127.0.0.1", self.port, backlog=4096
                )
                self._server = loop.run_until_complete(listen)
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
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
        """Close the listener and all connections, then stop the thread."""
        loop, thread, self._thread = self._loop, self._thread, None
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for conn in list(self._connections):
                conn.abort()
            await asyncio.sleep(0)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _next_script(self) -> Script | None:
        if not self._queue:  # lock-free fast path for the benchmark
            return None
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _reply_for(self, request: RecordedRequest, keep_alive: bool) -> _Reply:
        """Record ``request`` and render its reply (runs in the server thread)."""
        if self.record:
            self.requests.append(request)
        provider = _PROVIDERS.get(request.path)
        if request.method == "POST" and provider is not None:
            return self._completion(
                provider, request, self._next_script() or _DEFAULT_SCRIPT, keep_alive
            )
        if request.method == "GET" and request.path == "/v1/models":
            return _json_reply(200, self._models_body, keep_alive)
        message = f"Unknown request URL: {request.method} {request.path}"
        return _json_reply(404, _error_body("openai", 404, message), keep_alive)

    def _completion(
        self, provider: str, request: RecordedRequest, script: Script, keep_alive: bool
    ) -> _Reply:
        """Render a completion (or scripted failure) for ``provider``."""
        if script.reset:
            return _Reply(b"", delay=script.delay, reset=True)
        if script.body is not None:
            body = script.body if isinstance(script.body, bytes) else _dumps(script.body)
            return _json_reply(script.status, body, keep_alive, script.delay)
        if script.status != 200:
            body = _error_body(provider, script.status, f"Scripted error {script.status}")
            return _json_reply(script.status, body, keep_alive, script.delay)
        payload = request.json
        if not isinstance(payload, dict):
            body = _error_body(provider, 400, "Request body must be a JSON object")
            return _json_reply(400, body, keep_alive, script.delay)
        tools = [(name, args, json.dumps(args)) for name, args in script.tool_calls or []]
        text = script.text if script.text is not None or tools else self.reply_text
        spoken = (text or "") + "".join(name + args for name, _, args in tools)
        default_finish = (
            ("tool_calls" if tools else "stop")
            if provider == "openai"
            else ("tool_use" if tools else "end_turn")
        )
        stream_options = payload.get("stream_options")
        completion = _Completion(
            n=next(self._counter),
            model=str(payload.get("model", "fake-model")),
            text=text,
            tools=tools,
            usage=script.usage or (_prompt_tokens(payload), _estimate_tokens(spoken)),
            finish=script.finish_reason or default_finish,
            chunk_size=script.chunk_size,
            include_usage=isinstance(stream_options, dict)
            and stream_options.get("include_usage") is True,
            created=int(time.time()),
        )
        if not payload.get("stream"):
            body = _dumps(
                _openai_json(completion) if provider == "openai" else _anthropic_json(completion)
            )
            return _json_reply(200, body, keep_alive, script.delay)
        events = (
            _openai_events(completion) if provider == "openai" else _anthropic_events(completion)
        )
        frames = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
        head = _head(200, SSE_TYPE, None, keep_alive)
        if script.break_stream_after is not None:
            return _Reply(
                head,
                frames[: script.break_stream_after],
                b"",
                script.delay,
                script.stream_delay,
                close=True,
            )
        return _Reply(
            head, frames, CHUNKED_END, script.delay, script.stream_delay, close=not keep_alive
        )


def _filler(size: int) -> str:
    """Deterministic ASCII text of exactly ``size`` characters."""
    sentence = "The quick brown fox jumps over the lazy dog. "
    return (sentence * (size // len(sentence) + 1))[:size]


def main(argv: list[str] | None = None) -> None:
    """Serve default replies forever (benchmark mode); prints ``READY <url>``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--reply-bytes", type=int, default=None, help="size of the reply text")
    args = parser.parse_args(argv)
    text = DEFAULT_REPLY if args.reply_bytes is None else _filler(args.reply_bytes)
    upstream = FakeUpstream(text, args.port, record=False).start()
    print(f"READY {upstream.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
