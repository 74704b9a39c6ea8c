"""In-process guard: httpx transports for the OpenAI and Anthropic SDKs.

``OpenAI(http_client=httpx.Client(transport=guard.transport()))`` — and the same for
``AsyncOpenAI`` (``async_transport``), ``Anthropic`` and ``AsyncAnthropic``. Requests to
``.../chat/completions`` and ``/v1/messages`` go through the engine with the same
``guard.formats`` modules the proxy uses; every other request passes straight through.
A blocked call comes back as the API's own error response, so the SDK raises its normal
exception; inside ``with guard.raise_blocked():`` it is raised as
:class:`~guard.errors.GuardBlocked` instead (:class:`~guard.errors.GuardUnavailable` for
a state-store outage).

Newer SDK releases accept only clients of ``httpx2`` (a fork of httpx with the same
API). The transports and streams here subclass the base classes of both packages and
answer with the package of the request they receive, so one transport object serves an
``httpx.Client`` and an ``httpx2.Client`` alike.
"""

from __future__ import annotations

import time
from typing import Any

from guard._httpx import ASYNC_TRANSPORTS, SYNC_TRANSPORTS, TRANSPORT_ERRORS, package_of
from guard._transport_base import GuardedTransport, Prepared
from guard._transport_blocked import raise_blocked as raise_blocked
from guard._transport_deadline import bound, deadline_of, transport_failure
from guard._transport_streams import AsyncFiltered, SyncFiltered
from guard.errors import UpstreamError
from guard.types import Call


class GuardTransport(GuardedTransport, *SYNC_TRANSPORTS):  # type: ignore[misc]
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
        if not isinstance(prepared, Prepared):
            return prepared if prepared is not None else inner.handle_request(request)
        lifecycle, fmt = prepared.lifecycle, prepared.fmt
        outcome: str | None = "error"
        status: int | None = None
        request_sent = True
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
                stream = SyncFiltered(upstream, lifecycle, send, request, self)
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
                attempt = lifecycle.deliver(self._parse(fmt, attempt, last))
            outcome = None
            return self._answer(request, prepared, last)
        except UpstreamError as exc:
            # A 200 that is not the API's reply (not JSON, cut short): the upstream's
            # fault, answered as the proxy does (a 502 in the API's shape, released).
            outcome, status = "upstream_error", exc.status
            return self._upstream_failed(request, fmt, exc)
        except TRANSPORT_ERRORS as exc:
            if self.closed:  # the client was closed under the call: the proxy's shutdown
                outcome, status = "shutdown", 503
                return self._closed_mid_call(request, fmt)
            # A timeout is the proxy's 504: sent, so the provider may have charged it.
            outcome = "upstream_error"
            status, request_sent = transport_failure(exc)
            raise
        finally:
            if not streaming:
                lifecycle.finish(outcome, status=status, request_sent=request_sent)

    def close(self) -> None:
        """Close the wrapped transports, then write what the guard's budgets still owe
        the state store (:meth:`Guard.close`); closing the ``httpx`` client calls it."""
        self.closed = True
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                transport.close()
        self.guard.close()


class GuardAsyncTransport(GuardedTransport, *ASYNC_TRANSPORTS):  # type: ignore[misc]
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
        if not isinstance(prepared, Prepared):
            return prepared if prepared is not None else await inner.handle_async_request(request)
        lifecycle, fmt = prepared.lifecycle, prepared.fmt
        outcome: str | None = "error"
        status: int | None = None
        request_sent = True
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
                stream = AsyncFiltered(upstream, lifecycle, send, request, self)
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
                attempt = await lifecycle.adeliver(self._parse(fmt, attempt, last))
            outcome = None
            return self._answer(request, prepared, last)
        except UpstreamError as exc:
            outcome, status = "upstream_error", exc.status
            return self._upstream_failed(request, fmt, exc)
        except TRANSPORT_ERRORS as exc:
            if self.closed:
                outcome, status = "shutdown", 503
                return self._closed_mid_call(request, fmt)
            outcome = "upstream_error"
            status, request_sent = transport_failure(exc)
            raise
        finally:
            if not streaming:
                await lifecycle.afinish(outcome, status=status, request_sent=request_sent)

    async def aclose(self) -> None:
        """Close the wrapped transports, then write what the guard's budgets still owe
        the state store (:meth:`Guard.aclose`); closing the ``httpx`` client calls it."""
        self.closed = True
        for transport in (self._given, *self._inner.values()):
            if transport is not None:
                await transport.aclose()
        await self.guard.aclose()
