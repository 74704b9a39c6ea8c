"""The README's PII example policy, exactly as written (read from README.md).

It lists six ``entities`` and defines a custom ``EMPLOYEE_ID`` recognizer beside them. The
recognizer was silently dropped (custom entities joined only the default entity list, not
an explicit one), so the example's employee id went upstream in clear. A recognizer the
policy defines is always used.
"""

from __future__ import annotations

import httpx2
import openai

import guard
from guard.demo import DemoTransport
from tests.probe2.test_readme_policies import readme_policy

README_PII_POLICY = readme_policy("pii")
TEXT = "mail bob.smith@acme.io or call +1 415 555 0100, staff E-123456"


def test_custom_recognizer_joins_an_explicit_entity_list() -> None:
    engine = guard.Guard(guard.Policy.from_yaml(README_PII_POLICY))
    decision = engine.check_input(TEXT)
    kinds = sorted(f.kind for f in decision.findings)
    assert kinds == ["EMAIL_ADDRESS", "EMPLOYEE_ID", "PHONE_NUMBER"]
    assert "E-123456" not in (decision.text or "")


def test_pseudonymised_upstream_restored_for_the_caller() -> None:
    engine = guard.Guard(guard.Policy.from_yaml(README_PII_POLICY))
    sent: list[bytes] = []

    class Recording(DemoTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            sent.append(request.read())
            return super().handle_request(request)  # type: ignore[no-any-return]

    client = openai.OpenAI(
        api_key="sk-demo",
        http_client=httpx2.Client(transport=guard.transport(guard=engine, transport=Recording())),
    )
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": TEXT}]
    )
    upstream = sent[-1].decode()
    for value in ("bob.smith@acme.io", "415 555 0100", "E-123456"):
        assert value not in upstream
    assert "<EMPLOYEE_ID_1>" in upstream
    assert reply.choices[0].message.content is not None
    assert reply.choices[0].message.content.endswith(f"You said: {TEXT}")
