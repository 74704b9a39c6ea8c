"""``raise_blocked()``: inside it, a call the transport refused raises
:class:`~guard.errors.GuardBlocked` (or :class:`~guard.errors.GuardUnavailable` for a
state-store outage) instead of the SDK's error for the API's refusal.
The transports note each refused request here (:func:`note_block`)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from guard.decision import Decision
from guard.errors import GuardBlocked, GuardUnavailable, blocked_error

_blocked: contextvars.ContextVar[dict[int, tuple[Any, Decision]] | None] = contextvars.ContextVar(
    "guardwire_blocked", default=None
)


@contextlib.contextmanager
def raise_blocked() -> Iterator[None]:
    """Raise :class:`GuardBlocked` (instead of the SDK's error) for calls blocked inside,
    :class:`GuardUnavailable` for calls refused because a state store failed.

    Only the SDK error of a call this guard refused is converted (matched by the request
    it failed on); any other exception passes through unchanged, also after a block was
    handled inside the block.
    """
    seen: dict[int, tuple[Any, Decision]] = {}
    token = _blocked.set(seen)
    try:
        yield
    except (GuardBlocked, GuardUnavailable):
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


def note_block(request: Any, decision: Decision | None) -> None:
    seen = _blocked.get()
    if seen is not None and decision is not None and decision.blocked:
        seen[id(request)] = (request, decision)
