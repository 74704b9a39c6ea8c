"""Anthropic token counting (``POST /v1/messages/count_tokens``): input checks only.

The request is a messages request (system prompt, messages, tools) without
``max_tokens``: it carries the whole prompt, so it gets the same input checks, and an
edit (a redacted key) is what the upstream counts. The reply, ``{"input_tokens": n}``,
is not model output: :attr:`AnthropicCountTokens.checks_reply` is ``False`` and tells a
frontend to skip the output stage (running it is harmless: the reply has no text).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guard.errors import GuardError
from guard.formats._json import load_reply
from guard.formats.anthropic import AnthropicMessages
from guard.formats.base import StreamFilter, dumps
from guard.types import Call, Reply

if TYPE_CHECKING:
    from guard.engine import Guard

NAME = "anthropic.count_tokens"


class AnthropicCountTokens(AnthropicMessages):
    """The Anthropic ``count_tokens`` wire format: a messages request, a count as reply."""

    name = NAME
    #: The reply is a token count, not model text: frontends skip the output checks.
    checks_reply = False

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        call = super()._call(raw, body)
        # Nothing is generated and nothing streams, whatever the body says: there is no
        # reply for a length limit or a response format to apply to.
        call.format, call.stream, call.max_tokens, call.response_format = NAME, False, None, None
        return call

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """A reply with no text (the count is in ``reply.raw``)."""
        reply = self.reply_from_raw(load_reply(body, "Anthropic"))
        reply.body = body
        return reply

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """A reply with no choices and no usage: counting spends no tokens, so nothing
        is counted in the token and cost metrics (the count stays in ``raw``)."""
        return Reply(NAME, [], None, None, raw)

    def reply_body(self, reply: Reply) -> bytes:
        """The upstream's body, unchanged (it holds no text to edit)."""
        return reply.body or dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """``{"input_tokens": n}``: the upstream's, or the demo model's count (its usage)."""
        if isinstance(reply.raw, dict):
            return dumps(reply.raw)
        return dumps({"input_tokens": reply.usage.input_tokens if reply.usage else 0})

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """Token counting has no stream; a call of this format never asks for one."""
        raise GuardError("the Anthropic count_tokens API does not stream")

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """Token counting is never reasked: there is no model reply to correct."""
        raise GuardError("the Anthropic count_tokens API cannot be reasked")

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """Token counting has no stream; a call of this format never asks for one."""
        raise GuardError("the Anthropic count_tokens API does not stream")


#: The instance the registry (:mod:`guard.formats`) serves as ``anthropic.count_tokens``.
FORMAT = AnthropicCountTokens()
