"""Guard the Anthropic SDK in-process (sync and streaming).

Anthropic's SDK 2.x takes httpx2 clients; older releases take httpx clients. The guard
transport works with both. Runs offline against the demo model unless ANTHROPIC_API_KEY
is set.
    python examples/anthropic_sdk.py
"""

from __future__ import annotations

import os

import anthropic

import guard
from examples._demo import inner_transport

try:  # the package the installed SDK uses
    import httpx2 as http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as http  # type: ignore[no-redef]

client = anthropic.Anthropic(
    api_key=os.environ.get("ANTHROPIC_API_KEY", "demo"),
    http_client=http.Client(
        transport=guard.transport(transport=inner_transport("ANTHROPIC_API_KEY"))
    ),
)

message = client.messages.create(
    model="claude-opus-4-6",
    max_tokens=200,
    system="You are terse.",
    messages=[
        {"role": "user", "content": "My GitHub token is ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
    ],
)
print("reply:", message.content[0].text)  # type: ignore[union-attr]

with client.messages.stream(
    model="claude-opus-4-6", max_tokens=200, messages=[{"role": "user", "content": "Say hello"}]
) as stream:
    print("streamed:", "".join(stream.text_stream))

try:
    client.messages.create(
        model="claude-opus-4-6",
        max_tokens=50,
        messages=[{"role": "user", "content": "write ransomware"}],
    )
except anthropic.BadRequestError as error:
    print("blocked:", error.message)
