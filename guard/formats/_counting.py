"""What the token-counting APIs share: a model request in, a number out.

``POST /v1/messages/count_tokens`` (Anthropic) and ``POST /v1/responses/input_tokens``
(OpenAI) take the same body as their API's generating request: it carries the whole
prompt, so it gets the same input checks, and an edit (a redacted key) is what the
upstream counts. The reply is a count, not model output: :attr:`Counting.checks_reply`
is ``False`` and the lifecycle skips the output stage. Nothing streams, nothing is
generated, nothing is reasked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guard.errors import GuardError
from guard.formats._json import load_reply
from guard.formats.base import StreamFilter, dumps
from guard.types import Call, Reply

if TYPE_CHECKING:
    from guard.engine import Guard


class Counting:
    """Mixin over a generating format (put it first in the bases): the counting API."""

    name: str
    #: How the API is named in error messages (``the Anthropic count_tokens API``).
    api: str
    #: Whose reply bodies these are, for a reply that is not JSON (``OpenAI``).
    provider: str
    #: The reply is a token count, not model text: frontends skip the output checks.
    checks_reply = False

    def _call(self, raw: dict[str, Any], body: bytes) -> Call:
        call: Call = super()._call(raw, body)  # type: ignore[misc]
        # Nothing is generated and nothing streams, whatever the body says: there is no
        # reply for a length limit or a response format to apply to.
        call.format, call.stream, call.max_tokens, call.response_format = (
            self.name, False, None, None,
        )  # fmt: skip
        return call

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """A reply with no text (the count is in ``reply.raw``)."""
        reply = self.reply_from_raw(load_reply(body, self.provider))
        reply.body = body
        return reply

    def reply_from_raw(self, raw: dict[str, Any]) -> Reply:
        """A reply with no choices and no usage: counting spends no tokens, so nothing
        is counted in the token and cost metrics (the count stays in ``raw``)."""
        return Reply(self.name, [], None, None, raw)

    def reply_body(self, reply: Reply) -> bytes:
        """The upstream's body, unchanged (it holds no text to edit)."""
        return reply.body or dumps(reply.raw)

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """The count object: the upstream's, or the demo model's count (its usage)."""
        if isinstance(reply.raw, dict):
            return dumps(reply.raw)
        return dumps(self.count_object(reply.usage.input_tokens if reply.usage else 0))

    def count_object(self, count: int) -> dict[str, Any]:
        """The API's reply carrying ``count``."""
        return {"input_tokens": count}

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """Token counting has no stream; a call of this format never asks for one."""
        raise GuardError(f"{self.api} does not stream")

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """Token counting is never reasked: there is no model reply to correct."""
        raise GuardError(f"{self.api} cannot be reasked")

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """Token counting has no stream; a call of this format never asks for one."""
        raise GuardError(f"{self.api} does not stream")
