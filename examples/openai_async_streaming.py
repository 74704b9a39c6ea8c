"""Async OpenAI client with a guarded, streamed reply.

Runs offline against guardwire's demo model unless OPENAI_API_KEY is set.
    python examples/openai_async_streaming.py
"""

from __future__ import annotations

import asyncio
import os

import httpx
import openai

import guard
from examples._demo import inner_transport


async def main() -> None:
    client = openai.AsyncOpenAI(
        api_key=os.environ.get("OPENAI_API_KEY", "demo"),
        http_client=httpx.AsyncClient(
            transport=guard.async_transport(transport=inner_transport("OPENAI_API_KEY"))
        ),
    )
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Repeat: token sk-abcdefghijklmnopqrstuvwx"}],
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    print("streamed:", "".join(pieces))  # the key never reaches the model or the screen


asyncio.run(main())
