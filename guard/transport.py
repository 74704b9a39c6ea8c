"""In-process guard: httpx transports for the OpenAI and Anthropic SDKs.

``OpenAI(http_client=httpx.Client(transport=guard.transport()))`` — and the same for
``AsyncOpenAI`` (``async_transport``), ``Anthropic`` and ``AsyncAnthropic``. Requests to
``.../chat/completions`` and ``/v1/messages`` go through the engine with the same
``guard.formats`` modules the proxy uses; every other request passes straight through.
A blocked call comes back as the API's own error response, so the SDK raises its normal
exception; inside ``with guard.raise_blocked():`` it is raised as
:class:`~guard.errors.GuardBlocked` instead.

Newer SDK releases accept only clients of ``httpx2`` (a fork of httpx with the same
API). The transports and streams here subclass the base classes of both packages and
answer with the package of the request they receive, so one transport object serves an
``httpx.Client`` and an ``httpx2.Client`` alike.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

from guard import formats
from guard._httpx import (
    ASYNC_STREAMS,
    ASYNC_TRANSPORTS,
    SYNC_STREAMS,
    SYNC_TRANSPORTS,
    TRANSPORT_ERRORS,
    package_of,
)
from guard.decision import Decision, Outcome
from guard.engine import Guard
from guard.errors import GuardBlocked, RequestError
from guard.formats.base import StreamFilter, WireFormat, caller_from_headers
from guard.types import Call, Reply

_DROP = ("content-length", "content-encoding", "transfer-encoding")
_blocked: contextvars.ContextVar[list[Decision] | None] = contextvars.ContextVar(
    "guardwire_blocked", default=None
)


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


def _note_block(decision: Decision | None) -> None:
    seen = _blocked.get()
    if seen is not None and decision is not None and decision.blocked:
        seen.append(decision)


class _PassThrough(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


class _Prepared:
    """A request recognised as a model call, parsed and ready for the engine."""

    __slots__ = ("call", "fmt")

    def __init__(self, fmt: WireFormat, call: Call) -> None:
        self.fmt = fmt
        self.call = call


class _GuardedTransport:
    """What the sync and async transports share: recognise, check and answer."""

    def __init__(self, guard: Guard, transport: Any) -> None:
        self.guard = guard
        self._given = transport
        self._inner: dict[ModuleType, Any] = {}

    def _prepare(self, request: Any, body: bytes) -> _Prepared | Any:
        fmt = formats.for_path(request.url.path)
        if fmt is None:
            return None
        try:
            call = fmt.parse_request(body, caller_from_headers(request.headers.get))
        except RequestError as exc:
            return self._error(request, fmt, exc.status, str(exc), exc.code)
        return _Prepared(fmt, call)

    def _error(self, request: Any, fmt: WireFormat, status: int, message: str, code: str) -> Any:
        verdict = "block" if code == "content_blocked" else "error"
        return package_of(request).Response(
            status,
            headers={"content-type": "application/json", "x-guardwire-verdict": verdict},
            content=fmt.error_body(status, message, code),
            request=request,
        )

    def _blocked(self, request: Any, fmt: WireFormat, decision: Decision) -> Any:
        _note_block(decision)
        self._count(fmt, "blocked")
        return self._error(request, fmt, 400, decision.message(), "content_blocked")

    def _forwarded(self, request: Any, body: bytes) -> Any:
        """The request to send on: the caller's own when nothing changed (the common
        case, and cheaper: building a request costs ~25 µs), else a rebuilt one."""
        names = request.headers.keys()
        if body is request.content and not any(n.startswith("x-guardwire") for n in names):
            return request
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if not name.lower().startswith("x-guardwire") and name.lower() != "content-length"
        ]
        return package_of(request).Request(
            request.method,
            request.url,
            headers=headers,
            content=body,
            extensions=request.extensions,
        )

    def _headers(self, response: Any, verdict: str) -> list[tuple[str, str]]:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP]
        headers.append(("x-guardwire-verdict", verdict))
        headers.append(("x-guardwire-policy", self.guard.policy_tag))
        return headers

    def _finish(self, request: Any, prepared: _Prepared, outcome: Outcome, last: Any) -> Any:
        blocked = outcome.blocked
        if blocked is not None:
            return self._blocked(request, prepared.fmt, blocked)
        assert outcome.reply is not None
        self._count(prepared.fmt, outcome.label)
        if outcome.reply.body and outcome.attempts == 1:
            # The upstream's reply passes unchanged: hand back its (already read)
            # response with our headers instead of building another one.
            last.headers["x-guardwire-verdict"] = outcome.action.label
            last.headers["x-guardwire-policy"] = self.guard.policy_tag
            return last
        return package_of(request).Response(
            last.status_code,
            headers=self._headers(last, outcome.action.label),
            content=prepared.fmt.reply_body(outcome.reply),
            request=request,
        )

    def _streamed(
        self, request: Any, prepared: _Prepared, upstream: Any, stream: Any, verdict: str
    ) -> Any:
        self._count(prepared.fmt, "streamed")
        return package_of(request).Response(
            upstream.status_code,
            headers=self._headers(upstream, verdict),
            stream=stream,
            request=request,
        )

    def _count(self, fmt: WireFormat, outcome: str) -> None:
        self.guard.telemetry.calls.labels("transport", fmt.name, outcome).inc()


class GuardTransport(_GuardedTransport, *SYNC_TRANSPORTS):  # type: ignore[misc]
    """A sync transport that guards model calls and forwards to ``transport``
    (default: a new ``HTTPTransport`` of the client's httpx package)."""

    def inner(self, request: Any) -> Any:
        """The transport requests are forwarded to."""
        if self._given is not None:
            return self._given
        package = package_of(request)
        if package not in self._inner:
            self._inner[package] = package.HTTPTransport()
        return self._inner[package]

    def handle_request(self, request: Any) -> Any:
        inner = self.inner(request)
        prepared = self._prepare(request, request.read()) if request.method == "POST" else None
        if not isinstance(prepared, _Prepared):
            return prepared if prepared is not None else inner.handle_request(request)
        fmt = prepared.fmt
        if prepared.call.stream:
            decision = self.guard.before(prepared.call)
            if decision.blocked:
                return self._blocked(request, fmt, decision)
            upstream = inner.handle_request(
                self._forwarded(request, fmt.request_body(prepared.call))
            )
            if upstream.status_code != 200:
                return upstream
            stream = _SyncFiltered(upstream, fmt.stream_filter(prepared.call, self.guard))
            return self._streamed(request, prepared, upstream, stream, decision.action.label)
        last: list[Any] = []

        def send(attempt: Call) -> Reply:
            response = inner.handle_request(self._forwarded(request, fmt.request_body(attempt)))
            response.read()
            response.close()
            last.append(response)
            if response.status_code != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(attempt, response.content)

        try:
            outcome = self.guard.run_sync(prepared.call, send)
        except _PassThrough as passed:
            return passed.response
        return self._finish(request, prepared, outcome, last[-1] if last else None)

    def close(self) -> None:
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                transport.close()


class GuardAsyncTransport(_GuardedTransport, *ASYNC_TRANSPORTS):  # type: ignore[misc]
    """An async transport that guards model calls and forwards to ``transport``
    (default: a new ``AsyncHTTPTransport`` of the client's httpx package)."""

    def inner(self, request: Any) -> Any:
        """The transport requests are forwarded to."""
        if self._given is not None:
            return self._given
        package = package_of(request)
        if package not in self._inner:
            self._inner[package] = package.AsyncHTTPTransport()
        return self._inner[package]

    async def handle_async_request(self, request: Any) -> Any:
        inner = self.inner(request)
        prepared = (
            self._prepare(request, await request.aread()) if request.method == "POST" else None
        )
        if not isinstance(prepared, _Prepared):
            return prepared if prepared is not None else await inner.handle_async_request(request)
        fmt = prepared.fmt
        if prepared.call.stream:
            decision = self.guard.before(prepared.call)
            if decision.blocked:
                return self._blocked(request, fmt, decision)
            forwarded = self._forwarded(request, fmt.request_body(prepared.call))
            upstream = await inner.handle_async_request(forwarded)
            if upstream.status_code != 200:
                return upstream
            stream = _AsyncFiltered(upstream, fmt.stream_filter(prepared.call, self.guard))
            return self._streamed(request, prepared, upstream, stream, decision.action.label)
        last: list[Any] = []

        async def send(attempt: Call) -> Reply:
            forwarded = self._forwarded(request, fmt.request_body(attempt))
            response = await inner.handle_async_request(forwarded)
            await response.aread()
            await response.aclose()
            last.append(response)
            if response.status_code != 200:
                raise _PassThrough(response)
            return fmt.parse_reply(attempt, response.content)

        try:
            outcome = await self.guard.run(prepared.call, send)
        except _PassThrough as passed:
            return passed.response
        return self._finish(request, prepared, outcome, last[-1] if last else None)

    async def aclose(self) -> None:
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                await transport.aclose()


def _feed(stream_filter: StreamFilter, chunk: bytes) -> bytes:
    """Filter a chunk; a block is recorded before its error event is handed on, because
    the SDK raises on that event and may never resume the stream."""
    out = stream_filter.feed(chunk)
    if stream_filter.done:
        _note_block(stream_filter.decision)
    return out


def _close(stream_filter: StreamFilter) -> bytes:
    """The upstream ended: the filter's last bytes, with its decision recorded."""
    out = stream_filter.close()
    _note_block(stream_filter.decision)
    return out


class _SyncFiltered(*SYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through a stream filter."""

    def __init__(self, upstream: Any, stream_filter: StreamFilter) -> None:
        self._upstream = upstream
        self._filter = stream_filter

    def __iter__(self) -> Iterator[bytes]:
        stream_filter = self._filter
        try:
            for chunk in self._upstream.iter_bytes():
                out = _feed(stream_filter, chunk)
                if out:
                    yield out
                if stream_filter.done:
                    return
            out = _close(stream_filter)
            if out:
                yield out
        except TRANSPORT_ERRORS as exc:
            yield stream_filter.fail(f"the upstream broke off the stream ({type(exc).__name__})")
        finally:
            self._upstream.close()

    def close(self) -> None:
        self._upstream.close()


class _AsyncFiltered(*ASYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through a stream filter (async)."""

    def __init__(self, upstream: Any, stream_filter: StreamFilter) -> None:
        self._upstream = upstream
        self._filter = stream_filter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        stream_filter = self._filter
        try:
            async for chunk in self._upstream.aiter_bytes():
                out = _feed(stream_filter, chunk)
                if out:
                    yield out
                if stream_filter.done:
                    return
            out = _close(stream_filter)
            if out:
                yield out
        except TRANSPORT_ERRORS as exc:
            yield stream_filter.fail(f"the upstream broke off the stream ({type(exc).__name__})")
        finally:
            await self._upstream.aclose()

    async def aclose(self) -> None:
        await self._upstream.aclose()
