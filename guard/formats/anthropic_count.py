"""Anthropic token counting (``POST /v1/messages/count_tokens``): input checks only.

The request is a messages request (system prompt, messages, tools) without
``max_tokens``; the reply is ``{"input_tokens": n}``. See :mod:`guard.formats._counting`.
"""

from __future__ import annotations

from guard.formats._counting import Counting
from guard.formats.anthropic import AnthropicMessages

NAME = "anthropic.count_tokens"


class AnthropicCountTokens(Counting, AnthropicMessages):
    """The Anthropic ``count_tokens`` wire format: a messages request, a count as reply."""

    name = NAME
    api = "the Anthropic count_tokens API"
    provider = "Anthropic"


#: The instance the registry (:mod:`guard.formats`) serves as ``anthropic.count_tokens``.
FORMAT = AnthropicCountTokens()
