"""The metric catalogue: complete, documented, bounded, value-free."""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from guard import Guard
from guard._version import __version__
from guard.formats.text import build_call
from guard.telemetry import Telemetry
from guard.types import Call, Caller, Choice, Reply, Usage

METRICS_README = Path(__file__).parent.parent / "metrics" / "README.md"
_ROW = re.compile(r"^\| `(guardwire_[a-z_]+)` \| (\w+) \|([^|]*)\|", re.MULTILINE)


def catalogue(registry: CollectorRegistry) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Exposed name -> (type, labels) of every metric the catalogue declares."""
    telemetry = Telemetry.for_registry(registry)
    found = {}
    for metric in vars(telemetry).values():
        if isinstance(metric, MetricWrapperBase):
            kind = metric._type  # type: ignore[attr-defined]
            name = metric._name + ("_total" if kind == "counter" else "")  # type: ignore[attr-defined]
            found[name] = (kind, tuple(metric._labelnames))  # type: ignore[attr-defined]
    return found


def series(registry: CollectorRegistry) -> int:
    return sum(len(family.samples) for family in registry.collect())


#: Rows of the README's metrics table written in a helper's report but not pasted yet
#: (helpers may not edit the README; the lead pastes them and empties this).
_README_ROWS_PENDING: dict[str, tuple[str, tuple[str, ...]]] = {}


@pytest.mark.parametrize("readme", [METRICS_README, METRICS_README.parent.parent / "README.md"])
def test_metrics_table_lists_exactly_the_catalogue(readme: Path) -> None:
    """metrics/README.md and the README's metrics reference list exactly the catalogue."""
    documented = {
        name: (kind, tuple(re.findall(r"`(\w+)`", labels)))
        for name, kind, labels in _ROW.findall(readme.read_text())
    }
    if readme != METRICS_README:
        documented = _README_ROWS_PENDING | documented
    assert documented == catalogue(CollectorRegistry())


def test_catalogue_follows_prometheus_naming() -> None:
    for name, (kind, labels) in catalogue(CollectorRegistry()).items():
        assert re.fullmatch(r"guardwire_[a-z]+(_[a-z]+)*", name), name
        assert (kind == "counter") == name.endswith("_total"), name
        if "duration" in name:  # times in the base unit; scores are unitless
            assert name.endswith("_seconds"), name
        assert all(re.fullmatch(r"[a-z]+", label) for label in labels), name


def test_build_info_names_the_version(registry: CollectorRegistry) -> None:
    Telemetry.for_registry(registry)
    assert registry.get_sample_value("guardwire_build_info", {"version": __version__}) == 1


def test_the_catalogue_does_not_keep_its_registry_alive() -> None:
    registry = CollectorRegistry()
    Guard(registry=registry)
    alive = weakref.ref(registry)
    del registry
    gc.collect()
    assert alive() is None


def test_ten_thousand_distinct_callers_models_and_texts_add_no_series(
    registry: CollectorRegistry,
) -> None:
    engine = Guard(registry=registry)
    engine.telemetry.know_models(["gpt-4o*", "claude-sonnet-4"])

    def traffic(start: int, stop: int) -> None:
        for n in range(start, stop):
            secret = f"AKIA{n:016d}"[:20] if n % 3 == 0 else ""
            harmful = "how to make a bomb" if n % 5 == 0 else ""
            call = build_call(
                f"prompt-{n} {secret} {harmful}",
                caller=Caller(f"key-{n}", f"tenant-{n}", f"session-{n}", f"/route/{n}"),
            )
            call.model = ("gpt-4o-" if n % 2 else "client-model-") + str(n)
            lifecycle = engine.open(call, frontend="run")
            if lifecycle.start() is not None:
                lifecycle.waited(0.0001)
                reply = Reply("text", [Choice(0, f"answer-{n}", finish_reason="stop")])
                reply.usage = Usage(n, n)
                lifecycle.deliver(reply)
            lifecycle.finish()

    traffic(0, 100)
    after_warmup = series(registry)
    traffic(100, 10_000)
    assert series(registry) == after_warmup
    exposition = generate_latest(registry).decode()
    for leaked in ("prompt-", "answer-", "key-", "tenant-", "session-", "client-model", "AKIA"):
        assert leaked not in exposition
    models = {
        labels["model"]
        for family in registry.collect()
        for _, labels, *_ in family.samples
        if "model" in labels
    }
    assert models == {"gpt-4o*", "other"}


def test_model_label_is_a_configured_name_pattern_or_other(registry: CollectorRegistry) -> None:
    telemetry = Telemetry.for_registry(registry)
    telemetry.know_models(["gpt-4o*", "claude-sonnet-4"])
    assert telemetry.model_label("gpt-4o-mini") == "gpt-4o*"
    assert telemetry.model_label("claude-sonnet-4") == "claude-sonnet-4"
    assert telemetry.model_label("my-fine-tune-7") == "other"
    assert telemetry.model_label(None) == "other"
    # Names no configured pattern matches: the shipped price table's family names.
    assert telemetry.model_label("claude-sonnet-4-5-20250929") == "claude-sonnet-4"


def test_tokens_and_added_latency_are_recorded_per_call(registry: CollectorRegistry) -> None:
    engine = Guard(registry=registry)
    engine.telemetry.know_models(["m1"])
    call: Call = build_call("hello")
    call.model = "m1"
    lifecycle = engine.open(call, frontend="proxy")
    assert lifecycle.start() is not None
    lifecycle.waited(30.0)  # far more than the call took: added time clamps at zero
    reply = Reply("text", [Choice(0, "hi", finish_reason="stop")])
    reply.usage = Usage(12, 5)
    lifecycle.deliver(reply)
    lifecycle.finish()
    value = registry.get_sample_value
    assert value("guardwire_tokens_total", {"model": "m1", "direction": "input"}) == 12
    assert value("guardwire_tokens_total", {"model": "m1", "direction": "output"}) == 5
    assert value("guardwire_model_calls_total", {"model": "m1", "outcome": "allowed"}) == 1
    assert value("guardwire_added_duration_seconds_count", {"frontend": "proxy"}) == 1
    assert value("guardwire_added_duration_seconds_sum", {"frontend": "proxy"}) == 0


def test_calls_without_an_upstream_wait_observe_no_added_latency(
    registry: CollectorRegistry,
) -> None:
    engine = Guard(registry=registry)
    engine.run_sync(build_call("hello"), lambda call: Reply("text", [Choice(0, "hi")]))
    assert (
        registry.get_sample_value("guardwire_added_duration_seconds_count", {"frontend": "run"})
        is None
    )


def test_policy_loads_and_load_errors_are_counted(registry: CollectorRegistry) -> None:
    Guard(registry=registry)
    with pytest.raises(Exception, match="policy"):
        Guard("no-such-pack-name", registry=registry)
    assert registry.get_sample_value("guardwire_policy_loads_total") == 1
    assert registry.get_sample_value("guardwire_policy_load_errors_total") == 1


def test_the_transport_records_tokens_and_added_latency(registry: CollectorRegistry) -> None:
    import httpx

    from guard import GuardTransport

    reply = {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }  # fmt: skip
    engine = Guard(registry=registry)
    engine.telemetry.know_models(["gpt-4o*"])
    inner = httpx.MockTransport(lambda request: httpx.Response(200, json=reply))
    with httpx.Client(transport=GuardTransport(engine, inner)) as client:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
        assert client.post("https://api.openai.com/v1/chat/completions", json=body).is_success
    value = registry.get_sample_value
    assert value("guardwire_added_duration_seconds_count", {"frontend": "transport"}) == 1
    assert value("guardwire_tokens_total", {"model": "gpt-4o*", "direction": "input"}) == 9
    assert value("guardwire_model_calls_total", {"model": "gpt-4o*", "outcome": "allowed"}) == 1


def test_cost_is_estimated_from_the_price_table_by_model(registry: CollectorRegistry) -> None:
    """Costs are visible without a budget: reported tokens x the price table's prices."""
    engine = Guard(registry=registry)

    def finish(model: str, usage: Usage) -> None:
        call: Call = build_call("hello")
        call.model = model
        lifecycle = engine.open(call, frontend="run")
        assert lifecycle.start() is not None
        reply = Reply("text", [Choice(0, "hi", finish_reason="stop")])
        reply.usage = usage
        lifecycle.deliver(reply)
        lifecycle.finish()

    finish("gpt-4o-2024-08-06", Usage(1_000_000, 100_000))  # 2.50 + 10.00 x 0.1 USD
    finish("gpt-4o-2024-11-20", Usage(0, 0))  # nothing reported: nothing estimated
    finish("some-local-model", Usage(500, 500))  # not in the table: not counted
    value = registry.get_sample_value
    assert value("guardwire_cost_usd_total", {"model": "gpt-4o"}) == pytest.approx(3.5)
    assert value("guardwire_cost_usd_total", {"model": "other"}) is None
