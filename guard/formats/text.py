"""Plain text calls (``wrap``): a prompt string or a list of OpenAI-style messages
(``content`` a string or a list of content parts).

Only what the engine needs for text calls lives here: building the call and the reask
call. There is no wire body, no error envelope and no event stream.
"""

from __future__ import annotations

import copy
from typing import Any

from guard.errors import RequestError
from guard.formats._openai_request import message_segments
from guard.types import Call, Caller, Passage, Reply, Segment

NAME = "text"


def build_call(
    prompt: Any, *, caller: Caller | None = None, context: list[Passage] | None = None
) -> Call:
    """A call from a prompt string or an OpenAI-style message list (copied, never mutated)."""
    if isinstance(prompt, str):
        raw: dict[str, Any] = {"prompt": prompt}
        segments = [Segment(prompt, ("prompt",), "user")]
    elif isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt):
        raw = {"messages": copy.deepcopy(prompt)}
        # The OpenAI extractor: content parts, names and tool-call arguments are checked
        # exactly as the proxy checks them (review D17).
        try:
            segments = message_segments(raw["messages"])
        except RequestError as error:
            raise TypeError(f"a wrapped function's messages are not valid: {error}") from None
    else:
        raise TypeError("a wrapped function's prompt must be a string or a list of message dicts")
    return Call(
        format=NAME, segments=segments, raw=raw, caller=caller or Caller(), context=context or []
    )


def prompt_of(call: Call) -> Any:
    """The (possibly redacted) prompt to pass to the wrapped function."""
    return call.raw["prompt"] if "prompt" in call.raw else call.raw["messages"]


class TextFormat:
    """The engine-facing part of the text format (reask)."""

    name = NAME

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """Repeat the prompt with the rejected answer's feedback appended."""
        note = f"Your previous answer was rejected by a guardrail. {feedback}".strip()
        if "prompt" in call.raw:
            prompt: Any = f"{call.raw['prompt']}\n\n{note}"
        else:
            prompt = [
                *call.raw["messages"],
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": note},
            ]
        return build_call(prompt, caller=call.caller, context=call.context)


FORMAT = TextFormat()
