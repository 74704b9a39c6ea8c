"""A finding that starts in text already sent (it outgrew its rule's hold-back) ends the
stream with the API's own error event, which the official SDKs raise: never a stream that
just stops (the last closing note's "Streams" item). Chat completions, the Responses API
and Anthropic messages, through the proxy and the transport.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anthropic
import openai
import pytest

from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import APIS, ask, clients_for

#: A rule whose matches can outgrow its hold-back: ``max_length`` is shorter than them.
POLICY = """\
output:
  - check: rules
    rules:
      - name: ticket
        action: {action}
        regex: 'TICKET-[0-9]+'
        max_length: 12
"""
#: A pending match that would hold back more than the policy's cap (``max_holdback``).
CAPPED = """\
stream:
  max_holdback: 64
output:
  - check: rules
    rules:
      - name: ticket
        action: redact
        regex: 'TICKET-[0-9]+'
        max_length: 500
"""
NUMBER = "1234567890" * 9
CASES = {
    # (policy, reply text)
    "outgrown-block": (POLICY.format(action="block"), f"Ref TICKET-{NUMBER} and more."),
    "outgrown-redact": (POLICY.format(action="redact"), f"Ref TICKET-{NUMBER} and more."),
    "outgrown-at-the-end": (POLICY.format(action="redact"), f"Ref TICKET-{NUMBER}"),
    "over-the-cap": (CAPPED, f"Ref TICKET-{NUMBER} and more."),
}


@pytest.fixture(params=["proxy", "transport"])
def frontend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("api", APIS)
def test_a_finding_that_starts_in_sent_text_ends_with_the_apis_error_event(
    api: str, case: str, frontend: str, fake_upstream: FakeUpstream,
    start_proxy: Callable[..., ProxyServer], tmp_path: Path,
) -> None:  # fmt: skip
    policy_text, text = CASES[case]
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text)
    clients = clients_for(frontend, policy, fake_upstream, start_proxy)
    fake_upstream.enqueue(Script(text=text, chunk_size=3))
    errors = (openai.APIError, anthropic.APIError, RuntimeError)
    with pytest.raises(errors) as caught:
        ask(clients, api, [{"role": "user", "content": "ref?"}], True)
    message = str(caught.value)
    assert "ticket" in message or "hold-back" in message or "holdback" in message, message
    assert "1234" not in message
