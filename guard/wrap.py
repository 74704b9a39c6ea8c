"""``@guard.wrap``: guard any function that takes a prompt and returns text.

The wrapped function's first argument (or its ``prompt`` / ``messages`` keyword) is
checked before the call and may be redacted; the returned text is checked after it.
A blocking verdict raises :class:`~guard.errors.GuardBlocked`; a reask calls the
function again with the feedback appended. Sync, async, generator and async-generator
functions all work; generators are checked chunk by chunk like a streamed reply.

Per call, a ``guardwire={"context": [...], "session": ...}`` keyword argument passes
retrieved context and caller identity (it is removed before the function is called).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from guard.decision import Outcome
from guard.engine import Guard
from guard.errors import GuardBlocked
from guard.formats.base import read_extension
from guard.formats.text import build_call, prompt_of
from guard.policy import Policy
from guard.streaming import StreamSession
from guard.types import Call, Caller, Choice, Passage, Reply

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
) -> Any:
    """Guard a prompt-to-text function (``@wrap`` or ``@wrap(policy="strict")``)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        engine = guard if guard is not None else Guard(policy)
        defaults = _Defaults(context, session, tenant)
        if inspect.isasyncgenfunction(fn):
            return functools.wraps(fn)(_async_generator(engine, fn, defaults))
        if inspect.iscoroutinefunction(fn):
            return functools.wraps(fn)(_coroutine(engine, fn, defaults))
        if inspect.isgeneratorfunction(fn):
            return functools.wraps(fn)(_generator(engine, fn, defaults))
        return functools.wraps(fn)(_function(engine, fn, defaults))

    return decorate(function) if function is not None else decorate


class _Defaults:
    __slots__ = ("context", "session", "tenant")

    def __init__(
        self, context: Sequence[str | Passage], session: str | None, tenant: str | None
    ) -> None:
        self.context = [
            p if isinstance(p, Passage) else Passage(str(i + 1), p) for i, p in enumerate(context)
        ]
        self.session = session
        self.tenant = tenant


class _Invocation:
    """One call of the wrapped function: where its prompt is, and how to call it again."""

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        defaults: _Defaults,
    ) -> None:
        options = kwargs.pop("guardwire", None)
        extension, caller, passages = read_extension(
            {"guardwire": options} if options is not None else {},
            Caller(session=defaults.session, tenant=defaults.tenant),
        )
        del extension
        self.fn = fn
        self.args = list(args)
        self.kwargs = kwargs
        if "prompt" in kwargs or "messages" in kwargs:
            self.key: str | int = "prompt" if "prompt" in kwargs else "messages"
            prompt = kwargs[self.key]
        elif args:
            self.key = 0
            prompt = args[0]
        else:
            raise TypeError(
                "a wrapped function needs the prompt as its first argument or as prompt=/messages="
            )
        self.call = build_call(prompt, caller=caller, context=[*defaults.context, *passages])

    def arguments(self, call: Call) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = list(self.args), dict(self.kwargs)
        if isinstance(self.key, int):
            args[self.key] = prompt_of(call)
        else:
            kwargs[self.key] = prompt_of(call)
        return args, kwargs


def _reply(result: Any) -> Reply:
    if not isinstance(result, str):
        raise TypeError(f"a wrapped function must return text, not {type(result).__name__}")
    return Reply("text", [Choice(0, result, finish_reason="stop")])


def _result(outcome: Outcome) -> str:
    blocked = outcome.blocked
    if blocked is not None:
        raise GuardBlocked(blocked)
    assert outcome.reply is not None
    return outcome.reply.text


def _function(guard: Guard, fn: Callable[..., Any], defaults: _Defaults) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> str:
        invocation = _Invocation(fn, args, kwargs, defaults)

        def send(call: Call) -> Reply:
            positional, named = invocation.arguments(call)
            return _reply(fn(*positional, **named))

        return _result(guard.run_sync(invocation.call, send))

    return guarded


def _coroutine(guard: Guard, fn: Callable[..., Any], defaults: _Defaults) -> Callable[..., Any]:
    async def guarded(*args: Any, **kwargs: Any) -> str:
        invocation = _Invocation(fn, args, kwargs, defaults)

        async def send(call: Call) -> Reply:
            positional, named = invocation.arguments(call)
            return _reply(await fn(*positional, **named))

        return _result(await guard.run(invocation.call, send))

    return guarded


def _checked_input(guard: Guard, invocation: _Invocation) -> tuple[list[Any], dict[str, Any]]:
    decision = guard.before(invocation.call)
    if decision.blocked:
        raise GuardBlocked(decision)
    return invocation.arguments(invocation.call)


def _release(session: StreamSession, chunk: str) -> str:
    """Check a chunk of a generator's text; what may be handed on now."""
    released = session.feed(_STREAM_KEY, chunk)
    if session.blocked is not None:
        raise GuardBlocked(session.close())
    return released


def _release_rest(session: StreamSession) -> str:
    """The generator ended: the held-back rest, once every output check agreed."""
    rest = session.flush(_STREAM_KEY)
    decision = session.close()
    if decision.blocked:
        raise GuardBlocked(decision)
    return rest


def _generator(guard: Guard, fn: Callable[..., Any], defaults: _Defaults) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Iterator[str]:
        invocation = _Invocation(fn, args, kwargs, defaults)
        positional, named = _checked_input(guard, invocation)
        session = guard.stream(invocation.call)
        for chunk in fn(*positional, **named):
            released = _release(session, chunk)
            if released:
                yield released
        rest = _release_rest(session)
        if rest:
            yield rest

    return guarded


def _async_generator(
    guard: Guard, fn: Callable[..., Any], defaults: _Defaults
) -> Callable[..., Any]:
    async def guarded(*args: Any, **kwargs: Any) -> AsyncIterator[str]:
        invocation = _Invocation(fn, args, kwargs, defaults)
        positional, named = _checked_input(guard, invocation)
        session = guard.stream(invocation.call)
        async for chunk in fn(*positional, **named):
            released = _release(session, chunk)
            if released:
                yield released
        rest = _release_rest(session)
        if rest:
            yield rest

    return guarded
