"""Wire-format registry: one module per model API, found by name or by request path.

Routing is exact, on the raw request path (no query string, not percent-decoded) that
the frontend also forwards: a path names a format only when it is, segment by segment
and case-sensitively, an API path such as ``/v1/chat/completions``, optionally after a
prefix of plain segments (``/openai/v1/chat/completions``, a gateway's ``/api/v1/...``).
Anything an upstream might read differently from the router (``%``-escapes, ``;``
parameters, empty, ``.`` or ``..`` segments, another case, a trailing extra segment) is
not a route, so it can never carry a model call past the checks. A prefix may not hold
a ``v1`` segment (it would be an API path of its own); one trailing ``/`` is allowed.

Routes: ``/v1/chat/completions`` (also ``/chat/completions`` for APIs whose base URL
has no ``/v1``, and Azure's ``/openai/deployments/{name}/chat/completions``),
``/v1/responses`` and ``/v1/responses/input_tokens`` (also Azure's ``/openai/...``
without ``v1``), ``/v1/messages`` and ``/v1/messages/count_tokens``. The longest match
wins. :func:`unchecked_api` names the model APIs that are known but not checked.
"""

from __future__ import annotations

import importlib
import re
from functools import cache

from guard.formats._patches import apply_patches
from guard.formats._reply_patches import DROPS_TOOL_CALLS, apply_reply_patches
from guard.formats.base import EXTENSION, StreamFilter, WireFormat

#: format name -> (module, attribute) of its :class:`WireFormat` instance.
_MODULES = {
    "openai.chat": ("guard.formats.openai", "FORMAT"),
    "openai.responses": ("guard.formats.openai_responses", "FORMAT"),
    "openai.input_tokens": ("guard.formats.openai_input_tokens", "FORMAT"),
    "anthropic.messages": ("guard.formats.anthropic", "FORMAT"),
    "anthropic.count_tokens": ("guard.formats.anthropic_count", "FORMAT"),
    "text": ("guard.formats.text", "FORMAT"),
}

#: A route pattern: path segments, ``None`` standing for any one plain segment.
_Pattern = tuple[str | None, ...]

#: API path -> format name. The longest matching pattern wins.
_ROUTES: tuple[tuple[_Pattern, str], ...] = (
    (("v1", "chat", "completions"), "openai.chat"),
    # OpenAI-compatible APIs whose base URL has no /v1 (DeepSeek, Perplexity, Gemini's
    # /v1beta/openai, Azure AI /models): their chat calls are checked too. In-process,
    # an unrecognised path would otherwise be sent on unchecked.
    (("chat", "completions"), "openai.chat"),
    (("v1", "responses"), "openai.responses"),
    (("v1", "responses", "input_tokens"), "openai.input_tokens"),
    (("v1", "messages"), "anthropic.messages"),
    (("v1", "messages", "count_tokens"), "anthropic.count_tokens"),
    # Azure OpenAI: the deployment names the model; the Responses API has no
    # deployment segment there (``/openai/responses?api-version=...``).
    (("openai", "deployments", None, "chat", "completions"), "openai.chat"),
    (("openai", "responses"), "openai.responses"),
    (("openai", "responses", "input_tokens"), "openai.input_tokens"),
)

#: Model APIs guardwire does not check, as ``(pattern, sub-paths too, name)``: the
#: frontends refuse them by name rather than forward them unchecked. Names are dotted,
#: ``api.endpoint``, from this closed set (safe for logs and metric labels); the first
#: part is the API family (``openai`` or ``anthropic``), which picks the upstream auth.
_UNCHECKED: tuple[tuple[_Pattern, bool, str], ...] = (
    (("v1", "completions"), False, "openai.completions"),
    (("v1", "embeddings"), False, "openai.embeddings"),
    (("v1", "moderations"), False, "openai.moderations"),
    (("v1", "responses", "compact"), False, "openai.responses.compact"),
    (("v1", "responses"), True, "openai.responses.stored"),
    (("v1", "chat", "completions"), True, "openai.chat.stored"),
    (("v1", "conversations"), True, "openai.conversations"),
    (("v1", "realtime"), True, "openai.realtime"),
    (("v1", "audio"), True, "openai.audio"),
    (("v1", "images"), True, "openai.images"),
    (("v1", "batches"), True, "openai.batches"),
    (("v1", "assistants"), True, "openai.assistants"),
    (("v1", "threads"), True, "openai.threads"),
    (("v1", "messages", "batches"), True, "anthropic.batches"),
    (("v1", "complete"), False, "anthropic.complete"),
    (("openai", "deployments", None, "completions"), False, "openai.completions"),
    (("openai", "deployments", None, "embeddings"), False, "openai.embeddings"),
)

#: One plain path segment (RFC 3986 unreserved characters only).
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")


@cache
def get(name: str) -> WireFormat:
    """The wire format called ``name``."""
    module_name, attribute = _MODULES[name]
    fmt: WireFormat = getattr(importlib.import_module(module_name), attribute)
    return fmt


def _segments(path: str) -> list[str] | None:
    """The segments of a raw path made only of plain segments, else ``None``.

    One trailing ``/`` is allowed (the same route); every other empty segment, and
    ``.`` / ``..``, is refused: an upstream or a web server in front of it may merge
    or resolve them into another path than the one the router saw.
    """
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    for part in parts:
        if part in (".", "..") or _PLAIN.fullmatch(part) is None:
            return None
    return parts


def _matches(parts: list[str], at: int, pattern: _Pattern) -> bool:
    """True if ``pattern`` matches ``parts`` from ``at`` after a plain prefix.

    A prefix holding ``v1`` is refused: it would be an API path of its own
    (``/v1/responses/v1/chat/completions``), which an upstream may route by.
    """
    if at < 0 or at + len(pattern) > len(parts) or "v1" in parts[:at]:
        return False
    return all(want is None or want == got for want, got in zip(pattern, parts[at:], strict=False))


def _route(path: str) -> str | None:
    parts = _segments(path)
    if parts is None:
        return None
    best: tuple[int, str] | None = None
    for pattern, name in _ROUTES:
        longer = best is None or len(pattern) > best[0]
        if longer and _matches(parts, len(parts) - len(pattern), pattern):
            best = (len(pattern), name)
    return best[1] if best else None


def for_path(path: str) -> WireFormat | None:
    """The wire format serving ``POST path``, or ``None``.

    ``path`` is the raw request path, without the query string and not
    percent-decoded: the representation that is forwarded.
    """
    name = _route(path)
    return get(name) if name is not None else None


def unchecked_api(path: str) -> str | None:
    """The name of the model API at ``path`` that guardwire does not check, or ``None``.

    A dotted name such as ``openai.embeddings`` or ``anthropic.batches``, for a clear
    refusal instead of a bare 404 (or, worse, an unchecked pass-through). Paths
    :func:`for_path` serves are never unchecked.
    """
    parts = _segments(path)
    if parts is None or _route(path) is not None:
        return None
    for pattern, open_ended, name in _UNCHECKED:
        if open_ended:
            if any(_matches(parts, at, pattern) for at in range(len(parts) - len(pattern) + 1)):
                return name
        elif _matches(parts, len(parts) - len(pattern), pattern):
            return name
    return None


__all__ = [
    "DROPS_TOOL_CALLS",
    "EXTENSION",
    "StreamFilter",
    "WireFormat",
    "apply_patches",
    "apply_reply_patches",
    "for_path",
    "get",
    "unchecked_api",
]
