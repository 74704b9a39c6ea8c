"""JSON decoding, field validation and reask text shared by the wire formats.

Error messages name the field (``'messages[2].content'``) and never quote the value: a
request body is user text.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, NoReturn

from guard.errors import RequestError, UpstreamError
from guard.formats._json_key_case import (
    PLAIN_KEYS,
    REPLY_FIELDS,
    REPLY_PLAIN_KEYS,
    is_variant,
    refuse_case_variants,
    shown_key,
    variant_key,
)
from guard.types import Reply

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_constants(name: str) -> NoReturn:
    # NaN and Infinity are not JSON; forwarding them would produce an invalid body.
    raise ValueError(name)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")


#: Set by the decoder's hook (per thread: decoding runs in the caller's thread) when an
#: object of the body being decoded has a key that folds to a field without being it
#: (in a map the client owns, it may be data: the body is then read for where it is).
_decoding = threading.local()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict; a repeated key raises :class:`_RepeatedKey`."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    # Objects of the APIs' own names (nearly all) pass one C-level subset test.
    if not found.keys() <= PLAIN_KEYS:
        for key in found.keys() - PLAIN_KEYS:
            if is_variant(key):
                _decoding.variant_keys = True  # then the body is read for where it is
    return found


#: Requests refuse repeated keys (see :func:`load_request`); built once as well.
_REQUEST_DECODER = json.JSONDecoder(parse_constant=_no_constants, object_pairs_hook=_unique_keys)


def load_request(body: bytes) -> dict[str, Any]:
    """Decode a request body into a JSON object, or raise :class:`RequestError`.

    A key repeated in one object is refused: parsers disagree on which value wins, so
    the guard would check one value and the upstream could read the other. (Measured:
    the pairs hook costs +3.4 us on a 1 KB body, +26 us on 17 KB, +1.3 ms on 900 KB over
    a plain parse; counting keys after a plain parse to skip it costs more.)
    """
    _decoding.variant_keys = False
    try:
        raw = _REQUEST_DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError("the request body is not valid UTF-8") from None
    except _RepeatedKey as repeated:
        # Key names are protocol, not user text; an odd one is still not quoted.
        key = f"'{repeated.key}'" if _NAME.fullmatch(repeated.key) else "a key"
        raise RequestError(
            f"the request body repeats {key} in one JSON object; send each key once"
        ) from None
    except (ValueError, RecursionError):
        if not body.strip():
            raise RequestError(
                "the request body is empty: send the call as a JSON object"
            ) from None
        raise RequestError("the request body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise RequestError("the request body must be a JSON object")
    if _decoding.variant_keys:
        refuse_case_variants(raw)
    if _SURROGATE_ESCAPE.search(body) is not None:
        # "\ud800" decodes to a lone surrogate that no UTF-8 body can carry onwards;
        # escaped pairs (emoji) are fine. Only bodies with such escapes pay for this.
        try:
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RequestError(
                "the request body contains an unpaired UTF-16 surrogate escape"
            ) from None
    return raw


def note_reply_variants(
    found: dict[str, Any], plain: frozenset[str] = REPLY_PLAIN_KEYS
) -> dict[str, Any]:
    """The reply decoders' object hook: notes a key that folds to a reply field without
    being it (one C-level subset test for objects of the APIs' own names)."""
    if not found.keys() <= plain:
        for key in found.keys() - plain:
            if is_variant(key, REPLY_FIELDS):
                _decoding.reply_variants = True  # then the reply is read for where it is
    return found


#: Built once: ``json.loads`` with a keyword argument builds a new decoder every call.
#: (The object hook costs ~0.1 us an object: ~1 us on a chat completion.)
_REPLY_DECODER = json.JSONDecoder(parse_constant=_no_constants, object_hook=note_reply_variants)


#: Stream events: the same hook, without refusing NaN (an event the guard cannot read as
#: JSON is decided by the stream filter).
_EVENT_DECODER = json.JSONDecoder(object_hook=note_reply_variants)


def event_decoder() -> json.JSONDecoder:
    """The decoder of stream events (its object hook notes case variants)."""
    return _EVENT_DECODER


def reply_variant_error(raw: dict[str, Any], api: str) -> UpstreamError | None:
    """The 502 for a reply (or a stream's event) whose decoding noted a case variant of a
    reply field outside the client's own maps; ``None`` when there is none. Resets the
    note."""
    _decoding.reply_variants = False
    key = variant_key(raw)
    if key is None:
        return None
    folded = key.casefold()
    return UpstreamError(
        f"the upstream {api} API returned a reply with {shown_key(key)}, which differs from "
        f"the field '{folded}' only in case (a client may read it in place of the checked "
        f"'{folded}'): it was not passed on"
    )


def reply_variants_noted() -> bool:
    """Whether the last reply decoding noted a case variant (see :func:`note_reply_variants`)."""
    return bool(getattr(_decoding, "reply_variants", False))


class UnreadableReply(UpstreamError):
    """An upstream reply that is not a JSON object (502): not UTF-8, empty, not JSON."""

    def __init__(self, api: str, what: str) -> None:
        self.api, self.what = api, what
        super().__init__(f"the upstream {api} API returned {what}")

    def declared(self, content_type: str | bytes | None) -> UpstreamError:
        """This error, naming the reply's declared media type when it is not JSON (an
        HTML error page, a stream): a message that says where to look."""
        if isinstance(content_type, bytes):
            content_type = content_type.decode("latin-1")
        media = (content_type or "").partition(";")[0].strip().lower()
        if not media or media.endswith("json") or not _MEDIA_TYPE.fullmatch(media):
            return self
        return UpstreamError(f"{self} (its Content-Type is {media}, not JSON)")


_MEDIA_TYPE = re.compile(r"[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,60}")


def load_reply(body: bytes, api: str) -> dict[str, Any]:
    """Decode an upstream reply into a JSON object, or raise :class:`UpstreamError` (502)."""
    _decoding.reply_variants = False
    try:
        raw = _REPLY_DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnreadableReply(api, "a reply that is not valid UTF-8") from None
    except (ValueError, RecursionError):
        what = "an empty body" if not body.strip() else "a reply that is not valid JSON"
        raise UnreadableReply(api, what) from None
    if not isinstance(raw, dict):
        raise UnreadableReply(api, "a reply that is not a JSON object")
    if _decoding.reply_variants:
        error = reply_variant_error(raw, api)
        if error is not None:
            raise error
    if _SURROGATE_ESCAPE.search(body) is not None:
        try:
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise UpstreamError(
                f"the upstream {api} API returned an unpaired UTF-16 surrogate escape"
            ) from None
    return raw


def invalid(where: str, what: str) -> RequestError:
    """The error for a field of the wrong type: ``'where' must be what``."""
    return RequestError(f"'{where}' must be {what}")


def required_string(raw: dict[str, Any], name: str) -> str:
    """``raw[name]``, which must be a non-empty string."""
    value = raw.get(name)
    if value is None:
        raise RequestError(f"'{name}' is required")
    if not isinstance(value, str) or not value:
        raise invalid(name, "a non-empty string")
    return value


def required_list(raw: dict[str, Any], name: str) -> list[Any]:
    """``raw[name]``, which must be a list."""
    value = raw.get(name)
    if value is None:
        raise RequestError(f"'{name}' is required")
    if not isinstance(value, list):
        raise invalid(name, "a list")
    return value


def optional_int(raw: dict[str, Any], name: str) -> int | None:
    """``raw[name]`` if present: an integer (``true`` is not a number here)."""
    value = raw.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise invalid(name, "an integer")
    return value


def output_bound(raw: dict[str, Any], name: str) -> int | None:
    """The reply's token bound ``raw[name]`` sets: an integer of at least 1, or ``None``.
    Zero or less bounds nothing (an upstream may read it as "no limit"), so it reads as
    absent: a budget then reserves and forwards its own bound."""
    value = optional_int(raw, name)
    return value if value is not None and value >= 1 else None


def optional_bool(raw: dict[str, Any], name: str) -> bool:
    """``raw[name]`` if present: a boolean; ``False`` when absent."""
    value = raw.get(name)
    if value is not None and not isinstance(value, bool):
        raise invalid(name, "a boolean")
    return bool(value)


def optional_object(raw: Any, name: str, where: str | None = None) -> dict[str, Any] | None:
    """``raw[name]`` if present: a JSON object."""
    value = raw.get(name) if isinstance(raw, dict) else None
    if value is not None and not isinstance(value, dict):
        raise invalid(where or name, "an object")
    return value


def text_of(value: Any, where: str) -> str:
    """A string field of a content part."""
    if not isinstance(value, str):
        raise invalid(where, "a string")
    return value


def reply_as_text(reply: Reply) -> str:
    """The reply as plain assistant text for a reask.

    Tool calls are written out as ``name(arguments)``: a real tool-call message would
    need tool results before the feedback message, which a reask does not have.
    """
    if reply.text:
        return reply.text
    calls = [call for choice in reply.choices for call in choice.tool_calls]
    return "\n".join(f"{call.name}({call.arguments})" for call in calls) or "(no text)"


def compact(value: Any) -> str:
    """``value`` as compact JSON text (how tool inputs are checked and streamed)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def object_or_empty(text: str) -> dict[str, Any]:
    """JSON text as an object; ``{}`` when it is not one (cut short, or broken by an edit)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
