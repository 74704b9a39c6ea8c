"""A streamed Responses reply over a mebibyte goes through whole.

The Responses API repeats a reply's whole text in one event (``output_text.done``,
``content_part.done``, ``output_item.done``, ``response.completed``), and a tool call's
whole arguments likewise. The stream parser refused any line over 1 MiB, so a 1.5 MB
reply that goes through complete (``max_response_bytes`` is 32 MiB) ended streamed with
"the upstream's event stream has a line longer than 1048576 bytes" after its text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import ask, clients_for

BIG = 1_200_000  # a little over the old 1 MiB line cap
SECRETS = """\
output:
  - check: rules
    rules: [{name: secrets, secrets: all, action: redact}]
"""


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_a_big_streamed_responses_reply_arrives_whole(
    frontend: str,
    fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:
    policy = tmp_path / "secrets.yaml"
    policy.write_text(SECRETS)
    clients = clients_for(frontend, policy, fake_upstream, start_proxy)
    text = "The quick brown fox jumps over the lazy dog. " * (BIG // 45)
    fake_upstream.enqueue(Script(text=text, chunk_size=65536))
    assert ask(clients, "responses", [{"role": "user", "content": "write"}], True) == text


@pytest.mark.parametrize("frontend", ["proxy", "transport"])
def test_big_streamed_tool_arguments_arrive_whole(
    frontend: str,
    fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer],
    tmp_path: Path,
) -> None:
    policy = tmp_path / "secrets.yaml"
    policy.write_text(SECRETS)
    clients = clients_for(frontend, policy, fake_upstream, start_proxy)
    content = "line of a file to write\n" * (BIG // 24)
    fake_upstream.enqueue(
        Script(tool_calls=[("write_file", {"content": content})], chunk_size=65536)
    )
    events = clients.openai.responses.create(model="gpt-4o", input="save it", stream=True)
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert [json.loads(e.arguments) for e in done] == [{"content": content}]
