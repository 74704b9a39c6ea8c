"""guardwire: guardrails and validation for model calls.

Use it in-process (``guard.transport()``, ``guard.wrap``), as a sidecar proxy
(``guardwire serve``), and watch it with Prometheus (``/metrics``).
"""

from guard._version import __version__
from guard.engine import Decision, Guard, Outcome
from guard.errors import (
    BudgetExceeded,
    ConfigError,
    GuardBlocked,
    GuardError,
    MissingDependency,
    PolicyError,
    ReaskExhausted,
    RequestError,
    UpstreamError,
    UpstreamTimeout,
)
from guard.policy import Policy
from guard.types import Action, Call, Finding, Reply, Verdict

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
    "MissingDependency",
    "Outcome",
    "Policy",
    "PolicyError",
    "ReaskExhausted",
    "Reply",
    "RequestError",
    "UpstreamError",
    "UpstreamTimeout",
    "Verdict",
    "__version__",
]
