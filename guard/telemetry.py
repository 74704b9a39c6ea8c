"""The metric catalogue: every Prometheus metric guardwire exports is declared here.

The families of the stateful checks (budgets, the state store, the agent check,
grounding) are declared in :mod:`guard._telemetry_checks`. Label values come only from
closed sets — check names and actions from the policy,
stages, frontends, wire formats, outcome names, upstream names from the config — never
user text, keys or ids. Nothing else in the package creates a metric.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from guard import _buffered_values
from guard._model_labels import ModelLabels
from guard._telemetry_checks import CheckMetrics
from guard._version import __version__

if TYPE_CHECKING:
    from guard.types import Usage

# In the workers of ``serve --workers N`` (multiprocess mode), before any metric exists.
_buffered_values.install()

# Buckets for time added by checks: microseconds to tens of milliseconds.
_CHECK_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.5,
)
# Time guardwire adds to a call (its whole time minus the upstream's): the SLO range.
_ADDED_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

#: Values of the ``outcome`` label of ``guardwire_calls_total`` (a closed set): what the
#: guard decided, or how the call ended without a decision (``error``: guardwire itself
#: failed; ``unavailable``: a check's state store could not be reached, answered 503;
#: ``shutdown``: the proxy stopped with the call running, past its ``shutdown_timeout``).
#: Every frontend counts a call once, when it finishes — streams included.
OUTCOMES = (
    "allowed", "warned", "redacted", "reasked", "blocked", "upstream_error", "disconnected",
    "error", "unavailable", "shutdown",
)  # fmt: skip


#: Attribute under which a registry carries its catalogue (the catalogue lives and dies
#: with its registry instead of a class-level dict that would keep every registry alive).
_ATTRIBUTE = "_guardwire_telemetry"


class Telemetry(CheckMetrics):
    """The metric catalogue bound to one registry (one instance per registry)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.calls = Counter(
            "guardwire_calls",
            "Model calls handled, by frontend, wire format and outcome.",
            ["frontend", "format", "outcome"],
            registry=registry,
        )
        self.verdicts = Counter(
            "guardwire_verdicts",
            "Check verdicts by check, stage and action (shadow verdicts are labelled shadow=true).",
            ["check", "stage", "action", "shadow"],
            registry=registry,
        )
        self.check_seconds = Histogram(
            "guardwire_check_duration_seconds",
            "Time spent in one check for one stage of one call.",
            ["check", "stage"],
            buckets=_CHECK_BUCKETS,
            registry=registry,
        )
        self.check_errors = Counter(
            "guardwire_check_errors",
            "Checks that raised instead of deciding; on_error decided the verdict.",
            ["check", "stage"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "guardwire_upstream_duration_seconds",
            "Time until the upstream answered (headers for streams), by upstream and status class.",
            ["upstream", "status"],
            buckets=_UPSTREAM_BUCKETS,
            registry=registry,
        )
        self.reasks = Counter(
            "guardwire_reasks",
            "Calls repeated because an output check asked for a reask.",
            ["format"],
            registry=registry,
        )
        self.schema_failures = Counter(
            "guardwire_schema_failures",
            "Replies and tool calls failing a schema check, by check and finding kind "
            "(schema.required, schema.json, schema.truncated...).",
            ["check", "kind"],
            registry=registry,
        )
        self.stream_cutoffs = Counter(
            "guardwire_stream_cutoffs",
            "Streams ended early by a check (error event sent to the client).",
            ["check"],
            registry=registry,
        )
        self._budget_metrics(registry)
        self._agent_metrics(registry)
        self.pii_entities = Counter(
            "guardwire_pii_entities",
            "Personal data found by a pii check, by entity (Presidio's entity names of the "
            "configured pipeline, 'other' for custom ones) and the action it configured.",
            ["check", "stage", "entity", "action"],
            registry=registry,
        )
        self._grounding_metrics(registry)
        self.injection_findings = Counter(
            "guardwire_injection_findings",
            "Prompt-injection findings by family (override, role_hijack, prompt_leak, "
            "hidden_instruction, encoded, delimiter) and action (allow: scored below the "
            "threshold).",
            ["check", "stage", "family", "action"],
            registry=registry,
        )
        self.policy_info = Gauge(
            "guardwire_policy_info",
            "The active policies: 1 for each policy name and content hash in use, 0 for a "
            "version a reload replaced.",
            ["policy", "hash"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.model_calls = Counter(
            "guardwire_model_calls",
            "Model calls by requested model (configured names and patterns, else 'other') "
            "and outcome.",
            ["model", "outcome"],
            registry=registry,
        )
        self.tokens = Counter(
            "guardwire_tokens",
            "Tokens the upstream reported, by model and direction (input, output).",
            ["model", "direction"],
            registry=registry,
        )
        self.cost = Counter(
            "guardwire_cost_usd",
            "Estimated cost of finished calls in USD, by model, from the provider's reported "
            "tokens and the price table, priced as budgets settle (cached input and cache "
            "writes at their own prices). Calls on models the table does not name are not "
            "counted here.",
            ["model"],
            registry=registry,
        )
        self.added_seconds = Histogram(
            "guardwire_added_duration_seconds",
            "Time guardwire added to a complete (non-streamed) call: its whole time minus "
            "the time spent waiting for the upstream.",
            ["frontend"],
            buckets=_ADDED_BUCKETS,
            registry=registry,
        )
        self.policy_loads = Counter(
            "guardwire_policy_loads",
            "Policies loaded and compiled into an engine.",
            registry=registry,
        )
        self.policy_load_errors = Counter(
            "guardwire_policy_load_errors",
            "Policies that failed to load (invalid YAML, unknown check, bad setting).",
            registry=registry,
        )
        self.policy_reloads = Counter(
            "guardwire_policy_reloads",
            "Hot reloads of the proxy's policies (SIGHUP or a changed file), by result: ok, "
            "or error (the running policies stayed).",
            ["result"],
            registry=registry,
        )
        self.build_info = Gauge(
            "guardwire_build_info",
            "Always 1; the running guardwire version is the label.",
            ["version"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.build_info.labels(__version__).set(1)
        #: The bounded ``model`` label of client model names.
        self.model_label = ModelLabels()
        #: Price lookup for the cost estimate (the shipped table until one is configured).
        self._price: Callable[[str | None], Any] | None = None
        # labels() costs microseconds; each label combination is resolved once (closed sets).
        self._children: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def for_registry(cls, registry: CollectorRegistry | None = None) -> Telemetry:
        """The catalogue for ``registry`` (default: the global registry), created once."""
        registry = registry if registry is not None else REGISTRY
        with cls._lock:
            instance: Telemetry | None = getattr(registry, _ATTRIBUTE, None)
            if instance is None:
                instance = cls(registry)
                setattr(registry, _ATTRIBUTE, instance)
            return instance

    # -- the model label -------------------------------------------------------------------

    def know_models(self, names: Iterable[str]) -> None:
        """Add model names or shell-style patterns (``gpt-4o*``) that may appear as the
        ``model`` label: configured upstream models. A pattern labels every model it
        matches with the pattern itself, so the set stays closed."""
        self.model_label.know(names)

    def label_models_by(self, price_label: Callable[[str], str]) -> None:
        """Label models no configured name matches by a price table's family names."""
        self.model_label.label_by(price_label)

    def price_models_by(self, lookup: Callable[[str | None], Any]) -> None:
        """Estimate cost with this price lookup (a price table's ``lookup``)."""
        self._price = lookup

    def _price_of(self, model: str | None) -> Any:
        if self._price is None:
            from guard.checks._prices import PriceTable

            self._price = PriceTable.shipped().lookup
        return self._price(model)

    # -- per call ----------------------------------------------------------------------------

    def finish_call(
        self,
        frontend: str,
        model: str | None,
        outcome: str,
        usage: Usage | None,
        added: float | None,
    ) -> None:
        """Record the per-model counts of one finished call: the call, its reported
        tokens and their cost (priced as budgets settle: cached input and cache writes at
        their own prices) and, for complete calls that waited on an upstream, the time
        guardwire added."""
        label = self.model_label(model)
        children = self._children
        key: tuple[Any, ...] = ("call", label, outcome)
        child = children.get(key)
        if child is None:
            child = children[key] = self.model_calls.labels(label, outcome)
        child.inc()
        if usage is not None:
            tokens = (usage.input_tokens, usage.output_tokens)
            key = ("tokens", label)
            pair = children.get(key)
            if pair is None:
                pair = children[key] = (
                    self.tokens.labels(label, "input"),
                    self.tokens.labels(label, "output"),
                )
            if tokens[0]:
                pair[0].inc(tokens[0])
            if tokens[1]:
                pair[1].inc(tokens[1])
            price = self._price_of(model)
            if price is not None and (tokens[0] or tokens[1]):
                # The same closed label as the tokens (a configured name or pattern, else
                # the price table's name).
                key = ("cost", label)
                cost = children.get(key)
                if cost is None:
                    cost = children[key] = self.cost.labels(label)
                cost.inc(price.cost(usage) / 1e9)  # (prices are nano-dollars per token)
        if added is not None:
            key = ("added", frontend)
            child = children.get(key)
            if child is None:
                child = children[key] = self.added_seconds.labels(frontend)
            child.observe(max(added, 0.0))

    @staticmethod
    def status_class(status: int) -> str:
        """Bound the status label: ``2xx``..``5xx``, or ``error`` for no response."""
        return f"{status // 100}xx" if 100 <= status < 600 else "error"
