"""In-process transport overhead: a guarded client against an unguarded one.

Both talk to the same local fake upstream (``tests/fake_upstream.py`` in its own
process, 1 KB reply); the prompt is 1 KB of clean prose and the policy is the default.
Calls are sequential and guarded/unguarded samples are interleaved (in alternating
order) so that drift of the machine hits both alike. Per client kind there are three
rows: ``guarded``, ``unguarded`` and ``added`` (the difference of the medians and of
the p99s; the target is a median under 0.5 ms for the OpenAI SDK, non-streamed).

- ``transport.openai.*``: ``client.chat.completions.create(...)`` through the OpenAI SDK
  on ``httpx.Client(transport=guard.transport())`` versus a plain ``httpx.Client()``
  (``httpx2.Client`` when the installed SDK is built on that fork of httpx).
- ``transport.httpx.*``: the same request as a bare ``httpx.Client.post`` (no SDK), the
  pure transport cost.
- ``transport.openai.stream.*``: the SDK with ``stream=True``, every chunk consumed.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import openai

import guard
from bench._load import PATH, cpu_seconds, fake_upstream, machine_busy_seconds, request_body
from bench._runner import Result, from_samples
from bench.texts import prose

PROMPT_BYTES = 1024
REPLY_BYTES = 1024
MODEL = "gpt-4o-mini"
TARGET_MS = 0.5  # median added per non-streamed SDK call (issue target)
_WARMUP = 50


class _Machine:
    """How much of the machine other processes took while samples were taken."""

    def __init__(self, upstream_pid: int) -> None:
        self._upstream = upstream_pid
        self.other_cores = float("nan")

    def __enter__(self) -> _Machine:
        self._start = self._sample()
        return self

    def __exit__(self, *exc_info: object) -> None:
        wall, machine, own, upstream = (
            b - a for a, b in zip(self._start, self._sample(), strict=True)
        )
        self.other_cores = round((machine - own - upstream) / wall, 2)

    def _sample(self) -> tuple[float, float, float, float]:
        return (
            time.perf_counter(),
            machine_busy_seconds(),
            time.process_time(),
            cpu_seconds(self._upstream),
        )


def _interleaved(
    guarded: Callable[[], object], unguarded: Callable[[], object], seconds: float
) -> tuple[list[float], list[float]]:
    """Time both operations in turn for about ``seconds`` in all; per-call seconds."""
    for _ in range(_WARMUP):
        guarded()
        unguarded()
    gc.collect()
    clock = time.perf_counter
    samples: tuple[list[float], list[float]] = ([], [])
    # ABBA order: neither side always runs right after the other.
    order = ((0, guarded), (1, unguarded), (1, unguarded), (0, guarded))
    deadline = clock() + seconds
    while clock() < deadline or len(samples[0]) < 50:
        for side, operation in order:
            started = clock()
            operation()
            samples[side].append(clock() - started)
    return samples


def _rows(name: str, guarded: list[float], unguarded: list[float], **extra: object) -> list[Result]:
    with_guard = from_samples(f"{name}.guarded", guarded)
    without = from_samples(f"{name}.unguarded", unguarded)
    added_median = with_guard.median_ms - without.median_ms
    added = Result(
        f"{name}.added",
        len(guarded),
        added_median,
        with_guard.p99_ms - without.p99_ms,
        with_guard.mean_ms - without.mean_ms,
        {
            "added_median_ms": round(added_median, 4),
            "guarded_median_ms": round(with_guard.median_ms, 4),
            "unguarded_median_ms": round(without.median_ms, 4),
            **extra,
        },
    )
    return [with_guard, without, added]


def summary(results: list[Result]) -> str:
    """The added cost per client kind, and the issue's target."""
    lines = ["", "transport summary (ms per call; added = guarded minus unguarded):"]
    for r in results:
        if r.name.endswith(".added"):
            e = r.extra
            lines.append(
                f"  {r.name.removesuffix('.added'):<26} guarded {e['guarded_median_ms']:8.3f}"
                f"  unguarded {e['unguarded_median_ms']:8.3f}  added median {r.median_ms:7.3f}"
                f"  added p99 {r.p99_ms:7.3f}  (other load on the machine: "
                f"{e['cpu_other']} cores)"
            )
            if "met" in e:
                verdict = "PASS" if e["met"] else "FAIL"
                lines.append(
                    f"  {verdict}  {r.name} median = {r.median_ms:.3f} ms (target < {TARGET_MS} ms)"
                )
    return "\n".join(lines)


def _sdk_httpx() -> ModuleType:
    """The httpx package the installed OpenAI SDK is built on: ``httpx`` or ``httpx2``."""
    base = next(c for c in openai.DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client")
    return sys.modules[base.__module__.partition(".")[0]]


def _check_guarded(client: Any, url: str, body: bytes) -> None:
    """One guarded request must be a 200 the policy allowed, or the figures mean nothing."""
    response = client.post(url, content=body, headers={"content-type": "application/json"})
    verdict = response.headers.get("x-guardwire-verdict")
    if response.status_code != 200 or verdict != "allow":
        raise RuntimeError(
            f"guarded request answered {response.status_code} with verdict {verdict!r}: "
            f"{response.text[:300]}"
        )


def run(seconds: float) -> list[Result]:
    """Guarded versus unguarded calls: OpenAI SDK, bare httpx, SDK streaming."""
    prompt = prose(PROMPT_BYTES)
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": prompt}
    ]
    body = request_body(prompt, stream=False)
    results: list[Result] = []
    with (
        fake_upstream(REPLY_BYTES) as upstream,
        httpx.Client(transport=guard.transport()) as guarded_http,
        httpx.Client() as plain_http,
        _sdk_httpx().Client(transport=guard.transport()) as guarded_sdk_http,
        _sdk_httpx().Client() as plain_sdk_http,
    ):
        url = upstream.url + PATH
        _check_guarded(guarded_http, url, body)
        _check_guarded(guarded_sdk_http, url, body)
        sdk = [
            openai.OpenAI(
                base_url=upstream.url + "/v1", api_key="x", http_client=client, max_retries=0
            )
            for client in (guarded_sdk_http, plain_sdk_http)
        ]

        def create(client: openai.OpenAI) -> Callable[[], object]:
            def call() -> object:
                reply = client.chat.completions.create(model=MODEL, messages=messages)
                assert len(reply.choices[0].message.content or "") == REPLY_BYTES
                return reply

            return call

        def create_stream(client: openai.OpenAI) -> Callable[[], object]:
            def call() -> object:
                stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
                text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
                assert len(text) == REPLY_BYTES, len(text)
                return text

            return call

        def post(client: httpx.Client) -> Callable[[], object]:
            headers = {"content-type": "application/json"}

            def call() -> object:
                response = client.post(url, content=body, headers=headers)
                assert response.status_code == 200, response.status_code
                return response

            return call

        pairs = (
            ("transport.openai", create(sdk[0]), create(sdk[1])),
            ("transport.httpx", post(guarded_http), post(plain_http)),
            ("transport.openai.stream", create_stream(sdk[0]), create_stream(sdk[1])),
        )
        for name, with_guard, without in pairs:
            with _Machine(upstream.pid) as machine:
                guarded, unguarded = _interleaved(with_guard, without, seconds)
            extra: dict[str, object] = {"cpu_other": machine.other_cores}
            if name == "transport.openai":
                added = statistics.median(guarded) - statistics.median(unguarded)
                extra |= {"target_ms": TARGET_MS, "met": added * 1000 < TARGET_MS}
            results += _rows(name, guarded, unguarded, **extra)
    print(summary(results))
    return results
