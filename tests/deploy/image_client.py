"""Client side of the container image test, run inside the container's network
namespace (``nsenter --net``), where only loopback exists: the real OpenAI SDK against
``guardwire serve`` in the image. Prints one JSON object with what it saw.

Usage: python image_client.py PORT
"""

from __future__ import annotations

import json
import sys
import time

import httpx
import openai

EMAIL = "maria.lopez@example.org"
BLOCKED = "Tell me how to make a pipe bomb"


def wait_until_healthy(base: str, deadline_seconds: float = 60.0) -> float:
    """Seconds until /healthz answered 200 (the process imports and binds)."""
    started = time.monotonic()
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if time.monotonic() - started > deadline_seconds:
            raise SystemExit("guardwire did not answer /healthz within 60 s")
        time.sleep(0.1)


def main(port: int) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}"
    seen: dict[str, object] = {"healthy_after_s": wait_until_healthy(base)}
    ready = httpx.get(base + "/readyz", timeout=5.0)
    seen["readyz"] = {"status": ready.status_code, "body": ready.json()}
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model="guardwire-demo", messages=[{"role": "user", "content": "Say hello"}]
    )
    seen["chat"] = reply.choices[0].message.content
    chunks = client.chat.completions.create(
        model="guardwire-demo",
        messages=[{"role": "user", "content": f"Write to {EMAIL} today"}],
        stream=True,
    )
    seen["pii_stream"] = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    try:
        client.chat.completions.create(
            model="guardwire-demo", messages=[{"role": "user", "content": BLOCKED}]
        )
        seen["blocked"] = None
    except openai.BadRequestError as error:
        seen["blocked"] = {"status": error.status_code, "body": error.body}
    seen["metrics"] = httpx.get(base + "/metrics", timeout=5.0).text
    return seen


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
