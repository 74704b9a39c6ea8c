"""OpenAI input token counting (``POST /v1/responses/input_tokens``): input checks only.

The request is a Responses API request (``input``, ``instructions``, ``tools``...); the
reply is ``{"object": "response.input_tokens", "input_tokens": n}``. See
:mod:`guard.formats._counting`.
"""

from __future__ import annotations

from typing import Any

from guard.formats._counting import Counting
from guard.formats.openai_responses import OpenAIResponses

NAME = "openai.input_tokens"


class OpenAIInputTokens(Counting, OpenAIResponses):
    """The Responses API's token counting: a Responses request, a count as reply."""

    name = NAME
    api = "the OpenAI input token count API"
    provider = "OpenAI"
    model_required = False

    def count_object(self, count: int) -> dict[str, Any]:
        """The Responses API's count object."""
        return {"object": "response.input_tokens", "input_tokens": count}


#: The instance the registry (:mod:`guard.formats`) serves as ``openai.input_tokens``.
FORMAT = OpenAIInputTokens()
