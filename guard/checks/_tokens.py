"""Token bounds for reservations: proven upper bounds, no tokenizer, no network.

Every tokenizer the providers use is byte-level BPE: a token covers at least one UTF-8
byte, so a text never has more tokens than UTF-8 bytes (research-libraries.md §2.4).
The request body as JSON holds every text the provider tokenises (messages, system
prompt, tool schemas, tool arguments and results) and more (quotes, keys, escapes), so
its byte count bounds them all. To that come the tokens the provider adds that are not
in the body: a few framing tokens per message, and the hidden prompt that describes
tools (Anthropic: up to ~530 tokens).

Images are not text: they are priced by the provider from their size, which the body
does not bound, whatever their source (the provider resizes every image, sent inline or
by URL, to its own maximum). A request with images is bounded by :data:`IMAGE_TOKENS`
each, or the price table's ``image_tokens`` for models that bill images dearer
(``gpt-4o-mini``: 2,833 + 5,667 per 512-pixel tile, up to ~48 K tokens an image).
"""

from __future__ import annotations

import json
from typing import Any

from guard.types import Call

#: Framing tokens per message (role markers, separators): OpenAI documents 3-4.
MESSAGE_FRAMING = 8
#: The provider's hidden tool-use prompt, when a request declares tools.
TOOL_PROMPT = 800
#: One image's tokens at most (Anthropic ~1,600 for 1.15 megapixels; OpenAI high detail
#: tiles stay below this for the sizes either API accepts).
IMAGE_TOKENS = 6_000
#: A reply's framing (the assistant header) counted with the input.
REPLY_PRIMING = 8


def input_token_bound(call: Call, image_tokens: int = IMAGE_TOKENS) -> int:
    """An upper bound of the input tokens the provider will count for ``call``, each
    image bounded by ``image_tokens``."""
    raw = call.raw
    if call.body and raw is None:
        return len(call.body) + REPLY_PRIMING
    body = call.body or _encode(raw)
    messages = _count_messages(raw)
    # Every image part's type names "image"; a body without that word (nor a \u escape
    # that could spell it) has none, and the walk over every node is skipped.
    images = _count_images(raw) if b"image" in body or b"\\u" in body else 0
    tools = TOOL_PROMPT if _has_tools(raw) else 0
    return len(body) + messages * MESSAGE_FRAMING + images * image_tokens + tools + REPLY_PRIMING


def _encode(raw: Any) -> bytes:
    if raw is None:
        return b""
    # ensure_ascii=False: UTF-8 bytes, as the provider receives the text.
    return json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _count_messages(raw: Any) -> int:
    if not isinstance(raw, dict):
        return 1
    count = 1  # the system prompt or instructions
    for field in ("messages", "input"):
        value = raw.get(field)
        if isinstance(value, list):
            count += len(value)
        elif value is not None:
            count += 1
    return count


def _has_tools(raw: Any) -> bool:
    return isinstance(raw, dict) and bool(raw.get("tools") or raw.get("functions"))


def _count_images(raw: Any) -> int:
    """Image parts anywhere in the body (``image_url``, ``input_image``, ``image``)."""
    count = 0
    stack = [raw]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("type") in ("image_url", "input_image", "image"):
                count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def text_token_bound(text: str) -> int:
    """An upper bound of the tokens of ``text``: its UTF-8 byte count."""
    return len(text.encode("utf-8"))
