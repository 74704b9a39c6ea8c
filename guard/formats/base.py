"""The interface every wire-format module implements.

One module per API (``openai``, ``anthropic``, ``text``). The proxy, the transport and
``wrap`` all go through these modules, so each API is implemented exactly once:
parse raw JSON into :class:`~guard.types.Call` / :class:`~guard.types.Reply`, write
edits back into the original JSON, render a block as the API's own error, and filter
a server-sent-event stream through the engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from guard.formats._json_leaves import ARGUMENT_KEY, get_at, rename_key
from guard.types import Call, Caller, JsonPath, Passage, Reply, Segment, Usage

if TYPE_CHECKING:
    from guard.decision import Decision
    from guard.engine import Guard

#: Name of the request extension field (stripped before the request is forwarded).
EXTENSION = "guardwire"


class Coverage(NamedTuple):
    """One row of a format's coverage table: a field that carries model-visible text,
    the kind of segment it becomes, and (replies) the key of its text stream."""

    #: ``request`` or ``reply``.
    where: str
    #: The field, as a path pattern (``messages[].content[].text``).
    field: str
    #: The :attr:`~guard.types.Segment.kind` (``by role`` where the role decides).
    kind: str
    #: The stream key pattern of the field's text in a streamed reply (``None``: requests).
    stream: str | None = None


class StreamFilter(Protocol):
    """Push-style filter between an upstream SSE byte stream and the client.

    It performs no I/O, so the async proxy and the sync and async transports share it.
    """

    #: True once the filter ended the stream (a check blocked, or ``fail`` was called):
    #: the frontend stops reading the upstream and closes it.
    done: bool
    #: The output decision, available after ``close`` (or once ``done``).
    decision: Decision | None
    #: The reply as assembled from the events (after redaction), with usage if sent.
    reply: Reply

    def feed(self, data: bytes) -> bytes:
        """Take raw upstream bytes (any split); return bytes to send to the client."""
        ...

    def close(self) -> bytes:
        """The upstream stream ended normally; return the remaining bytes for the client."""
        ...

    def fail(self, message: str, code: str = "upstream_error") -> bytes:
        """The upstream broke mid-stream; return a well-formed error event for the client."""
        ...


class WireFormat(Protocol):
    """One model API's wire format."""

    #: ``openai.chat`` or ``anthropic.messages`` (also a metric label).
    name: str

    def parse_request(self, body: bytes, caller: Caller | None = None) -> Call:
        """Parse a request body; raise :class:`~guard.errors.RequestError` when invalid."""
        ...

    def request_body(self, call: Call) -> bytes:
        """Bytes to forward: the original body when untouched, else ``raw`` re-serialised."""
        ...

    def parse_reply(self, call: Call, body: bytes) -> Reply:
        """Parse an upstream (non-stream) response body."""
        ...

    def reply_body(self, reply: Reply) -> bytes:
        """Bytes to return to the client: the original body when untouched."""
        ...

    def render_reply(self, call: Call, reply: Reply) -> bytes:
        """Build a complete response body from a normalised reply (demo model)."""
        ...

    def render_stream(self, call: Call, reply: Reply) -> Iterator[bytes]:
        """Build the SSE events of a complete reply (demo model, buffered streams)."""
        ...

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """The API's own error envelope for an HTTP error response."""
        ...

    def stream_error(self, message: str, code: str, status: int | None = None) -> bytes:
        """The API's own error event, for errors after a stream has started. ``status``:
        the HTTP status the same refusal answers with unstreamed (its verdict's), which
        picks the event's error type (an agent limit's 403, a budget's 429)."""
        ...

    def with_feedback(self, call: Call, reply: Reply, feedback: str) -> Call:
        """A new call that repeats ``call`` with the reply and feedback appended (reask)."""
        ...

    def stream_filter(self, call: Call, guard: Guard) -> StreamFilter:
        """A filter applying ``guard``'s output checks to this call's streamed reply."""
        ...


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8, as the APIs send it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def set_at(document: Any, path: JsonPath, value: Any) -> None:
    """Set ``document[path[0]][path[1]]... = value``."""
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def write_segments(raw: Any, segments: Sequence[Segment], texts: Sequence[str]) -> None:
    """Write the edited ``texts`` of ``segments`` into the segments and into ``raw``.

    A plain segment's text is set at its ``path``. Leaf segments (``leaf`` set) live in a
    JSON document stored as a string at ``path``: it is decoded once, every edited leaf
    is set in it, and it is stored back as compact JSON. Edited reasoning that carries a
    ``signature`` beside it (Anthropic ``thinking``) loses the signature, which would no
    longer match: a client that sends the block back gets the API's own error.
    """
    documents: dict[JsonPath, Any] = {}
    #: Keys to rename once every value is set (a value's path names the old key):
    #: (document path or ``None`` for ``raw``, path of the key's value, new name).
    renames: list[tuple[JsonPath | None, JsonPath, str]] = []
    for segment, text in zip(segments, texts, strict=True):
        if segment.text == text:
            continue
        segment.text = text
        if segment.path is None or raw is None:
            continue
        if segment.leaf is None:
            if segment.kind == ARGUMENT_KEY:
                renames.append((None, segment.path, text))
                continue
            set_at(raw, segment.path, text)
            if segment.kind == "reasoning":
                _drop_signature(raw, segment.path)
            continue
        if segment.path not in documents:
            documents[segment.path] = json.loads(get_at(raw, segment.path))
        if segment.kind == ARGUMENT_KEY:
            renames.append((segment.path, segment.leaf, text))
        elif segment.leaf:
            set_at(documents[segment.path], segment.leaf, text)
        else:
            documents[segment.path] = text  # the document is this one string
    # Deepest first: renaming a key changes the paths below it, not those above.
    for holder, path, name in sorted(renames, key=lambda rename: -len(rename[1])):
        rename_key(raw if holder is None else documents[holder], path, name)
    for path, document in documents.items():
        set_at(raw, path, json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def _drop_signature(raw: Any, path: JsonPath) -> None:
    holder = get_at(raw, path[:-1])
    if isinstance(holder, dict) and "signature" in holder:
        holder["signature"] = ""


def write_reply(reply: Reply, segments: Sequence[Segment], texts: Sequence[str]) -> None:
    """Write edited ``texts`` of ``segments`` (``reply.segments()``) into the reply: its
    raw body, its choices' text, and its tool calls' arguments (re-serialised)."""
    write_segments(reply.raw, segments, texts)
    update_reply(reply, segments)


def update_reply(reply: Reply, segments: Sequence[Segment]) -> None:
    """Copy the (written) ``segments`` of ``reply.segments()`` back to the reply's choices
    and tool calls; tool-call arguments are read back from the raw body."""
    position = 0
    for choice in reply.choices:
        choice.text = segments[position].text
        position += 1
        for call in choice.tool_calls:
            if call.segments is None:
                call.arguments = segments[position].text
                position += 1
                continue
            position += len(call.segments)
            if call.segments and reply.raw is not None and call.path is not None:
                value = get_at(reply.raw, call.path)
                call.arguments = value if isinstance(value, str) else _compact(value)
        position += len(choice.extra)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def read_extension(
    raw: dict[str, Any], caller: Caller | None
) -> tuple[dict[str, Any], Caller, list[Passage]]:
    """Pop the ``guardwire`` extension; return it, the caller and the context passages.

    The extension is ``{"context": [{"id": ..., "text": ...} | str, ...], "session": str,
    "tenant": str, "route": str}``; unknown keys are kept for later checks.
    """
    from guard.errors import RequestError

    extension = raw.pop(EXTENSION, None)
    caller = caller or Caller()
    if extension is None:
        return {}, caller, []
    if not isinstance(extension, dict):
        raise RequestError(f"'{EXTENSION}' must be an object")
    passages: list[Passage] = []
    context = extension.get("context", [])
    if not isinstance(context, list):
        raise RequestError(f"'{EXTENSION}.context' must be a list of passages")
    for number, item in enumerate(context):
        if isinstance(item, str):
            passages.append(Passage(str(number + 1), item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            passages.append(Passage(str(item.get("id", number + 1)), item["text"]))
        else:
            raise RequestError(f"'{EXTENSION}.context[{number}]' must be a string or {{id, text}}")
    for field in ("session", "tenant", "route"):
        value = extension.get(field)
        if value is not None:
            if not isinstance(value, str):
                raise RequestError(f"'{EXTENSION}.{field}' must be a string")
            setattr(caller, field, value)
    return extension, caller, passages


def parse_call(
    body: bytes, caller: Caller | None, build: Callable[[dict[str, Any], bytes], Call]
) -> Call:
    """Decode a request body, take the ``guardwire`` extension out, and ``build`` the call.

    ``build`` gets the raw object and the bytes to forward: the original body, or
    ``b""`` (re-serialise) when the extension had to be removed from it.
    """
    from guard.formats._json import load_request

    raw = load_request(body)
    had_extension = EXTENSION in raw
    extension, caller, passages = read_extension(raw, caller)
    call = build(raw, b"" if had_extension else body)
    call.caller, call.context, call.extension = caller, passages, extension
    return call


def caller_from_headers(get: Callable[[str], str | None], caller: Caller | None = None) -> Caller:
    """Caller identity from ``x-guardwire-session`` / ``-tenant`` / ``-route`` headers."""
    caller = caller or Caller()
    for field in ("session", "tenant", "route"):
        value = get(f"x-guardwire-{field}")
        if value:
            setattr(caller, field, value[:128])
    return caller


def usage_or_none(input_tokens: Any, output_tokens: Any) -> Usage | None:
    """A :class:`Usage` when both counts are integers."""
    if isinstance(input_tokens, int) and isinstance(output_tokens, int):
        return Usage(input_tokens, output_tokens)
    return None


def with_cached_tokens(usage: Usage | None, details: Any) -> Usage | None:
    """``usage`` with the cached input tokens of OpenAI's ``prompt_tokens_details`` /
    ``input_tokens_details`` (``cached_tokens``, part of the input): billed at the
    cached-input price. A count above the input is not believed."""
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if usage is not None and isinstance(cached, int) and 0 < cached <= usage.input_tokens:
        usage.cached_input_tokens = cached
    return usage


def with_audio_tokens(usage: Usage | None, prompt: Any, completion: Any) -> Usage | None:
    """``usage`` with the audio tokens of OpenAI's ``prompt_tokens_details`` and
    ``completion_tokens_details`` (``audio_tokens``, part of the input and output):
    billed at the audio prices. A count above its total is not believed."""
    if usage is None:
        return None
    heard = prompt.get("audio_tokens") if isinstance(prompt, dict) else None
    if isinstance(heard, int) and 0 < heard <= usage.input_tokens:
        usage.audio_input_tokens = heard
    spoken = completion.get("audio_tokens") if isinstance(completion, dict) else None
    if isinstance(spoken, int) and 0 < spoken <= usage.output_tokens:
        usage.audio_output_tokens = spoken
    return usage


def repeated(call: Call, again: Call) -> Call:
    """``again``, a reask of ``call``, carrying over who is calling, the context passages,
    the extension and the request id (the new body was parsed from scratch)."""
    again.caller, again.context, again.extension = call.caller, call.context, call.extension
    again.request_id = call.request_id
    return again
