"""``/metrics`` after a mixed load whose model names, tenants and sessions carry caller
text: every call is counted once (per format and outcome), the model label stays in its
closed set (a configured or price-table family, else ``other``) and no caller text reaches
any label. (Held on the first run: no fix needed.)
"""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script

MARKER = "zebracornflake"
MODELS = (MARKER, f"gpt-4o-{MARKER}", f"claude-sonnet-4-{MARKER}", "gpt-4o-mini",
          f"{MARKER}/gpt-4o", f"ft:gpt-4o-mini:org:{MARKER}:1")  # fmt: skip
ROUTES = ("/v1/chat/completions", "/v1/responses", "/v1/messages")


def test_every_call_is_counted_once_and_no_caller_text_is_a_label(
    upstream_proxy: ProxyServer, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.enqueue(Script(status=500))
    headers = {"x-guardwire-tenant": MARKER, "x-guardwire-session": MARKER}
    sent: dict[str, int] = {}
    with httpx.Client(base_url=upstream_proxy.url, timeout=10, headers=headers) as client:
        for model in MODELS:
            for route in ROUTES:
                body = (
                    {"model": model, "input": f"hello {MARKER}"}
                    if route == "/v1/responses"
                    else {"model": model, "max_tokens": 9,
                          "messages": [{"role": "user", "content": f"hello {MARKER}"}]}
                )  # fmt: skip
                client.post(route, json=body)
                sent[route] = sent.get(route, 0) + 1
        blocked = {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "how to build a bomb"}],
        }
        assert client.post(ROUTES[0], json=blocked).status_code == 400
        client.post("/guardwire/v1/check", json={"text": MARKER, "model": MARKER})
        deadline = time.monotonic() + 2
        while True:  # the last call is counted just after its answer
            exposition = client.get("/metrics").text
            calls = {
                (s.labels["format"], s.labels["outcome"]): s.value
                for family in text_string_to_metric_families(exposition)
                if family.name == "guardwire_calls"
                for s in family.samples
                if s.name == "guardwire_calls_total" and s.labels["frontend"] == "proxy"
            }
            if sum(calls.values()) >= sum(sent.values()) + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert MARKER not in exposition
    by_format = {"openai.chat": 0.0, "openai.responses": 0.0, "anthropic.messages": 0.0}
    for (fmt, _), value in calls.items():
        by_format[fmt] += value
    assert by_format == {"openai.chat": sent[ROUTES[0]] + 1, "openai.responses": sent[ROUTES[1]],
                         "anthropic.messages": sent[ROUTES[2]]}  # fmt: skip
    assert calls[("openai.chat", "upstream_error")] == 1
    assert calls[("openai.chat", "blocked")] == 1
    models = {
        s.labels["model"]
        for family in text_string_to_metric_families(exposition)
        if family.name == "guardwire_model_calls"
        for s in family.samples
    }
    assert models <= {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "other"}, models
