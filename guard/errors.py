"""One typed hierarchy of errors, rooted in :class:`GuardError`.

Messages are one readable sentence that says what went wrong and what to do. They never
contain user text, keys or secrets: only names of checks, rules, files and fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guard.decision import Decision


class GuardError(Exception):
    """Root of every error guardwire raises."""


class PolicyError(GuardError):
    """A policy file (or inline policy) is invalid; nothing of it was loaded."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.detail = message
        where = file or "<policy>"
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"invalid policy ({where}): {message}")


class ConfigError(GuardError):
    """The server configuration (file or environment) is invalid."""


class GuardBlocked(GuardError):
    """A check blocked the call. ``decision`` holds the verdicts and findings."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.message())


class BudgetExceeded(GuardBlocked):
    """A budget cannot afford the call: ``budget`` (its name), ``scope`` (``tenant``,
    ``key``...) and ``resets_at`` (epoch seconds when its window resets; ``None`` for a
    budget without a window)."""

    def __init__(
        self, budget: str, scope: str, resets_at: float | None, decision: Decision
    ) -> None:
        self.budget = budget
        self.scope = scope
        self.resets_at = resets_at
        super().__init__(decision)


class GuardUnavailable(GuardError):
    """A check could not decide because a service it needs failed (its state store is
    down or locked) and the policy fails closed (``on_error: block``): retry shortly.

    Not a :class:`GuardBlocked`: nothing was wrong with the call, so a handler that shows
    a policy message for blocks does not catch it. ``status`` (503), ``code``
    (``store_unavailable``) and ``retry_after`` (seconds) are those of the API error the
    proxy answers; ``decision`` holds the verdicts.
    """

    def __init__(
        self, decision: Decision, *, status: int, code: str, retry_after: float | None
    ) -> None:
        self.decision = decision
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(decision.message())


def blocked_error(decision: Decision) -> GuardBlocked | GuardUnavailable:
    """The exception for a refused call: :class:`GuardUnavailable` when the refusal is a
    service's failure (a 5xx status), :class:`BudgetExceeded` when a budget refused,
    else :class:`GuardBlocked`."""
    for verdict in decision.verdicts:
        status = verdict.status
        if status is not None and status >= 500 and verdict.effective is decision.action:
            code = verdict.code or "unavailable"
            return GuardUnavailable(
                decision, status=status, code=code, retry_after=verdict.retry_after
            )
    for verdict in decision.verdicts:
        budget = getattr(verdict, "budget", None)
        if budget and verdict.effective is decision.action:
            scope: str = getattr(verdict, "scope", "")
            return BudgetExceeded(budget, scope, getattr(verdict, "resets_at", None), decision)
    return GuardBlocked(decision)


class RequestError(GuardError):
    """The client's request cannot be parsed or is not acceptable."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request") -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class UpstreamError(GuardError):
    """The upstream model API could not be reached or failed."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        code: str = "upstream_error",
        request_sent: bool = True,
    ) -> None:
        self.status = status
        self.code = code
        #: False when no byte of the request reached the upstream (no connection was
        #: made): the provider cannot have charged the call.
        self.request_sent = request_sent
        super().__init__(message)


class UpstreamTimeout(UpstreamError):
    """The upstream model API did not answer in time."""

    def __init__(
        self, message: str = "the upstream model API timed out", *, request_sent: bool = True
    ) -> None:
        super().__init__(message, status=504, code="upstream_timeout", request_sent=request_sent)


class UpstreamProtocolError(UpstreamError):
    """The upstream broke HTTP/1.1: a malformed, truncated or unrequested response."""


class UpstreamTooLarge(UpstreamError):
    """The upstream's response (or one stream event) is over the configured size limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=502, code="upstream_too_large")


class UpstreamBusy(UpstreamError):
    """No connection to the upstream became free within ``timeouts.pool``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503, code="upstream_busy")


class UnsafeUpstreamRequest(UpstreamError):
    """A request line or header would change the request's framing; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=502, code="upstream_request_refused")


class MissingDependency(GuardError):
    """An optional part was used without its extra installed."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'guardwire[{extra}]'")
