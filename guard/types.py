"""Core value types: the normalised call and reply, findings, verdicts and edits.

Every frontend (proxy, transport, ``wrap``) turns its wire format into a :class:`Call`
and a :class:`Reply`; checks only ever see these. Text lives in :class:`Segment` objects
that remember where in the raw JSON body they came from, so that an edit made by a check
is written back to exactly that place and everything else is forwarded unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

#: A location inside a JSON document: keys and list indices from the root.
JsonPath = tuple[str | int, ...]


class Action(enum.IntEnum):
    """What a check decides, ordered by strictness: the strictest of a stage wins."""

    ALLOW = 0
    WARN = 1
    REDACT = 2
    REASK = 3
    BLOCK = 4

    @property
    def label(self) -> str:
        """The lower-case name used in policies, headers, metrics and the audit log."""
        return self.name.lower()

    def __str__(self) -> str:
        # ``print(decision.action)`` shows ``block``, not the enum's integer value.
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Action:
        """Turn a policy string (``"block"``) into an action."""
        return cls[value.upper()]


class Stage(enum.StrEnum):
    """Where in the call a check runs."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(slots=True)
class Segment:
    """One piece of text the checks see, and where it lives in the raw body.

    ``path`` is ``None`` for text that has no place in a JSON body (plain ``wrap`` text,
    synthetic segments); such text can still be checked but an edit to it is applied
    by the frontend that owns it.
    """

    text: str
    path: JsonPath | None = None
    role: str = "user"
    #: ``message`` for conversation text, ``tool_result`` for tool output,
    #: ``tool_arguments`` for tool-call arguments (``tool_argument_key`` for an object
    #: key in them: an edit renames the key), ``context`` for
    #: retrieved passages, ``system`` for system prompts, ``reasoning`` for a model's
    #: thinking, ``tool_definition`` for tool and schema descriptions, ``metadata``
    #: for request metadata values.
    kind: str = "message"
    #: Index of the choice (output) or message (input) this segment belongs to.
    index: int = 0
    #: For text inside a JSON document stored as a *string* at ``path`` (OpenAI
    #: ``function.arguments``): the path of this string leaf in the decoded document.
    leaf: JsonPath | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check saw. Carries type, place and score — never the value."""

    check: str
    kind: str
    segment: int = -1
    start: int = 0
    end: int = 0
    score: float = 1.0
    action: Action = Action.WARN
    #: Rule or entity name that a user may see in an error; never user text.
    rule: str = ""
    #: A tool call's finding (the agent check): the tool's name as the policy or the
    #: request's offered tools spell it (``other`` otherwise) and a keyed hash of its
    #: arguments (``sha256:`` + 16 hex) — never the arguments. Empty for other findings.
    tool: str = ""
    arguments_hash: str = ""

    def as_record(self) -> dict[str, Any]:
        """A JSON-safe summary for the audit log and ``--json`` output."""
        record: dict[str, Any] = {
            "check": self.check,
            "kind": self.kind,
            "rule": self.rule,
            "segment": self.segment,
            "span": [self.start, self.end],
            "score": round(self.score, 4),
            "action": self.action.label,
        }
        if self.tool:
            record.update(tool=self.tool, arguments_hash=self.arguments_hash)
        return record


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` of segment ``segment`` by ``replacement``."""

    segment: int
    start: int
    end: int
    replacement: str


@dataclass(slots=True)
class Verdict:
    """What one check decided for one stage of one call (the engine fills ``latency``)."""

    check: str
    action: Action
    findings: tuple[Finding, ...] = ()
    edits: tuple[Edit, ...] = ()
    #: A short, value-free explanation shown to the caller when this verdict blocks.
    reason: str = ""
    #: Feedback text appended to the conversation when the verdict asks for a reask.
    feedback: str = ""
    latency: float = 0.0
    #: True when the check itself failed and ``on_error`` decided the action.
    errored: bool = False
    shadow: bool = False
    #: HTTP status a refusal by this verdict answers with (default 400 ``content_blocked``);
    #: a budget refusal is a 429 with ``retry_after`` seconds.
    status: int | None = None
    #: Error code of that refusal, in the API's error envelope (default ``content_blocked``).
    code: str | None = None
    retry_after: float | None = None
    #: Typed changes to the forwarded request (see :mod:`guard.patches`), applied by the
    #: wire format when the verdict is enforced and the call goes ahead.
    patches: tuple[Any, ...] = ()

    @property
    def effective(self) -> Action:
        """The action that changes traffic: shadow verdicts only ever record."""
        return Action.ALLOW if self.shadow else self.action


ALLOW = Verdict(check="", action=Action.ALLOW)


@dataclass(slots=True)
class Caller:
    """Who is calling: used to pick policies and to scope state. Never logged raw."""

    key_id: str | None = None
    tenant: str | None = None
    session: str | None = None
    route: str | None = None


@dataclass(slots=True)
class Passage:
    """A retrieved passage that the reply must stay grounded in."""

    id: str
    text: str


@dataclass(slots=True)
class ToolCall:
    """A tool call emitted by the model."""

    id: str
    name: str
    #: Arguments as the JSON text the model produced (may be invalid JSON); after an
    #: edit, the edited document re-serialised.
    arguments: str
    #: Where the arguments live in the raw reply body (JSON text, or an object).
    path: JsonPath | None = None
    #: The checked text of the arguments (one segment per string leaf), as the format
    #: parsed it; ``None``: check ``arguments`` as one piece of text.
    segments: list[Segment] | None = None


@dataclass(slots=True)
class Usage:
    """Token counts as the provider reported them."""

    input_tokens: int = 0
    output_tokens: int = 0
    #: Of ``input_tokens``: read from the provider's prompt cache (cheaper), and written
    #: to it (Anthropic ``cache_creation_input_tokens``: dearer). Budgets price them apart.
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    #: Of ``input_tokens`` / ``output_tokens``: audio (OpenAI ``*_tokens_details``
    #: ``audio_tokens``), priced apart from text.
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0


@dataclass(slots=True)
class Call:
    """The normalised request.

    ``raw`` is the parsed JSON body (``None`` for plain-text calls); ``body`` the exact
    bytes received, forwarded unchanged when no check edits the call.
    """

    format: str
    model: str | None = None
    segments: list[Segment] = field(default_factory=list)
    stream: bool = False
    #: The reply's token bound the request sets; ``None`` when it sets none (absent, or
    #: zero or less, which an upstream may read as "no limit").
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    context: list[Passage] = field(default_factory=list)
    caller: Caller = field(default_factory=Caller)
    raw: Any = None
    body: bytes = b""
    #: The ``guardwire`` request extension, removed from ``raw`` before forwarding.
    extension: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""

    def text(self) -> str:
        """All checked text joined by newlines (for logs of sizes and for simple checks)."""
        return "\n".join(s.text for s in self.segments)


@dataclass(slots=True)
class Choice:
    """One alternative of a reply."""

    index: int
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    #: Where ``text`` lives in the raw body (``None`` when the choice has no text).
    path: JsonPath | None = None
    #: The choice's other checked text, each with its write-back path: refusals,
    #: reasoning, audio transcripts, citations, legacy ``function_call`` arguments...
    extra: list[Segment] = field(default_factory=list)


@dataclass(slots=True)
class Reply:
    """The normalised response."""

    format: str
    choices: list[Choice] = field(default_factory=list)
    usage: Usage | None = None
    model: str | None = None
    raw: Any = None
    body: bytes = b""

    @property
    def text(self) -> str:
        """Text of the first choice, all of its parts (a format may split one choice into
        several ``Choice`` entries of the same index, one per text block)."""
        if not self.choices:
            return ""
        first = self.choices[0].index
        return "".join(c.text for c in self.choices if c.index == first)

    def segments(self) -> list[Segment]:
        """The reply's checkable text: per choice, its text, its tool calls' segments
        and its extra segments (the order :func:`guard.formats.base.write_reply` reads)."""
        out: list[Segment] = []
        for choice in self.choices:
            out.append(Segment(choice.text, choice.path, "assistant", "message", choice.index))
            for call in choice.tool_calls:
                if call.segments is None:
                    kind = "tool_arguments"
                    out.append(Segment(call.arguments, call.path, "assistant", kind, choice.index))
                else:
                    out.extend(call.segments)
            out.extend(choice.extra)
        return out
