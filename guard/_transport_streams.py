"""A guarded transport's streamed replies: the upstream's SSE bytes through the call's
stream filter (sync and async), reasks of a buffered reply streamed again, blocks noted
for ``raise_blocked``, and the outcome the call finishes with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from guard._httpx import ASYNC_STREAMS, SYNC_STREAMS, TRANSPORT_ERRORS
from guard._transport_base import CLOSED_MID_CALL
from guard._transport_blocked import note_block
from guard._transport_deadline import DEADLINE_ERRORS, TIMEOUT_ERRORS
from guard.errors import UpstreamError
from guard.formats.base import StreamFilter
from guard.lifecycle import GuardedCall
from guard.types import Call

#: What ends a stream early: the client library's transport errors, and an SSE line or
#: event over its limit.
STREAM_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, UpstreamError)


class StreamRun:
    """What the sync and async stream wrappers share: one filter per upstream stream
    (a buffered reply that a check asked to reask is streamed again), blocks noted for
    ``raise_blocked``, and the outcome the call finishes with."""

    def __init__(self, lifecycle: GuardedCall, request: Any, transport: Any) -> None:
        self.lifecycle = lifecycle
        self.request = request
        #: The guarded transport (its ``closed`` tells a closed client from a broken read).
        self.transport = transport
        self.filter: StreamFilter | None = None
        #: Set when closing the client cut the stream: the call's outcome is ``shutdown``.
        self.shut = False

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
            note_block(self.request, self.filter.decision)
        return out

    async def afeed(self, chunk: bytes) -> bytes:
        """:meth:`feed` for the async wrapper: tool-call checks are awaited."""
        stream_filter = self.filter
        assert stream_filter is not None
        if getattr(stream_filter, "gate", None) is None:
            return self.feed(chunk)
        out: bytes = await stream_filter.afeed(chunk)  # type: ignore[attr-defined]
        if stream_filter.done:
            note_block(self.request, stream_filter.decision)
        return out

    def close(self) -> bytes:
        """The upstream ended: the filter's last bytes, with its decision noted."""
        assert self.filter is not None
        out = self.filter.close()
        note_block(self.request, self.filter.decision)
        return out

    async def aclose(self) -> bytes:
        """:meth:`close` for the async wrapper: end-of-stream checks are awaited."""
        from guard.formats._stream import aclose

        assert self.filter is not None
        out = await aclose(self.filter)
        note_block(self.request, self.filter.decision)
        return out

    def broke(self, error: Exception) -> bytes:
        """The upstream broke off (or sent an SSE line or event over its limit), or the
        client was closed under the stream."""
        assert self.filter is not None
        if self.transport.closed and not isinstance(error, UpstreamError):
            self.shut = True
            return self.filter.fail(CLOSED_MID_CALL, "shutting_down")
        if isinstance(error, UpstreamError):
            return self.filter.fail(str(error), error.code)
        if isinstance(error, DEADLINE_ERRORS):
            return self.filter.fail(str(error), "upstream_timeout")
        if isinstance(error, TIMEOUT_ERRORS):  # the SDK's own read timeout, as the proxy's
            message = "the upstream did not send the rest of its reply in time"
            return self.filter.fail(message, "upstream_timeout")
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
        if self.shut:
            return "shutdown"
        if stream_filter is None or not stream_filter.done:
            return "disconnected"
        return "upstream_error" if getattr(stream_filter, "upstream_failed", False) else None


class SyncFiltered(*SYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through the call's stream filter."""

    def __init__(
        self, upstream: Any, lifecycle: GuardedCall, send: Any, request: Any, transport: Any
    ) -> None:
        self._upstream = upstream
        self._send = send
        self._run = StreamRun(lifecycle, request, transport)

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
                except STREAM_ERRORS as exc:
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


class AsyncFiltered(*ASYNC_STREAMS):  # type: ignore[misc]
    """The upstream's SSE bytes through the call's stream filter (async)."""

    def __init__(
        self, upstream: Any, lifecycle: GuardedCall, send: Any, request: Any, transport: Any
    ) -> None:
        self._upstream = upstream
        self._send = send
        self._run = StreamRun(lifecycle, request, transport)

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
                except STREAM_ERRORS as exc:
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
