"""Drivers for the engine's steps: one implementation, run sync or async.

A step of the call lifecycle is a generator that yields a :class:`Pending` whenever a
check returned an awaitable (an async check) and receives its result. The async driver
awaits it on the caller's event loop; the sync driver (sync transport, ``wrap`` of plain
functions, ``check_input``) runs it on one helper event loop in a daemon thread. A step
yields :class:`Blocking` work (checks on a big input or reply) for the async driver to run in
a worker thread, off the event loop; the sync driver runs it in place. A check
that raises or overruns its time limit has the exception thrown back into the step, which
turns it into an ``on_error`` verdict.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pending:
    """An awaitable a step needs the result of, and how long it may take."""

    awaitable: Awaitable[Any]
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Blocking:
    """CPU-bound work a step needs the result of (a check on a big input or reply): the async
    driver runs it in a worker thread, so the event loop serves other calls meanwhile;
    the sync driver runs it in place."""

    work: Callable[[], Any]
    timeout: float | None = None


Step = Generator[Pending | Blocking, Any, T]


def run_sync(step: Step[T]) -> T:
    """Run a step to its end, blocking; async checks run on the helper loop."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            pending = step.throw(error) if error is not None else step.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            value = (
                pending.work() if isinstance(pending, Blocking) else _helper_loop().call(pending)
            )
        except Exception as exc:  # handed back to the step, which decides by on_error
            error = exc


def wait_sync(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` from sync code, on the helper loop."""
    result: T = _helper_loop().call(Pending(awaitable))
    return result


async def run_async(step: Step[T]) -> T:
    """Run a step to its end, awaiting async checks on the running loop."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            pending = step.throw(error) if error is not None else step.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            awaitable = (
                asyncio.to_thread(pending.work)
                if isinstance(pending, Blocking)
                else pending.awaitable
            )
            if pending.timeout is None:
                value = await awaitable
            else:
                value = await asyncio.wait_for(awaitable, pending.timeout)
        except Exception as exc:
            error = exc


class _HelperLoop:
    """One event loop in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="guardwire-checks")
        thread.daemon = True
        thread.start()

    def call(self, pending: Pending) -> Any:
        future = asyncio.run_coroutine_threadsafe(_awaited(pending), self.loop)
        return future.result()


async def _awaited(pending: Pending) -> Any:
    if pending.timeout is None:
        return await pending.awaitable
    return await asyncio.wait_for(pending.awaitable, pending.timeout)


_loop: _HelperLoop | None = None
_lock = threading.Lock()


def _helper_loop() -> _HelperLoop:
    global _loop
    if _loop is None:
        with _lock:
            if _loop is None:
                _loop = _HelperLoop()
    return _loop
