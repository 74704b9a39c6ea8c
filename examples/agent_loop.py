"""An agent loop with the OpenAI SDK's tool calling, stopped at the wire by the loop detector.

The agent below keeps calling ``get_weather`` with the same arguments (the demo model
calls the tool its prompt names, every time). The ``agent`` check counts identical tool
calls per session (the ``x-guardwire-session`` header) and refuses the third one; a
denied tool and a shell command with ``rm -rf`` would be refused the same way.

Runs offline against guardwire's demo model unless OPENAI_API_KEY is set.
    python examples/agent_loop.py
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import openai

import guard
from examples._demo import inner_transport

POLICY = guard.Policy.from_dict(
    {
        "name": "agent-demo",
        "stream": {"whole_reply": "buffer"},  # a refused tool call is never streamed
        "input": [
            {
                "check": "agent",
                "tools_allowed": ["get_weather", "search"],
                "arguments": [
                    {"tool": "run_shell", "pointer": "/command", "deny_regex": r"\brm\s+-rf\b"}
                ],
                "max_steps": 10,
                "repeat": {"window": 6, "max_same": 2, "action": "block"},
            }
        ],
    }
)
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]

engine = guard.Guard(POLICY, store="memory://")
client = openai.OpenAI(
    api_key=os.environ.get("OPENAI_API_KEY", "demo"),
    base_url=os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    http_client=httpx.Client(
        transport=engine.transport(transport=inner_transport("OPENAI_API_KEY"))
    ),
    default_headers={"x-guardwire-session": "agent-demo-1"},
    max_retries=0,
)

messages: Any = [{"role": "user", "content": "Use get_weather: is it raining in Paris?"}]
try:
    for step in range(1, 11):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            print("answer:", message.content)
            break
        messages.append(message.model_dump(exclude_none=True))
        for tool_call in message.tool_calls:
            name = tool_call.function.name  # type: ignore[union-attr]
            print(f"step {step}: the model calls {name}")
            result = {"city": "Paris", "raining": False}  # the tool, run by the agent
            messages.append(
                {"role": "tool", "tool_call_id": tool_call.id, "content": json.dumps(result)}
            )
except openai.PermissionDeniedError as stopped:
    print(f"stopped ({stopped.code}):", stopped.message)
