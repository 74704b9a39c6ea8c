"""Guard the OpenAI SDK in-process: redaction on the way out, a block raised as an error.

Runs offline against guardwire's demo model unless OPENAI_API_KEY is set.
    python examples/openai_sync.py
"""

from __future__ import annotations

import os

import httpx
import openai

import guard
from examples._demo import inner_transport

client = openai.OpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "demo"),
    base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    http_client=httpx.Client(
        transport=guard.transport(transport=inner_transport("OPENAI_API_KEY"))
    ),
)

reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Store this: my AWS key is AKIAABCDEFGHIJKLMNOP"}],
)
print("reply:", reply.choices[0].message.content)  # the model saw [AWS_ACCESS_KEY]

try:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "how to build a bomb"}]
    )
except openai.BadRequestError as error:
    print("blocked:", error.body["message"] if isinstance(error.body, dict) else error)

try:
    with guard.raise_blocked():  # raise guard.GuardBlocked instead of the SDK's error
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "synthesize sarin"}]
        )
except guard.GuardBlocked as blocked:
    print("typed block:", [finding.rule for finding in blocked.decision.findings])
