"""The metrics of the stateful checks: budgets and their state store, the agent check,
grounding (part of the catalogue in :mod:`guard.telemetry`, which declares them through
this base class)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Buckets for grounding answer scores in [0, 1].
_SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class CheckMetrics:
    """Declares the check families' metrics on the catalogue (one call per family)."""

    def _budget_metrics(self, registry: CollectorRegistry) -> None:
        # Labels: budget names from the policy, model names from the price table (else
        # ``other``), units (usd, tokens, requests), directions (input, output).
        self.budget_spend_usd = Counter(
            "guardwire_budget_spend_usd",
            "Settled spend in USD, by budget and model (price-table names, else other).",
            ["budget", "model"],
            registry=registry,
        )
        self.budget_tokens = Counter(
            "guardwire_budget_tokens",
            "Settled tokens by budget, model and direction (input, output).",
            ["budget", "model", "direction"],
            registry=registry,
        )
        self.budget_remaining = Gauge(
            "guardwire_budget_remaining",
            "What is left of a budget (USD, tokens or requests) for the scope of its latest call.",
            ["budget", "unit"],
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.budget_limit = Gauge(
            "guardwire_budget_limit",
            "The limit of a budget (USD, tokens or requests), beside guardwire_budget_remaining.",
            ["budget", "unit"],
            multiprocess_mode="max",
            registry=registry,
        )
        self.budget_refusals = Counter(
            "guardwire_budget_refusals",
            "Calls refused (429) because a budget could not afford even a minimal reply.",
            ["budget"],
            registry=registry,
        )
        self.budget_clamps = Counter(
            "guardwire_budget_clamps",
            "Calls whose max_tokens a budget clamped (absent or more than it allowed).",
            ["budget"],
            registry=registry,
        )
        self.budget_cutoffs = Counter(
            "guardwire_budget_cutoffs",
            "Streams a budget cut because they passed their reservation.",
            ["budget"],
            registry=registry,
        )
        self.budget_estimated = Counter(
            "guardwire_budget_estimated_settlements",
            "Calls settled with an estimate because the provider reported no usage.",
            ["budget"],
            registry=registry,
        )
        # Label: queued, written or abandoned (closed set, guard.checks._budget_retries).
        self.budget_settle_retries = Counter(
            "guardwire_budget_settle_retries",
            "Budget settlements the store failed to take: queued, then written by a retry"
            " or abandoned (hold expired, queue full, shutdown).",
            ["result"],
            registry=registry,
        )
        self.store_errors = Counter(
            "guardwire_store_errors",
            "State store operations that failed (on_error decided the call).",
            ["store"],
            registry=registry,
        )

    def _agent_metrics(self, registry: CollectorRegistry) -> None:
        # Labels: check names from the policy; finding kinds, approval events and limit
        # kinds from the agent check's closed sets.
        self.agent_findings = Counter(
            "guardwire_agent_findings",
            "Findings of the agent check by kind (agent.tool_denied, agent.loop, ...) and "
            "the action they led to.",
            ["check", "kind", "action"],
            registry=registry,
        )
        self.agent_approvals = Counter(
            "guardwire_agent_approvals",
            "Tool-call approvals by event: requested (a call refused with an approval id), "
            "approved, denied.",
            ["check", "event"],
            registry=registry,
        )
        self.agent_sessions_stopped = Counter(
            "guardwire_agent_sessions_stopped",
            "Agent sessions refused for the first time by a session limit (step, tool-call "
            "or time cap), by the kind of limit.",
            ["check", "kind"],
            registry=registry,
        )

    def _grounding_metrics(self, registry: CollectorRegistry) -> None:
        # Labels: check names from the policy; reasons from the grounding scorer's closed
        # set (number_mismatch, name_missing, negation, antonym, ..., low_support).
        self.grounding_score = Histogram(
            "guardwire_grounding_answer_score",
            "Answer-level support scores of the grounding check (1 = fully supported).",
            ["check"],
            buckets=_SCORE_BUCKETS,
            registry=registry,
        )
        self.grounding_unsupported = Counter(
            "guardwire_grounding_unsupported_claims",
            "Claims the grounding check found unsupported, by the reason that lowered them.",
            ["check", "reason"],
            registry=registry,
        )
