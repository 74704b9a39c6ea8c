"""The in-process transport's total deadline (``guard.transport(total_timeout=...)``).

httpx's timeouts bound each socket operation, not a call: an upstream that drips a byte
within every read timeout holds the caller as long as it likes. The transport wraps each
upstream response's byte stream so that reading it raises the client package's
``ReadTimeout`` (the SDKs raise their own timeout error for it) once the call's deadline
has passed. The deadline is checked as bytes arrive, so it fires at most one read late.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from guard._httpx import ASYNC_STREAMS, PACKAGES, SYNC_STREAMS, package_of

#: The default: ten minutes, as the proxy's ``timeouts.total`` and the SDKs' own timeout.
DEFAULT_TOTAL_TIMEOUT = 600.0

#: Per client package, the ``ReadTimeout`` subclass raised at the deadline (so a stream
#: can tell it from the SDK's own read timeout and name the setting).
_DEADLINE_ERRORS: dict[str, Any] = {
    package.__name__: type("TotalTimeout", (package.ReadTimeout,), {}) for package in PACKAGES
}
DEADLINE_ERRORS: tuple[type[Exception], ...] = tuple(_DEADLINE_ERRORS.values())
#: The client packages' timeouts (the SDK's own ``timeout=`` included).
TIMEOUT_ERRORS: tuple[type[Exception], ...] = tuple(p.TimeoutException for p in PACKAGES)
#: Errors after which no whole request reached the upstream: no connection was made, none
#: became free, or writing the request did not finish.
_UNSENT_ERRORS: tuple[type[Exception], ...] = tuple(
    error for p in PACKAGES for error in (p.ConnectError, p.ConnectTimeout, p.PoolTimeout,
                                          p.WriteTimeout)
)  # fmt: skip
_POOL_TIMEOUTS: tuple[type[Exception], ...] = tuple(p.PoolTimeout for p in PACKAGES)


def transport_failure(error: Exception) -> tuple[int, bool]:
    """The status and ``request_sent`` a call ended by the client package's ``error``
    is recorded with, as the proxy answers the same fault: 504 ``upstream_timeout`` for
    a timeout (the SDK's read timeout as the total deadline), 503 when no pooled
    connection became free, else 502. A budget settles a 504 whose request was sent from
    its estimate (the provider may have billed it) and releases the others."""
    sent = not isinstance(error, _UNSENT_ERRORS)
    if isinstance(error, _POOL_TIMEOUTS):
        return 503, sent
    return (504 if isinstance(error, TIMEOUT_ERRORS) else 502), sent


def checked_total_timeout(total_timeout: float | None) -> float | None:
    """``total_timeout`` as given, refused when it is not a positive number of seconds."""
    if total_timeout is not None and not total_timeout > 0:
        raise ValueError(
            "total_timeout must be a positive number of seconds (or None for no deadline)"
        )
    return total_timeout


def deadline_of(total_timeout: float | None) -> float | None:
    """The monotonic time a call started now must be read by."""
    return None if total_timeout is None else time.monotonic() + total_timeout


def bound(response: Any, request: Any, deadline: float | None, total: float | None) -> Any:
    """``response`` with its body's reading bounded by ``deadline`` (sync or async)."""
    if deadline is not None and total is not None:
        response.stream = _Bounded(response.stream, deadline, request, total)
    return response


def _past_deadline(request: Any, total: float) -> Exception:
    """The client package's read timeout, naming the setting (built only when raised)."""
    error: Exception = _DEADLINE_ERRORS[package_of(request).__name__](
        f"the upstream did not finish its reply within total_timeout ({total:g} s); "
        "raise total_timeout in guard.transport() for longer calls",
        request=request,
    )
    return error


class _Bounded(*SYNC_STREAMS, *ASYNC_STREAMS):  # type: ignore[misc]
    """A byte stream that raises once its deadline has passed. Both sync and async (as
    httpx's own ``ByteStream``): the response's reader picks the face it needs."""

    def __init__(self, stream: Any, deadline: float, request: Any, total: float) -> None:
        self._stream = stream
        self._deadline = deadline
        self._request = request
        self._total = total

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise _past_deadline(self._request, self._total)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise _past_deadline(self._request, self._total)
            yield chunk

    def close(self) -> None:
        self._stream.close()

    async def aclose(self) -> None:
        await self._stream.aclose()
