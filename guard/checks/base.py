"""The check interface (v2): what a check is, declares, gets and returns.

A check is a small object built once from its policy entry. It implements ``input``
and/or ``output``; each returns a :class:`~guard.types.Verdict` — or an awaitable of one:
a check that does I/O (a state store, a judge model) is written ``async def`` and the
engine awaits it from async frontends and runs it on a helper event loop for the sync
transport. CPU-bound checks stay plain functions and run inline (no thread hop).

What a check gets: a :class:`CheckContext` **per call**, shared by the input and the
output stage — the caller's identity, the attempt number, the input decision (at the
output stage), a private scratch area that lives as long as the call (``ctx.private``),
restores (``ctx.restore``) and handles to resources such as the state store.

What a check can return besides an action: findings and edits (redactions), request
patches (:mod:`guard.patches`: clamp ``max_tokens``, ask for stream usage, set a
response format, prepend a system note, route to another model), an HTTP status, code
and ``retry_after`` for its refusal (a budget refusal is a 429, not a 400). A check that
wants to hear how the call ended implements ``finish(ctx, end)``, which runs exactly once
on every exit path (delivered, blocked, reasked, upstream error, timeout, disconnect).
An input check that must act before every further upstream attempt (a reask) implements
``attempt(call, reply, ctx)``: it gets the new request and the reply that was reasked and
returns a verdict (a block refuses the call; patches apply to the new request) — budgets
settle the ended attempt and reserve for the next there. A check that must see a
streamed reply's text as it passes adds a :class:`StreamMeter` to ``ctx.meters``; a
meter may cut the stream (budgets cut a stream that outruns its reservation).

A check declares what it can do in ``capabilities``; the policy loader refuses
combinations that cannot work (a reask at the input stage; a whole-reply check that may
block under progressive streaming, unless the policy buffers such calls). A check that
polices tool calls declares ``Capabilities(tool_calls=True)`` and implements
``tool_call(call, tool_call, ctx)`` (a :class:`CompleteToolCall`): progressive streams
hold each tool call's events back until its arguments are complete and run the hook
first, so a refused tool call never reaches the client. A check whose whole-reply need
depends on the request implements ``needs_whole_reply(call)``: such calls are buffered.

Worked example — reversible pseudonymisation of one made-up token::

    class Pseudonyms:
        name, shadow = "pseudonyms", False
        capabilities = Capabilities(restores=True)

        def input(self, call, ctx):
            edits = []
            for number, segment in enumerate(ctx.segments):
                for match in TOKEN.finditer(segment.text):
                    placeholder = f"<TOKEN_{len(ctx.private(self.name)) + 1}>"
                    ctx.private(self.name)[placeholder] = match.group()
                    ctx.restore(placeholder, match.group())   # the reply gets it back
                    edits.append(Edit(number, *match.span(), placeholder))
            return Verdict(self.name, Action.REDACT if edits else Action.ALLOW,
                           edits=tuple(edits))

        def output(self, call, reply, ctx):
            return Verdict(self.name, Action.ALLOW)

The upstream then sees ``<TOKEN_1>``; the caller's reply (complete or streamed, the
placeholder split over chunks or not) has the original back. Tests: tests/test_lifecycle.py.

Checks that find spans in text build on :class:`TextCheck` (:mod:`guard.checks._text_check`,
re-exported here with :class:`StreamWindow` and :func:`verdict_from`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from guard.checks._text_check import StreamWindow, TextCheck, verdict_from
from guard.types import Call, Caller, Reply, Segment, Stage, Usage, Verdict

if TYPE_CHECKING:
    from guard.decision import Decision

__all__ = [
    "DEFAULT_CAPABILITIES",
    "CallEnd",
    "Capabilities",
    "Check",
    "CheckConfig",
    "CheckContext",
    "CompleteToolCall",
    "Spender",
    "StreamMeter",
    "StreamWindow",
    "TextCheck",
    "capabilities_of",
    "verdict_from",
]


class CheckConfig(BaseModel):
    """Fields every check entry of a policy has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Name shown in errors, metrics and the audit log; defaults to the check type. A
    #: label value and an audit field, so the same shape as policy and rule names.
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    #: ``shadow`` records this check's verdicts without ever changing traffic.
    mode: Literal["enforce", "shadow"] = "enforce"
    #: What happens when this check fails (raises or overruns ``timeout_ms``); default:
    #: the policy's ``on_error``.
    on_error: Literal["block", "allow"] | None = None
    #: Time limit for one stage of this check. An async check is cancelled at the limit;
    #: a synchronous one cannot be interrupted, so its overrun is detected when it returns.
    #: Either way the overrun is an error, decided by ``on_error`` and counted.
    timeout_ms: float | None = Field(default=None, gt=0)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a check can do; validated against the policy when it loads."""

    #: Scans text chunk by chunk (a :class:`TextCheck`): runs progressively on streams.
    streamable: bool = False
    #: Needs the complete reply: on streams it runs when the stream ends.
    whole_reply: bool = False
    may_block: bool = True
    #: May ask for a reask (output stage only).
    may_reask: bool = False
    patches_request: bool = False
    #: Replaces text at the input stage and maps it back in the reply (``ctx.restore``).
    restores: bool = False
    #: Uses the state store (``ctx.store``).
    needs_state: bool = False
    #: Checks each complete tool call of a reply (``tool_call(call, tool_call, ctx)``).
    #: In progressive streams it runs as soon as a tool call's arguments are complete,
    #: before any of its events leave: ``BLOCK`` ends the stream with the API's error
    #: event, ``REDACT`` drops that tool call (``action: strip``), anything else lets
    #: it go. Complete replies and buffered streams still go through ``output``.
    tool_calls: bool = False


@dataclass(frozen=True, slots=True)
class CompleteToolCall:
    """A tool call of a streamed reply whose arguments are complete (never logged)."""

    #: The API's id of the call (``call_...``, ``toolu_...``); may be empty.
    id: str
    name: str
    #: The arguments as JSON; text that is not JSON stays a string (still checked).
    arguments: Any
    #: The arguments as the model streamed them.
    source: str


#: What a check that declares nothing is taken to be: whole-reply, may block.
DEFAULT_CAPABILITIES = Capabilities(whole_reply=True)


def capabilities_of(check: Any) -> Capabilities:
    """A check's declared capabilities (text checks are streamable by construction)."""
    declared = getattr(check, "capabilities", None)
    if isinstance(declared, Capabilities):
        return declared
    if isinstance(check, TextCheck):
        return Capabilities(streamable=True)
    return DEFAULT_CAPABILITIES


@dataclass(frozen=True, slots=True)
class CallEnd:
    """How a call ended, for ``finish`` hooks: never any text."""

    #: The outcome label (``guard.telemetry.OUTCOMES``).
    outcome: str
    status: int
    attempts: int
    usage: Usage | None = None
    #: Characters of a streamed reply read (text and tool calls; only when the provider
    #: reported no usage): 0 when the upstream failed before any of its reply.
    streamed_characters: int = 0
    #: False when no byte of the request reached the upstream (e.g. a connect timeout):
    #: the provider cannot have charged it, whatever the status.
    request_sent: bool = True


class StreamMeter(Protocol):
    """Counts a streamed reply's text as it passes (e.g. a budget's output tokens).

    A check that wants to see a stream adds one to ``ctx.meters`` at the input stage.
    ``count`` gets each text delta before any of it is released; a returned reason ends
    the stream there, with the API's own error event naming it (``name`` is the check)."""

    name: str

    def count(self, text: str) -> str | None:
        """Take a text delta; ``None`` to go on, or a value-free reason to cut."""
        ...


class Spender(Protocol):
    """Charges model use a check makes itself (a grounding judge calling a model) to the
    call's budgets. The budget check sets one on ``ctx.spender`` when the policy has
    budgets; ``reserve`` returns ``None`` when they cannot afford the use."""

    async def reserve(self, model: str, input_tokens: int, output_tokens: int) -> Any | None:
        """Hold an upper bound of one model call's cost; ``None``: not affordable."""
        ...

    async def settle(self, hold: Any, usage: Usage | None) -> None:
        """Spend what the model call used (``None``: unknown, the whole hold is spent)."""
        ...

    async def release(self, hold: Any) -> None:
        """Drop a hold whose model call never happened."""
        ...


@dataclass(slots=True)
class CheckContext:
    """Per-call state shared by the input and output stages of one call.

    ``segments`` is the text of the stage being checked: the call's (input) or the
    reply's (output). Every check of a stage sees the same text; their edits are merged
    once (the same composition as in streams).
    """

    stage: Stage
    policy: str
    segments: list[Segment]
    request_id: str = ""
    #: Who is calling (key id, tenant, session).
    caller: Caller = field(default_factory=Caller)
    #: 1 for the first upstream request, 2 for the first reask, ...
    attempt: int = 1
    #: The input stage's decision (set before the output stage runs).
    input_decision: Decision | None = None
    #: The state store, when the guard has one (``needs_state`` checks).
    store: Any = None
    #: ``proxy``, ``transport``, ``wrap`` or ``check``.
    frontend: str = "check"
    #: False when text is checked without calling a model (``guardwire check``, the check
    #: endpoint, ``Guard.check_input`` / ``check_output``): budgets reserve nothing.
    calls_model: bool = True
    #: Stream meters checks add (see :class:`StreamMeter`): they see the streamed text.
    meters: list[StreamMeter] = field(default_factory=list)
    #: Headers a check adds to the response (e.g. ``x-guardwire-max-tokens-clamped``):
    #: names and numbers only, never user text.
    response_headers: dict[str, str] = field(default_factory=dict)
    #: Set by the budget check: charges a check's own model use to the call's budgets.
    spender: Spender | None = None
    #: Per-stage cache (kept for checks written against the first API).
    cache: dict[str, Any] = field(default_factory=dict)
    _private: dict[str, dict[str, Any]] = field(default_factory=dict)
    _restores: dict[str, str] = field(default_factory=dict)

    def private(self, check: str) -> dict[str, Any]:
        """A scratch area for ``check`` that lives as long as the call (never logged)."""
        area = self._private.get(check)
        if area is None:
            area = self._private[check] = {}
        return area

    def restore(self, placeholder: str, original: str) -> None:
        """Map ``placeholder`` (sent upstream instead of ``original``) back in the reply."""
        self._restores[placeholder] = original

    @property
    def restores(self) -> dict[str, str]:
        """Placeholder -> original, for the reply path (never logged)."""
        return self._restores


@runtime_checkable
class Check(Protocol):
    """One rule family configured from the policy."""

    name: str
    shadow: bool

    def input(self, call: Call, ctx: CheckContext) -> Verdict | Awaitable[Verdict]:
        """Decide on the request before it leaves."""
        ...

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict | Awaitable[Verdict]:
        """Decide on the reply before anyone relies on it."""
        ...
