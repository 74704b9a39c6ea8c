"""``@guard.wrap``: guard any function that takes a prompt and returns text.

Every text argument of the wrapped function (a string, or a list of ``{role, content}``
messages) is checked before the call and may be redacted — or only the one named with
``@wrap(argument="question")``. The prompt is that named argument, else the ``prompt`` /
``messages`` keyword, else the first argument; on a reask it gets the feedback. The
returned text is checked after the call. A blocking verdict raises
:class:`~guard.errors.GuardBlocked`; a check whose state store failed (``on_error:
block``) raises :class:`~guard.errors.GuardUnavailable` (retry shortly). Sync, async,
generator and async-generator functions all work; generators are checked chunk by chunk
like a streamed reply.

Per call, a ``guardwire={"context": [...], "session": ...}`` keyword argument passes
retrieved context and caller identity (it is removed before the function is called).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from guard._wrap_call import Invocation, WrapDefaults
from guard.checks.schema import schema_check
from guard.engine import Guard
from guard.errors import blocked_error
from guard.lifecycle import GuardedCall
from guard.policy import Policy
from guard.streaming import StreamSession
from guard.types import Choice, Passage, Reply

F = TypeVar("F", bound=Callable[..., Any])
_STREAM_KEY = "text"


@overload
def wrap(function: F, /) -> F: ...


@overload
def wrap(
    *,
    policy: Policy | str | Path | None = None,
    guard: Guard | None = None,
    context: Sequence[str | Passage] = (),
    session: str | None = None,
    tenant: str | None = None,
    argument: str | None = None,
    output: type[BaseModel] | dict[str, Any] | None = None,
) -> Callable[[F], F]: ...


def wrap(
    function: Callable[..., Any] | None = None,
    /,
    *,
    policy: Policy | str | Path | None = None,
    guard: Guard | None = None,
    context: Sequence[str | Passage] = (),
    session: str | None = None,
    tenant: str | None = None,
    argument: str | None = None,
    output: type[BaseModel] | dict[str, Any] | None = None,
) -> Any:
    """Guard a prompt-to-text function (``@wrap`` or ``@wrap(policy="strict")``).

    ``output=MyModel`` (a pydantic model class, or a JSON Schema dict) validates the
    returned text as that structure, reasking with the problems as feedback (the
    policy's ``max_reasks``), and returns the validated model instance (or the parsed
    JSON value for a dict schema).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        engine = guard if guard is not None else Guard(policy)
        guarded = functools.wraps(fn)(build(engine, fn))
        # The wrapped function's engine: ``fn.guard.close()`` at shutdown writes what its
        # budgets still owe the state store (Guard.close).
        guarded.guard = engine  # type: ignore[attr-defined]
        return guarded

    def build(engine: Guard, fn: Callable[..., Any]) -> Callable[..., Any]:
        defaults = WrapDefaults(context, session, tenant, argument, inspect.signature(fn))
        if output is not None:
            if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
                raise TypeError(
                    "wrap(output=...) needs a function returning the whole text, not a generator"
                )
            defaults.output = output
            # Built now: an invalid schema is an error at decoration, not at the first call.
            schema_check(output, action="reask")
        if inspect.isasyncgenfunction(fn):
            return _async_generator(engine, fn, defaults)
        if inspect.iscoroutinefunction(fn):
            return _coroutine(engine, fn, defaults)
        if inspect.isgeneratorfunction(fn):
            return _generator(engine, fn, defaults)
        return _function(engine, fn, defaults)

    return decorate(function) if function is not None else decorate


def _reply(result: Any) -> Reply:
    if not isinstance(result, str):
        raise TypeError(f"a wrapped function must return text, not {type(result).__name__}")
    return Reply("text", [Choice(0, result, finish_reason="stop")])


def _open(guard: Guard, invocation: Invocation, defaults: WrapDefaults) -> GuardedCall:
    lifecycle = guard.open(invocation.call, frontend="wrap")
    if defaults.output is not None:
        lifecycle.extra_output_checks.append(
            schema_check(defaults.output, action="reask", telemetry=guard.telemetry)
        )
    return lifecycle


def _result(lifecycle: GuardedCall, defaults: WrapDefaults) -> Any:
    if lifecycle.refusal is not None:
        raise blocked_error(lifecycle.refusal.decision)
    assert lifecycle.reply is not None
    text = lifecycle.reply.text
    wanted = defaults.output
    if wanted is None:
        return text
    # The schema check passed: this is the (repaired) document, valid for ``wanted``.
    if isinstance(wanted, type):
        return wanted.model_validate_json(text)
    return json.loads(text)


def _function(guard: Guard, fn: Callable[..., Any], defaults: WrapDefaults) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        invocation = Invocation(fn, args, kwargs, defaults)
        lifecycle = _open(guard, invocation, defaults)
        outcome: str | None = "upstream_error"
        try:
            request = lifecycle.start()
            invocation.checked(invocation.call)
            while request is not None:
                positional, named = invocation.arguments(request)
                request = lifecycle.deliver(_reply(fn(*positional, **named)))
            outcome = None
        finally:
            lifecycle.finish(outcome)
        return _result(lifecycle, defaults)

    return guarded


def _coroutine(guard: Guard, fn: Callable[..., Any], defaults: WrapDefaults) -> Callable[..., Any]:
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        invocation = Invocation(fn, args, kwargs, defaults)
        lifecycle = _open(guard, invocation, defaults)
        outcome: str | None = "upstream_error"
        try:
            request = await lifecycle.astart()
            invocation.checked(invocation.call)
            while request is not None:
                positional, named = invocation.arguments(request)
                request = await lifecycle.adeliver(_reply(await fn(*positional, **named)))
            outcome = None
        finally:
            await lifecycle.afinish(outcome)
        return _result(lifecycle, defaults)

    return guarded


class _Chunks:
    """A generator's text through the call's stream session (and restores)."""

    def __init__(self, guard: Guard, invocation: Invocation) -> None:
        self.lifecycle = lifecycle = guard.open(invocation.call, frontend="wrap")
        if lifecycle.start() is None:
            lifecycle.finish()
            assert lifecycle.refusal is not None
            raise blocked_error(lifecycle.refusal.decision)
        invocation.checked(invocation.call)
        self.arguments = invocation.arguments(invocation.call)
        lifecycle.streaming = True
        # Generators are always checked progressively: there is no upstream to ask again.
        self.session = StreamSession(guard, invocation.call, lifecycle.ctx)
        self.restorer = lifecycle.restorer()
        self.text: list[str] = []

    def release(self, chunk: str) -> str:
        """Check a chunk; what may be handed on now."""
        self.text.append(chunk)
        released = self.session.feed(_STREAM_KEY, chunk)
        if self.session.blocked is not None:
            self._end()
        if self.restorer is not None:
            released = self.restorer.feed(_STREAM_KEY, released)
        return released

    def rest(self) -> str:
        """The generator ended: the held-back rest, once every output check agreed."""
        rest = self.session.flush(_STREAM_KEY)
        if self.restorer is not None:
            rest = self.restorer.feed(_STREAM_KEY, rest) + self.restorer.flush(_STREAM_KEY)
        self._end()
        return rest

    def _end(self) -> None:
        reply = Reply("text", [Choice(0, "".join(self.text), finish_reason="stop")])
        decision = self.lifecycle.end_stream(reply, self.session)
        self.lifecycle.finish()
        if decision.blocked:
            raise blocked_error(decision)


def _generator(guard: Guard, fn: Callable[..., Any], defaults: WrapDefaults) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Iterator[str]:
        chunks = _Chunks(guard, Invocation(fn, args, kwargs, defaults))
        try:
            positional, named = chunks.arguments
            for chunk in fn(*positional, **named):
                released = chunks.release(chunk)
                if released:
                    yield released
            rest = chunks.rest()
            if rest:
                yield rest
        finally:
            chunks.lifecycle.finish("disconnected")

    return guarded


def _async_generator(
    guard: Guard, fn: Callable[..., Any], defaults: WrapDefaults
) -> Callable[..., Any]:
    async def guarded(*args: Any, **kwargs: Any) -> AsyncIterator[str]:
        chunks = _Chunks(guard, Invocation(fn, args, kwargs, defaults))
        try:
            positional, named = chunks.arguments
            async for chunk in fn(*positional, **named):
                released = chunks.release(chunk)
                if released:
                    yield released
            rest = chunks.rest()
            if rest:
                yield rest
        finally:
            chunks.lifecycle.finish("disconnected")

    return guarded
