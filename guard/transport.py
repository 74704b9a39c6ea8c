"""In-process guard: httpx transports for the OpenAI and Anthropic SDKs.

``OpenAI(http_client=httpx.Client(transport=guard.transport()))`` — and the same for
``AsyncOpenAI`` (``async_transport``), ``Anthropic`` and ``AsyncAnthropic``. Requests to
``.../chat/completions`` and ``/v1/messages`` go through the engine with the same
``guard.formats`` modules the proxy uses; every other request passes straight through.
A blocked call comes back as the API's own error response, so the SDK raises its normal
exception; inside ``with guard.raise_blocked():`` it is raised as
:class:`~guard.errors.GuardBlocked` instead.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from guard import formats
from guard.engine import Decision, Guard, Outcome
from guard.errors import GuardBlocked, RequestError
from guard.formats.base import StreamFilter, WireFormat, caller_from_headers
from guard.types import Call, Reply

_blocked: contextvars.ContextVar[list[Decision] | None] = contextvars.ContextVar(
    "guardwire_blocked", default=None
)
_DROP = ("content-length", "content-encoding", "transfer-encoding")


@contextlib.contextmanager
def raise_blocked() -> Iterator[None]:
    """Raise :class:`GuardBlocked` (instead of the SDK's error) for calls blocked inside."""
    seen: list[Decision] = []
    token = _blocked.set(seen)
    try:
        yield
    except GuardBlocked:
        raise
    except Exception as exc:
        if seen:
            raise GuardBlocked(seen[-1]) from exc
        raise
    finally:
        _blocked.reset(token)


class _PassThrough(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def _note_block(decision: Decision) -> None:
    seen = _blocked.get()
    if seen is not None:
        seen.append(decision)


def _error_response(
    fmt: WireFormat, status: int, message: str, code: str, request: httpx.Request
) -> httpx.Response:
    return httpx.Response(
        status,
        headers={
            "content-type": "application/json",
            "x-guardwire-verdict": "block" if code == "content_blocked" else "error",
        },
        content=fmt.error_body(status, message, code),
        request=request,
    )


def _forwarded(request: httpx.Request, body: bytes) -> httpx.Request:
    headers = [
        (k, v)
        for k, v in request.headers.multi_items()
        if not k.lower().startswith("x-guardwire") and k.lower() != "content-length"
    ]
    return httpx.Request(
        request.method, request.url, headers=headers, content=body, extensions=request.extensions
    )


def _response_headers(
    response: httpx.Response, verdict: str, guard: Guard
) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP]
    headers.append(("x-guardwire-verdict", verdict))
    headers.append(("x-guardwire-policy", f"{guard.policy.name}@{guard.policy.hash}"))
    return headers


class _Prepared:
    """A request recognised as a model call, parsed and ready for the engine."""

    __slots__ = ("call", "fmt")

    def __init__(self, fmt: WireFormat, call: Call) -> None:
        self.fmt = fmt
        self.call = call


class _GuardTransportBase:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def _prepare(self, request: httpx.Request, body: bytes) -> _Prepared | httpx.Response | None:
        fmt = formats.for_path(request.url.path) if request.method == "POST" else None
        if fmt is None:
            return None
        caller = caller_from_headers(request.headers.get)
        try:
            call = fmt.parse_request(body, caller)
        except RequestError as exc:
            return _error_response(fmt, exc.status, str(exc), exc.code, request)
        return _Prepared(fmt, call)

    def _blocked(
        self, fmt: WireFormat, decision: Decision, request: httpx.Request
    ) -> httpx.Response:
        _note_block(decision)
        self.guard.telemetry.calls.labels("transport", fmt.name, "blocked").inc()
        return _error_response(fmt, 400, decision.message(), "content_blocked", request)

    def _finish(
        self, prepared: _Prepared, outcome: Outcome, last: httpx.Response, request: httpx.Request
    ) -> httpx.Response:
        fmt = prepared.fmt
        blocked = outcome.blocked
        if blocked is not None:
            return self._blocked(fmt, blocked, request)
        assert outcome.reply is not None
        action = (
            outcome.input.action
            if outcome.output is None
            else max(outcome.input.action, outcome.output.action)
        )
        label = (
            "reasked"
            if outcome.attempts > 1
            else {"redact": "redacted", "warn": "warned"}.get(action.label, "allowed")
        )
        self.guard.telemetry.calls.labels("transport", fmt.name, label).inc()
        return httpx.Response(
            last.status_code,
            headers=_response_headers(last, action.label, self.guard),
            content=fmt.reply_body(outcome.reply),
            request=request,
            extensions={"http_version": last.extensions.get("http_version", b"HTTP/1.1")},
        )

    def _stream_response(
        self,
        prepared: _Prepared,
        upstream: httpx.Response,
        stream: Any,
        verdict: str,
        request: httpx.Request,
    ) -> httpx.Response:
        self.guard.telemetry.calls.labels("transport", prepared.fmt.name, "streamed").inc()
        return httpx.Response(
            upstream.status_code,
            headers=_response_headers(upstream, verdict, self.guard),
            stream=stream,
            request=request,
        )


class GuardTransport(_GuardTransportBase, httpx.BaseTransport):
    """A sync httpx transport that guards model calls and forwards to ``transport``."""

    def __init__(self, guard: Guard, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(guard)
        self.inner = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        prepared = self._prepare(request, request.read()) if request.method == "POST" else None
        if prepared is None:
            return self.inner.handle_request(request)
        if isinstance(prepared, httpx.Response):
            return prepared
        call, fmt = prepared.call, prepared.fmt
        if call.stream:
            return self._stream(prepared, request)
        last: list[httpx.Response] = []

        def send(attempt: Call) -> Reply:
            response = self.inner.handle_request(_forwarded(request, fmt.request_body(attempt)))
            response.read()
            response.close()
            last.append(response)
            if response.status_code != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(attempt, response.content)

        try:
            outcome = self.guard.run_sync(call, send)
        except _PassThrough as passed:
            return passed.response
        return self._finish(prepared, outcome, last[-1] if last else httpx.Response(200), request)

    def _stream(self, prepared: _Prepared, request: httpx.Request) -> httpx.Response:
        decision = self.guard.before(prepared.call)
        if decision.blocked:
            return self._blocked(prepared.fmt, decision, request)
        upstream = self.inner.handle_request(
            _forwarded(request, prepared.fmt.request_body(prepared.call))
        )
        if upstream.status_code != 200:
            return upstream
        stream_filter = prepared.fmt.stream_filter(prepared.call, self.guard)
        return self._stream_response(
            prepared,
            upstream,
            _SyncFiltered(upstream, stream_filter),
            decision.action.label,
            request,
        )

    def close(self) -> None:
        self.inner.close()


class GuardAsyncTransport(_GuardTransportBase, httpx.AsyncBaseTransport):
    """An async httpx transport that guards model calls and forwards to ``transport``."""

    def __init__(self, guard: Guard, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(guard)
        self.inner = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        prepared = (
            self._prepare(request, await request.aread()) if request.method == "POST" else None
        )
        if prepared is None:
            return await self.inner.handle_async_request(request)
        if isinstance(prepared, httpx.Response):
            return prepared
        call, fmt = prepared.call, prepared.fmt
        if call.stream:
            return await self._stream(prepared, request)
        last: list[httpx.Response] = []

        async def send(attempt: Call) -> Reply:
            response = await self.inner.handle_async_request(
                _forwarded(request, fmt.request_body(attempt))
            )
            await response.aread()
            await response.aclose()
            last.append(response)
            if response.status_code != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(attempt, response.content)

        try:
            outcome = await self.guard.run(call, send)
        except _PassThrough as passed:
            return passed.response
        return self._finish(prepared, outcome, last[-1] if last else httpx.Response(200), request)

    async def _stream(self, prepared: _Prepared, request: httpx.Request) -> httpx.Response:
        decision = self.guard.before(prepared.call)
        if decision.blocked:
            return self._blocked(prepared.fmt, decision, request)
        upstream = await self.inner.handle_async_request(
            _forwarded(request, prepared.fmt.request_body(prepared.call))
        )
        if upstream.status_code != 200:
            return upstream
        stream_filter = prepared.fmt.stream_filter(prepared.call, self.guard)
        return self._stream_response(
            prepared,
            upstream,
            _AsyncFiltered(upstream, stream_filter),
            decision.action.label,
            request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _SyncFiltered(httpx.SyncByteStream):
    """The upstream's SSE bytes through a stream filter."""

    def __init__(self, upstream: httpx.Response, stream_filter: StreamFilter) -> None:
        self._upstream = upstream
        self._filter = stream_filter

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._upstream.iter_bytes():
                out = self._filter.feed(chunk)
                if self._filter.done:
                    # Record before yielding: the SDK raises on the error event and
                    # may never resume this generator.
                    _note_stream_block(self._filter)
                if out:
                    yield out
                if self._filter.done:
                    break
            else:
                out = self._filter.close()
                _note_stream_block(self._filter)
                if out:
                    yield out
        except httpx.TransportError as exc:
            yield self._filter.fail(f"the upstream broke off the stream ({type(exc).__name__})")
        finally:
            self._upstream.close()

    def close(self) -> None:
        self._upstream.close()


class _AsyncFiltered(httpx.AsyncByteStream):
    """The upstream's SSE bytes through a stream filter (async)."""

    def __init__(self, upstream: httpx.Response, stream_filter: StreamFilter) -> None:
        self._upstream = upstream
        self._filter = stream_filter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._upstream.aiter_bytes():
                out = self._filter.feed(chunk)
                if self._filter.done:
                    # Record before yielding: the SDK raises on the error event and
                    # may never resume this generator.
                    _note_stream_block(self._filter)
                if out:
                    yield out
                if self._filter.done:
                    break
            else:
                out = self._filter.close()
                _note_stream_block(self._filter)
                if out:
                    yield out
        except httpx.TransportError as exc:
            yield self._filter.fail(f"the upstream broke off the stream ({type(exc).__name__})")
        finally:
            await self._upstream.aclose()

    async def aclose(self) -> None:
        await self._upstream.aclose()


def _note_stream_block(stream_filter: StreamFilter) -> None:
    decision = stream_filter.decision
    if decision is not None and decision.blocked:
        _note_block(decision)
