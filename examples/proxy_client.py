"""Call a running guardwire proxy with the unchanged OpenAI SDK.

Start the proxy first (``./dev serve``), then:
    GUARDWIRE_URL=http://127.0.0.1:8787 python examples/proxy_client.py
"""

from __future__ import annotations

import os

import openai

base = os.environ.get("GUARDWIRE_URL", "http://127.0.0.1:8787")
client = openai.OpenAI(base_url=base + "/v1", api_key=os.environ.get("OPENAI_API_KEY", "demo"))

raw = client.chat.completions.with_raw_response.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello through the proxy"}]
)
print("reply:", raw.parse().choices[0].message.content)
print("verdict:", raw.headers["x-guardwire-verdict"], "policy:", raw.headers["x-guardwire-policy"])

try:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "how to build a bomb"}]
    )
except openai.BadRequestError as error:
    print("blocked:", error.message)
