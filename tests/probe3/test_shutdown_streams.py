"""SIGTERM with streams in flight (``guardwire serve`` as a child process).

A stream that ends within ``shutdown_timeout`` finishes whole; one that would run past it
ends with the API's own error event, which the SDK raises as an API error naming the
shutdown (before: the connection was cut, the SDK reported a network failure, and the log
had a CancelledError traceback); no new connection is accepted once the drain began.
A ``shutdown_timeout`` with a fraction was truncated (0.5 s: no drain at all): it now
gives at least what was asked. About 3 s: the drain is what it tests.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.fake_upstream import FakeUpstream, Script
from tests.test_cli import _serve


def _stream(client: openai.OpenAI, result: dict[str, object]) -> None:
    text = ""
    try:
        chunks = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for chunk in chunks:
            text += (chunk.choices[0].delta.content or "") if chunk.choices else ""
    except Exception as exc:  # the assertion below names what the SDK raised
        result["error"] = exc
    result["text"] = text


def test_sigterm_drains_short_streams_and_ends_long_ones_with_an_error_event(
    tmp_path: Path,
) -> None:
    reply = "word " * 40  # 40 events of 5 characters
    with FakeUpstream(reply) as upstream:
        config = tmp_path / "guardwire.yaml"
        config.write_text(
            f"shutdown_timeout: 2\nstore: 'memory://'\nupstreams: {{default: {{url: {upstream.url}}}}}\n"
        )
        process, port = _serve("--config", str(config))
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
        short: dict[str, object] = {}
        long: dict[str, object] = {}
        # Short: headers after 0.3 s, then 40 x 0.01 s. Long: 40 x 0.25 s = 10 s, far past
        # the 2 s drain. Started one after the other: scripts go to requests in order.
        scripts = (Script(chunk_size=5, stream_delay=0.01, delay=0.3),
                   Script(chunk_size=5, stream_delay=0.25))  # fmt: skip
        threads = []
        for number, (script, result) in enumerate(zip(scripts, (short, long), strict=True)):
            upstream.enqueue(script)
            threads.append(threading.Thread(target=_stream, args=(client, result)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while len(upstream.requests) <= number:
                assert time.monotonic() < deadline, "the stream never reached the upstream"
                time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.15)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        for thread in threads:
            thread.join(15)
        _, stderr = process.communicate(timeout=30)
    assert short == {"text": reply}, short
    error = long.get("error")
    assert isinstance(error, openai.APIError), repr(error)
    assert not isinstance(error, openai.APIConnectionError), repr(error)
    assert "shutting down" in str(error)
    assert str(long["text"]) and reply.startswith(str(long["text"]))
    assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize(("seconds", "drain"), [(0.5, 1), (2, 2), (2.2, 3), (0, 0)])
def test_a_fraction_of_a_second_still_drains(seconds: float, drain: int) -> None:
    """uvicorn takes whole seconds; 0.5 became int(0.5) == 0, no drain at all."""
    from guard.proxy.config import load_config
    from guard.proxy.server import _run

    settings: dict[str, object] = {}

    class Uvicorn:
        @staticmethod
        def run(app: str, **given: object) -> None:
            settings.update(given)

    _run(Uvicorn, load_config(None, env={}, overrides={"shutdown_timeout": seconds}))
    assert settings["timeout_graceful_shutdown"] == drain
