"""Request patches: typed changes a check asks for, written into the body by the wire format.

A check never edits a wire body. It returns patches on its verdict (``Verdict.patches``);
when the verdict is enforced and the call goes ahead, the lifecycle hands them to
:func:`guard.formats.apply_patches`, which writes each one in the shape of the call's API
(``max_tokens`` vs ``max_completion_tokens`` vs ``max_output_tokens``, a system message vs
a ``system`` field...). A format that cannot express a patch ignores it and says so in
:attr:`Patched.skipped`, so a check can tell a clamp that happened from one that did not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SetMaxTokens:
    """Cap the reply's length at ``tokens`` (never raises a lower cap the caller set)."""

    tokens: int


@dataclass(frozen=True, slots=True)
class EnsureStreamUsage:
    """Make a streamed reply report token usage (OpenAI ``stream_options.include_usage``)."""


@dataclass(frozen=True, slots=True)
class SetResponseFormat:
    """Ask for structured output: the API's response format object (OpenAI shape)."""

    response_format: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PrependSystem:
    """Put ``text`` before everything else the model reads, as a system instruction."""

    text: str


@dataclass(frozen=True, slots=True)
class RouteModel:
    """Send the call to model ``model`` instead of the one the caller named."""

    model: str


@dataclass(frozen=True, slots=True)
class KeepTools:
    """Offer the model only the named tools of the request's ``tools`` (the agent check's
    ``filter_offered``); a ``tool_choice`` forcing a removed tool is dropped too."""

    names: frozenset[str]


Patch = (
    SetMaxTokens | EnsureStreamUsage | SetResponseFormat | PrependSystem | RouteModel | KeepTools
)


@dataclass(frozen=True, slots=True)
class DropToolCalls:
    """A reply patch (output stage): remove these tool calls from the reply, each given
    as (position in ``reply.choices``, position in that choice's ``tool_calls``) — the
    agent check's ``action: strip``. Written by :func:`guard.formats.apply_reply_patches`
    in the API's shape; a format that cannot do it leaves the reply alone and says so."""

    positions: frozenset[tuple[int, int]]


#: Patches an output-stage verdict may carry.
ReplyPatch = DropToolCalls


@dataclass(slots=True)
class Patched:
    """What applying patches did: the ones a format could not express are listed."""

    applied: list[Patch] = field(default_factory=list)
    skipped: list[Patch] = field(default_factory=list)
    #: True when the client asked for no usage chunk and one was requested for it: the
    #: frontend strips the usage chunk again before the client sees it.
    strip_usage: bool = False
