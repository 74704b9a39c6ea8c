"""What the lifecycle hands the audit log at the end of a call: :class:`CallRecord`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.telemetry import OUTCOMES

if TYPE_CHECKING:
    from guard.decision import Decision
    from guard.types import Usage

#: Which frontend served the call (``run``: ``Guard.run``, the engine driving the calls).
FRONTENDS = ("proxy", "transport", "wrap", "check", "run")

#: The call outcomes of the metrics (:data:`guard.telemetry.OUTCOMES`), plus
#: ``rejected`` for requests refused before any check ran (401, 400, 413, 415...),
#: which the metrics do not count as calls yet.
AUDIT_OUTCOMES = tuple(dict.fromkeys((*OUTCOMES, "rejected")))


@dataclass(frozen=True, slots=True)
class CallRecord:
    """Everything the audit log says about one call, written once at its finish step.

    Fields hold ids, names, counts and decisions — and two client-chosen strings,
    ``session`` and ``model``, which the pipeline never writes as given: the session
    is hashed, the model is named only when it is in the configured set of known
    models (``other`` plus a hash otherwise). A request rejected before the checks ran
    is recorded with ``outcome="rejected"``, its status and no decisions.
    """

    request_id: str
    frontend: str
    outcome: str
    #: Wire format (``openai.chat``, ``anthropic.messages``...); ``None`` when unknown.
    format: str | None = None
    #: HTTP status returned to the client (proxy) or seen from the upstream.
    status: int | None = None
    policy: str | None = None
    policy_hash: str | None = None
    #: Tenant name from the authenticated principal (configuration, not the client).
    tenant: str | None = None
    #: Digest prefix of the client key (never the key).
    key_id: str | None = None
    #: The session the client named; written hashed only.
    session: str | None = None
    #: The model the client asked for; written by name only when known.
    model: str | None = None
    #: Name of the configured upstream the call went to.
    upstream: str | None = None
    #: Upstream requests made (reasks add one each); 0 when none was sent.
    attempts: int = 0
    input: Decision | None = None
    output: Decision | None = None
    usage: Usage | None = None
    #: Seconds from receiving the request to the finish step.
    latency: float = 0.0
    #: Conversation state kept upstream that guardwire never saw (``previous_response_id``,
    #: ``conversation``...): the names of those request fields, never their values.
    unguarded_history: tuple[str, ...] = ()
    time: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.frontend not in FRONTENDS:
            raise ValueError(f"frontend must be one of {', '.join(FRONTENDS)}")
        if self.outcome not in AUDIT_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(AUDIT_OUTCOMES)}")
