"""guardwire: guardrails and validation for model calls.

Use it in-process (``guard.transport()``, ``guard.wrap``), as a sidecar proxy
(``guardwire serve``), and watch it with Prometheus (``/metrics``).
"""

# First, before the heavy imports below: `guardwire serve` holds SIGHUP from here on.
import guard._cli_start  # noqa: F401  (isort: skip)
from guard._transport_deadline import DEFAULT_TOTAL_TIMEOUT
from guard._version import __version__
from guard.decision import Decision, Outcome
from guard.engine import Guard
from guard.errors import (
    BudgetExceeded,
    ConfigError,
    GuardBlocked,
    GuardError,
    GuardUnavailable,
    MissingDependency,
    PolicyError,
    RequestError,
    UpstreamError,
    UpstreamTimeout,
)
from guard.exporter import MetricsServer, serve_metrics
from guard.policy import Policy
from guard.transport import GuardAsyncTransport, GuardTransport, raise_blocked
from guard.types import Action, Call, Finding, Reply, Verdict
from guard.wrap import wrap


def transport(
    policy: Policy | str | None = None,
    *,
    transport: object = None,
    guard: Guard | None = None,
    allow_unchecked: bool = False,
    total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    **options: object,
) -> GuardTransport:
    """A guarded sync ``httpx`` transport.

    ``OpenAI(http_client=httpx.Client(transport=guard.transport()))``.

    ``policy`` is a Policy, a file path or a shipped pack name (default: built-in);
    ``transport`` the httpx transport to forward to; ``guard`` an existing engine to share;
    ``allow_unchecked`` lets requests to model APIs guardwire does not check (legacy
    completions, embeddings...) through unchecked instead of refusing them with a 404;
    ``total_timeout`` bounds a call from its start to the last byte of its reply (seconds,
    default 600; ``None``: no deadline).
    """
    engine = guard if guard is not None else Guard(policy, **options)  # type: ignore[arg-type]
    return GuardTransport(
        engine, transport, allow_unchecked=allow_unchecked, total_timeout=total_timeout
    )


def async_transport(
    policy: Policy | str | None = None,
    *,
    transport: object = None,
    guard: Guard | None = None,
    allow_unchecked: bool = False,
    total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    **options: object,
) -> GuardAsyncTransport:
    """A guarded async ``httpx`` transport for ``AsyncOpenAI`` / ``AsyncAnthropic``."""
    engine = guard if guard is not None else Guard(policy, **options)  # type: ignore[arg-type]
    return GuardAsyncTransport(
        engine, transport, allow_unchecked=allow_unchecked, total_timeout=total_timeout
    )


__all__ = [
    "Action",
    "BudgetExceeded",
    "Call",
    "ConfigError",
    "Decision",
    "Finding",
    "Guard",
    "GuardBlocked",
    "GuardError",
    "GuardUnavailable",
    "MetricsServer",
    "MissingDependency",
    "Outcome",
    "Policy",
    "PolicyError",
    "Reply",
    "RequestError",
    "UpstreamError",
    "UpstreamTimeout",
    "Verdict",
    "__version__",
    "async_transport",
    "raise_blocked",
    "serve_metrics",
    "transport",
    "wrap",
]
