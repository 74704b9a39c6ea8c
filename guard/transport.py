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
import time
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
from guard._transport_deadline import (
    DEADLINE_ERRORS,
    DEFAULT_TOTAL_TIMEOUT,
    bound,
    checked_total_timeout,
    deadline_of,
)
from guard.decision import Decision
from guard.engine import Guard
from guard.errors import GuardBlocked, RequestError, UpstreamError, blocked_error
from guard.formats.base import StreamFilter, WireFormat, caller_from_headers
from guard.lifecycle import GuardedCall, retry_headers
from guard.stores.base import STORE_UNAVAILABLE
from guard.types import Call

_DROP = ("content-length", "content-encoding", "transfer-encoding")
#: Refusals that are no verdict on the content: ``x-guardwire-verdict: error``.
_ERROR_CODES = ("invalid_request", "request_too_large", STORE_UNAVAILABLE)
_blocked: contextvars.ContextVar[dict[int, tuple[Any, Decision]] | None] = contextvars.ContextVar(
    "guardwire_blocked", default=None
)


@contextlib.contextmanager
def raise_blocked() -> Iterator[None]:
    """Raise :class:`GuardBlocked` (instead of the SDK's error) for calls blocked inside.

    Only the SDK error of a call this guard refused is converted (matched by the request
    it failed on); any other exception passes through unchanged, also after a block was
    handled inside the block.
    """
    seen: dict[int, tuple[Any, Decision]] = {}
    token = _blocked.set(seen)
    try:
        yield
    except GuardBlocked:
        raise
    except Exception as exc:
        decision = _decision_for(exc, seen)
        if decision is not None:
            raise blocked_error(decision) from exc
        raise
    finally:
        _blocked.reset(token)


def _decision_for(exc: Exception, seen: dict[int, tuple[Any, Decision]]) -> Decision | None:
    """The block behind an SDK error: its request (or its response's) was refused here."""
    response = getattr(exc, "response", None)
    for request in (getattr(exc, "request", None), getattr(response, "request", None)):
        if request is not None:
            entry = seen.get(id(request))
            if entry is not None and entry[0] is request:
                return entry[1]
    return None


def _note_block(request: Any, decision: Decision | None) -> None:
    seen = _blocked.get()
    if seen is not None and decision is not None and decision.blocked:
        seen[id(request)] = (request, decision)


class _Prepared:
    """A request recognised as a model call, parsed, with its lifecycle opened."""

    __slots__ = ("call", "fmt", "lifecycle")

    def __init__(self, fmt: WireFormat, call: Call, lifecycle: GuardedCall) -> None:
        self.fmt = fmt
        self.call = call
        self.lifecycle = lifecycle


class _GuardedTransport:
    """What the sync and async transports share: recognise, check and answer."""

    def __init__(
        self,
        guard: Guard,
        transport: Any,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> None:
        self.guard = guard
        self._given = transport
        self._inner: dict[ModuleType, Any] = {}
        #: Send requests to model APIs guardwire does not check (legacy completions,
        #: embeddings, batches...) unchecked instead of refusing them.
        self.allow_unchecked = allow_unchecked
        #: Seconds a checked model call may take from its start to the last byte of its
        #: reply, streamed or not, reasks included (``None``: no deadline).
        self.total_timeout = checked_total_timeout(total_timeout)

    def _prepare(self, request: Any, body: bytes) -> _Prepared | Any:
        # Route on the raw path, the bytes that go out: a percent-escape is no way around.
        path = request.url.raw_path.partition(b"?")[0].decode("ascii", "replace")
        fmt = formats.for_path(path)
        if fmt is None:
            api = formats.unchecked_api(path)
            if api is not None and not self.allow_unchecked:
                return self._error(
                    request,
                    formats.get(
                        "anthropic.messages" if api.startswith("anthropic") else "openai.chat"
                    ),
                    404,
                    f"guardwire does not check the {api} API, so the guarded client does not "
                    "send it; pass allow_unchecked=True to guard.transport() to let it through "
                    "unchecked",
                    "unchecked_api",
                )
            return None
        try:
            call = fmt.parse_request(body, caller_from_headers(request.headers.get))
        except RequestError as exc:
            return self._error(request, fmt, exc.status, str(exc), exc.code)
        return _Prepared(fmt, call, self.guard.open(call, frontend="transport"))

    def _error(
        self,
        request: Any,
        fmt: WireFormat,
        status: int,
        message: str,
        code: str,
        retry_after: float | None = None,
    ) -> Any:
        verdict = "error" if code in _ERROR_CODES else "block"
        headers = {"content-type": "application/json", "x-guardwire-verdict": verdict}
        headers.update(retry_headers(retry_after))
        return package_of(request).Response(
            status, headers=headers, content=fmt.error_body(status, message, code), request=request
        )

    def _upstream_failed(self, request: Any, fmt: WireFormat, exc: UpstreamError) -> Any:
        response = self._error(request, fmt, exc.status, str(exc), exc.code)
        response.headers["x-guardwire-verdict"] = "error"
        return response

    def _refused(self, request: Any, prepared: _Prepared) -> Any:
        refusal = prepared.lifecycle.refusal
        assert refusal is not None
        _note_block(request, refusal.decision)
        return self._error(
            request,
            prepared.fmt,
            refusal.status,
            refusal.message,
            refusal.code,
            refusal.retry_after,
        )

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

    def _answer(self, request: Any, prepared: _Prepared, last: Any) -> Any:
        """The checked reply (or the refusal) as the response the SDK reads."""
        lifecycle = prepared.lifecycle
        if lifecycle.refusal is not None:
            return self._refused(request, prepared)
        reply = lifecycle.reply
        assert reply is not None
        verdict = lifecycle.outcome().action.label
        if reply.body and lifecycle.attempts == 1:
            # The upstream's reply passes unchanged: hand back its (already read)
            # response with our headers instead of building another one.
            last.headers["x-guardwire-verdict"] = verdict
            last.headers["x-guardwire-policy"] = self.guard.policy_tag
            last.headers.update(lifecycle.ctx.response_headers)
            return last
        return package_of(request).Response(
            last.status_code,
            headers=self._headers(last, verdict) + list(lifecycle.ctx.response_headers.items()),
            content=prepared.fmt.reply_body(reply),
            request=request,
        )

    def _streamed(self, request: Any, prepared: _Prepared, upstream: Any, stream: Any) -> Any:
        decision = prepared.lifecycle.input
        verdict = decision.action.label if decision is not None else "allow"
        return package_of(request).Response(
            upstream.status_code,
            headers=self._headers(upstream, verdict),
            stream=stream,
            request=request,
        )


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
        lifecycle, fmt = prepared.lifecycle, prepared.fmt
        outcome: str | None = "error"
        status: int | None = None
        streaming = False
        total, deadline = self.total_timeout, deadline_of(self.total_timeout)
        try:
            attempt = lifecycle.start()
            if attempt is None:
                outcome = None
                return self._refused(request, prepared)
            if prepared.call.stream:

                def send(call: Call) -> Any:
                    forwarded = self._forwarded(request, fmt.request_body(call))
                    return bound(inner.handle_request(forwarded), request, deadline, total)

                upstream = send(attempt)
                if upstream.status_code != 200:
                    outcome = "upstream_error"
                    return upstream
                stream = _SyncFiltered(upstream, lifecycle, send, request)
                streaming, outcome = True, None
                return self._streamed(request, prepared, upstream, stream)
            last: Any = None
            while attempt is not None:
                sent = time.perf_counter()
                last = inner.handle_request(self._forwarded(request, fmt.request_body(attempt)))
                bound(last, request, deadline, total).read()
                lifecycle.waited(time.perf_counter() - sent)
                last.close()
                if last.status_code != 200:
                    outcome = "upstream_error"
                    return last
                attempt = lifecycle.deliver(fmt.parse_reply(attempt, last.content))
            outcome = None
            return self._answer(request, prepared, last)
        except UpstreamError as exc:
            # A 200 that is not the API's reply (not JSON, cut short): the upstream's
            # fault, answered as the proxy does (a 502 in the API's shape, released).
            outcome, status = "upstream_error", exc.status
            return self._upstream_failed(request, fmt, exc)
        except TRANSPORT_ERRORS as exc:
            # Past the deadline the request was sent: the provider may have charged it.
            outcome, status = "upstream_error", 504 if isinstance(exc, DEADLINE_ERRORS) else None
            raise
        finally:
            if not streaming:
                lifecycle.finish(outcome, status=status)

    def close(self) -> None:
        """Close the wrapped transports, then write what the guard's budgets still owe
        the state store (:meth:`Guard.close`); closing the ``httpx`` client calls it."""
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                transport.close()
        self.guard.close()


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
        lifecycle, fmt = prepared.lifecycle, prepared.fmt
        outcome: str | None = "error"
        status: int | None = None
        streaming = False
        total, deadline = self.total_timeout, deadline_of(self.total_timeout)
        try:
            attempt = await lifecycle.astart()
            if attempt is None:
                outcome = None
                return self._refused(request, prepared)
            if prepared.call.stream:

                async def send(call: Call) -> Any:
                    forwarded = self._forwarded(request, fmt.request_body(call))
                    upstream = await inner.handle_async_request(forwarded)
                    return bound(upstream, request, deadline, total)

                upstream = await send(attempt)
                if upstream.status_code != 200:
                    outcome = "upstream_error"
                    return upstream
                stream = _AsyncFiltered(upstream, lifecycle, send, request)
                streaming, outcome = True, None
                return self._streamed(request, prepared, upstream, stream)
            last: Any = None
            while attempt is not None:
                forwarded = self._forwarded(request, fmt.request_body(attempt))
                sent = time.perf_counter()
                last = await inner.handle_async_request(forwarded)
                await bound(last, request, deadline, total).aread()
                lifecycle.waited(time.perf_counter() - sent)
                await last.aclose()
                if last.status_code != 200:
                    outcome = "upstream_error"
                    return last
                attempt = await lifecycle.adeliver(fmt.parse_reply(attempt, last.content))
            outcome = None
            return self._answer(request, prepared, last)
        except UpstreamError as exc:
            outcome, status = "upstream_error", exc.status
            return self._upstream_failed(request, fmt, exc)
        except TRANSPORT_ERRORS as exc:
            outcome, status = "upstream_error", 504 if isinstance(exc, DEADLINE_ERRORS) else None
            raise
        finally:
            if not streaming:
                await lifecycle.afinish(outcome, status=status)

    async def aclose(self) -> None:
        """Close the wrapped transports, then write what the guard's budgets still owe
        the state store (:meth:`Guard.aclose`); closing the ``httpx`` client calls it."""
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                await transport.aclose()
        await self.guard.aclose()


#: What ends a stream early: the client library's transport errors, and an SSE line or
#: event over its limit.
_STREAM_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, UpstreamError)


class _StreamRun:
    """What the sync and async stream wrappers share: one filter per upstream stream
    (a buffered reply that a check asked to reask is streamed again), blocks noted for
    ``raise_blocked``, and the outcome the call finishes with."""

    def __init__(self, lifecycle: GuardedCall, request: Any) -> None:
        self.lifecycle = lifecycle
        self.request = request
        self.filter: StreamFilter | None = None

    def open(self) -> StreamFilter:
        """A filter for the next upstream stream."""
        self.filter = self.lifecycle.stream_filter()
        return self.filter

    def feed(self, chunk: bytes) -> bytes:
        """Filter a chunk; a block is noted before its error event is handed on, because
        the SDK raises on that event and may never resume the stream."""
        assert self.filter is not None
        out = self.filter.feed(chunk)
        if self.filter.done:
            _note_block(self.request, self.filter.decision)
        return out

    async def afeed(self, chunk: bytes) -> bytes:
        """:meth:`feed` for the async wrapper: tool-call checks are awaited."""
        stream_filter = self.filter
        assert stream_filter is not None
        if getattr(stream_filter, "gate", None) is None:
            return self.feed(chunk)
        out: bytes = await stream_filter.afeed(chunk)  # type: ignore[attr-defined]
        if stream_filter.done:
            _note_block(self.request, stream_filter.decision)
        return out

    def close(self) -> bytes:
        """The upstream ended: the filter's last bytes, with its decision noted."""
        assert self.filter is not None
        out = self.filter.close()
        _note_block(self.request, self.filter.decision)
        return out

    async def aclose(self) -> bytes:
        """:meth:`close` for the async wrapper: end-of-stream checks are awaited."""
        from guard.formats._stream import aclose

        assert self.filter is not None
        out = await aclose(self.filter)
        _note_block(self.request, self.filter.decision)
        return out

    def broke(self, error: Exception) -> bytes:
        """The upstream broke off (or sent an SSE line or event over its limit)."""
        assert self.filter is not None
        if isinstance(error, UpstreamError):
            return self.filter.fail(str(error), error.code)
        if isinstance(error, DEADLINE_ERRORS):
            return self.filter.fail(str(error), "upstream_timeout")
        return self.filter.fail(f"the upstream broke off the stream ({type(error).__name__})")

    def retry(self) -> Call | None:
        """The call to stream again, when a buffered reply was reasked."""
        return getattr(self.filter, "retry", None)

    def reask_failed(self) -> bytes:
        """The upstream refused the reask: end with the API's error event."""
        assert self.filter is not None
        self.filter.fail("the upstream failed the reask")
        return self.filter.format.stream_error(  # type: ignore[attr-defined,no-any-return]
            "the upstream failed the reask", "upstream_error"
        )

    def outcome(self) -> str | None:
        """The outcome of a stream the client stopped reading: decided when the filter
        ended it (a block, an upstream failure), else the client left."""
        stream_filter = self.filter
        if stream_filter is None or not stream_filter.done:
            return "disconnected"
        return "upstream_error" if getattr(stream_filter, "upstream_failed", False) else None


class _SyncFiltered(*SYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through the call's stream filter."""

    def __init__(self, upstream: Any, lifecycle: GuardedCall, send: Any, request: Any) -> None:
        self._upstream = upstream
        self._send = send
        self._run = _StreamRun(lifecycle, request)

    def __iter__(self) -> Iterator[bytes]:
        run = self._run
        try:
            while True:
                stream_filter = run.open()
                try:
                    for chunk in self._upstream.iter_bytes():
                        out = run.feed(chunk)
                        if out:
                            yield out
                        if stream_filter.done:
                            break
                    else:
                        out = run.close()
                        if out:
                            yield out
                except _STREAM_ERRORS as exc:
                    yield run.broke(exc)
                finally:
                    self._upstream.close()
                retry = run.retry()
                if retry is None:
                    return
                self._upstream = self._send(retry)
                if self._upstream.status_code != 200:
                    yield run.reask_failed()
                    return
        finally:
            run.lifecycle.finish(run.outcome())

    def close(self) -> None:
        self._upstream.close()
        self._run.lifecycle.finish(self._run.outcome())


class _AsyncFiltered(*ASYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through the call's stream filter (async)."""

    def __init__(self, upstream: Any, lifecycle: GuardedCall, send: Any, request: Any) -> None:
        self._upstream = upstream
        self._send = send
        self._run = _StreamRun(lifecycle, request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        run = self._run
        try:
            while True:
                stream_filter = run.open()
                try:
                    async for chunk in self._upstream.aiter_bytes():
                        out = await run.afeed(chunk)
                        if out:
                            yield out
                        if stream_filter.done:
                            break
                    else:
                        out = await run.aclose()
                        if out:
                            yield out
                except _STREAM_ERRORS as exc:
                    yield run.broke(exc)
                finally:
                    await self._upstream.aclose()
                retry = run.retry()
                if retry is None:
                    return
                self._upstream = await self._send(retry)
                if self._upstream.status_code != 200:
                    yield run.reask_failed()
                    return
        finally:
            await run.lifecycle.afinish(run.outcome())

    async def aclose(self) -> None:
        await self._upstream.aclose()
        await self._run.lifecycle.afinish(self._run.outcome())
