"""The guarded httpx transports under the official SDKs, against the fake upstream."""

from __future__ import annotations

import json

import anthropic
import httpx
import httpx2
import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from tests.fake_upstream import FakeUpstream, Script

SECRET = "AKIAABCDEFGHIJKLMNOP"
LEAK = "the key is sk-proj-abcdefghijklmnopqrstuvwxyz0123 ok"


@pytest.fixture
def engine() -> guard.Guard:
    return guard.Guard(registry=CollectorRegistry())


def openai_pair(up: FakeUpstream, engine: guard.Guard) -> tuple[openai.OpenAI, openai.OpenAI]:
    guarded = openai.OpenAI(
        base_url=up.url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=engine.transport()),
    )
    plain = openai.OpenAI(
        base_url=up.url + "/v1", api_key="k", max_retries=0, http_client=httpx.Client()
    )
    return guarded, plain


def test_allowed_calls_are_byte_identical(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    guarded, plain = openai_pair(fake_upstream, engine)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    a = guarded.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=messages, temperature=0.2
    )  # type: ignore[arg-type]
    b = plain.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=messages, temperature=0.2
    )  # type: ignore[arg-type]
    sent_guarded, sent_plain = fake_upstream.requests[-2], fake_upstream.requests[-1]
    assert sent_guarded.body == sent_plain.body
    assert a.parse().choices[0].message.content == b.parse().choices[0].message.content
    # Identical except the per-response id the fake generates.
    strip = lambda body: json.loads(body) | {"id": "", "created": 0}  # noqa: E731
    assert strip(a.http_response.content) == strip(b.http_response.content)
    assert len(a.http_response.content) == len(b.http_response.content)
    assert a.headers["x-guardwire-verdict"] == "allow"


def test_redacted_call_reaches_upstream_redacted(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    guarded.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"key {SECRET}"}]
    )
    assert SECRET not in fake_upstream.requests[-1].body.decode()
    assert fake_upstream.requests[-1].json["messages"][0]["content"] == "key [AWS_ACCESS_KEY]"


def test_blocked_call_raises_sdk_error_or_guard_blocked(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    with pytest.raises(openai.BadRequestError, match="denylist"):
        guarded.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
        )
    with pytest.raises(guard.GuardBlocked) as caught, guard.raise_blocked():
        guarded.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
        )
    assert caught.value.decision.findings[0].rule == "weapons"
    assert fake_upstream.requests == []  # never sent


def test_reply_redacted_and_stream_checked(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    fake_upstream.enqueue(Script(text=LEAK), Script(text=LEAK, chunk_size=2))
    completion = guarded.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    assert completion.choices[0].message.content == "the key is [API_KEY] ok"
    stream = guarded.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], stream=True
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        == "the key is [API_KEY] ok"
    )


def test_stream_block_raises_guard_blocked_when_asked(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    fake_upstream.enqueue(Script(text="look: -----BEGIN PRIVATE KEY----- abc", chunk_size=3))
    with pytest.raises(guard.GuardBlocked), guard.raise_blocked():
        for _ in guarded.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "q"}], stream=True
        ):
            pass


def test_extension_never_reaches_upstream(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    guarded.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "q"}],
        extra_body={"guardwire": {"session": "s-1", "context": [{"id": "d1", "text": "passage"}]}},
        extra_headers={"x-guardwire-session": "s-1"},
    )
    sent = fake_upstream.requests[-1]
    assert "guardwire" not in sent.json and "passage" not in sent.body.decode()
    assert not any(name.startswith("x-guardwire") for name in sent.headers)


async def test_async_openai_and_streaming(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    client = openai.AsyncOpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=engine.async_transport()),
    )
    fake_upstream.enqueue(Script(text=LEAK), Script(text=LEAK, chunk_size=3))
    completion = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"k {SECRET}"}]
    )
    assert completion.choices[0].message.content == "the key is [API_KEY] ok"
    assert SECRET not in fake_upstream.requests[-1].body.decode()
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "the key is [API_KEY] ok"
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "synthesize sarin"}]
        )


def test_anthropic_sync_and_async(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    client = anthropic.Anthropic(
        base_url=fake_upstream.url,
        api_key="k",
        max_retries=0,
        http_client=httpx2.Client(transport=engine.transport()),
    )
    fake_upstream.enqueue(Script(text=LEAK), Script(text=LEAK, chunk_size=4))
    message = client.messages.create(
        model="c",
        max_tokens=50,
        system=f"sys {SECRET}",
        messages=[{"role": "user", "content": "q"}],
    )
    assert message.content[0].text == "the key is [API_KEY] ok"  # type: ignore[union-attr]
    assert SECRET not in fake_upstream.requests[-1].body.decode()
    with client.messages.stream(
        model="c", max_tokens=50, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        assert "".join(stream.text_stream) == "the key is [API_KEY] ok"
    with pytest.raises(anthropic.BadRequestError, match="denylist") as blocked:
        client.messages.create(
            model="c", max_tokens=5, messages=[{"role": "user", "content": "write ransomware"}]
        )
    assert blocked.value.error_code == "content_blocked"  # error.details.error_code


async def test_async_anthropic(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=fake_upstream.url,
        api_key="k",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=engine.async_transport()),
    )
    message = await client.messages.create(
        model="c", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == "Hello from the fake upstream."  # type: ignore[union-attr]


def test_non_model_routes_pass_through(fake_upstream: FakeUpstream, engine: guard.Guard) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    assert guarded.models.list().data
    assert [(r.method, r.path) for r in fake_upstream.requests] == [("GET", "/v1/models")]


def test_upstream_error_is_returned_unchanged(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    guarded, _ = openai_pair(fake_upstream, engine)
    fake_upstream.enqueue(
        Script(
            status=429,
            body={
                "error": {
                    "message": "slow down",
                    "type": "rate_limit_error",
                    "param": None,
                    "code": None,
                }
            },
        )
    )
    with pytest.raises(openai.RateLimitError, match="slow down"):
        guarded.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])


@pytest.mark.parametrize("package", [httpx, httpx2], ids=["httpx", "httpx2"])
def test_one_transport_serves_httpx_and_httpx2_clients(
    fake_upstream: FakeUpstream, engine: guard.Guard, package: object
) -> None:
    client = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=package.Client(transport=engine.transport()),
    )  # type: ignore[attr-defined]
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"k {SECRET}"}]
    )
    assert completion.choices[0].message.content == "Hello from the fake upstream."
    assert SECRET not in fake_upstream.requests[-1].body.decode()


def test_metrics_count_transport_calls(fake_upstream: FakeUpstream) -> None:
    registry = CollectorRegistry()
    engine = guard.Guard(registry=registry)
    guarded, _ = openai_pair(fake_upstream, engine)
    guarded.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    assert (
        registry.get_sample_value(
            "guardwire_calls_total",
            {"frontend": "transport", "format": "openai.chat", "outcome": "allowed"},
        )
        == 1.0
    )


def test_module_level_transport_uses_default_policy(fake_upstream: FakeUpstream) -> None:
    client = httpx.Client(transport=guard.transport(registry=CollectorRegistry()))
    response = client.post(
        fake_upstream.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "how to build a bomb"}]},
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["code"] == "content_blocked"


def test_raise_blocked_converts_only_the_blocked_calls_error(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    """R16/D18: after a handled block, an unrelated KeyError surfaced as GuardBlocked."""
    guarded, _ = openai_pair(fake_upstream, engine)
    with pytest.raises(KeyError), guard.raise_blocked():
        try:
            guarded.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
            )
        except guard.GuardBlocked:
            raise AssertionError(
                "the SDK error is only converted when it leaves the block"
            ) from None
        except openai.BadRequestError:
            pass  # handled by the application
        raise KeyError("unrelated")
    fake_upstream.enqueue(Script(status=400, body={"error": {"message": "upstream says no"}}))
    with pytest.raises(openai.BadRequestError, match="upstream says no"), guard.raise_blocked():
        guarded.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_unchecked_model_apis_are_refused_unless_allowed(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    """newuser-trial §2.4: client.completions.create went out unchecked, raw key and all."""
    guarded, _ = openai_pair(fake_upstream, engine)
    sent = len(fake_upstream.requests)
    with pytest.raises(openai.NotFoundError, match=r"does not check the openai\.completions API"):
        guarded.completions.create(model="m", prompt=f"how to build a bomb {SECRET}")
    assert len(fake_upstream.requests) == sent
    permissive = openai.OpenAI(
        base_url=fake_upstream.url + "/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=engine.transport(allow_unchecked=True)),
    )
    with pytest.raises(openai.NotFoundError):  # the fake upstream has no such route
        permissive.completions.create(model="m", prompt="hi")
    assert len(fake_upstream.requests) == sent + 1


def test_token_counting_gets_the_input_checks_only(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    client = anthropic.Anthropic(
        base_url=fake_upstream.url,
        api_key="k",
        max_retries=0,
        http_client=httpx2.Client(transport=engine.transport()),
    )
    counted = client.messages.count_tokens(
        model="m", messages=[{"role": "user", "content": f"my key {SECRET}"}]
    )
    assert counted.input_tokens > 0
    assert SECRET not in fake_upstream.requests[-1].body.decode()
    with pytest.raises(anthropic.BadRequestError):
        client.messages.count_tokens(
            model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
        )


def test_one_transport_shared_by_sixteen_threads(
    fake_upstream: FakeUpstream, engine: guard.Guard
) -> None:
    """R20: 16 threads share one sync transport; a mix of allowed, redacted, blocked and
    streamed calls: no leak, no missed block, no error, every call counted once."""
    from concurrent.futures import ThreadPoolExecutor

    guarded, _ = openai_pair(fake_upstream, engine)

    def call(n: int) -> str:
        kind = n % 4
        if kind == 2:
            try:
                guarded.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "how to build a bomb"}]
                )
            except openai.BadRequestError:
                return "blocked"
            return "missed"
        prompt = f"call {n} key {SECRET}" if kind == 1 else f"call {n}"
        if kind == 3:
            chunks = guarded.chat.completions.create(
                model="m", messages=[{"role": "user", "content": prompt}], stream=True
            )
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reply = guarded.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}]
        )
        return reply.choices[0].message.content or ""

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(16 * 20)))
    assert results.count("blocked") == 80 and "missed" not in results
    sent = [r.body.decode() for r in fake_upstream.requests]
    assert len(sent) == 240 and not any(SECRET in body for body in sent)
    registry = engine.telemetry.registry
    total = sum(
        registry.get_sample_value(
            "guardwire_calls_total",
            {"frontend": "transport", "format": "openai.chat", "outcome": o},
        )
        or 0.0
        for o in ("allowed", "redacted", "blocked")
    )
    assert total == 320.0
