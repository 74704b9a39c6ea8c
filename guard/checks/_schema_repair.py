"""Reading a model's reply as one JSON document, repairing only what is safe to repair.

Models wrap JSON in markdown fences or put a sentence around it. Both are repaired
(``strip_fences``, ``extract_json``); what was taken is the exact text the model wrote,
so the caller receives the model's own JSON, not a re-serialisation. Nothing is ever
*completed*: a truncated document stays a failure (``schema.truncated`` when the reply
was cut by the length limit), because guessing the rest would hand a program data the
model never produced.

Hostile documents end in a finding, never a crash or a hang: the size is capped before
parsing, nesting too deep for the parser is reported as such, and prose extraction tries
a bounded number of starting points.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Repair steps a policy may list, in the order they are tried.
REPAIR_STEPS = ("strip_fences", "extract_json")

#: One fenced block: an opening fence with an optional language tag, its body, the close.
_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)\r?\n?[ \t]*```", re.DOTALL)
#: Where a JSON object or array may start inside prose.
_OPENER = re.compile(r"[{\[]")
#: How many starting points prose extraction tries before giving up (each try is linear).
_MAX_STARTS = 16


def _no_constants(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON: a program's parser refuses them.
    raise ValueError(f"{name} is not JSON")


_decoder = json.JSONDecoder(parse_constant=_no_constants)


class DocumentError(Exception):
    """The text is not one JSON document; ``kind`` is the finding kind's suffix."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed reply: the value, and the JSON text it came from (repaired or not)."""

    value: Any
    text: str
    repaired: bool


def parse_document(text: str, steps: tuple[str, ...], max_chars: int) -> Document:
    """Parse ``text`` as one JSON value, applying the repair ``steps`` if it is not one.

    Raises :class:`DocumentError` (kinds ``too_large``, ``json``) otherwise; the message
    never quotes the text.
    """
    if len(text) > max_chars:
        raise DocumentError(
            "too_large",
            f"the document has {len(text)} characters, over the limit of {max_chars}",
        )
    value, ok = _loads(text)
    if ok:
        return Document(value, text, repaired=False)
    candidate = text
    if "strip_fences" in steps:
        blocks = _FENCE.findall(text)
        if len(blocks) == 1:
            candidate = blocks[0]
            value, ok = _loads(candidate)
            if ok:
                return Document(value, candidate.strip(), repaired=True)
    if "extract_json" in steps:
        found = _extract(candidate)
        if found is not None:
            return Document(found[0], found[1], repaired=True)
    raise DocumentError("json", "the reply is not a JSON document")


def _loads(text: str) -> tuple[Any, bool]:
    try:
        return _decoder.decode(text), True
    except RecursionError:
        raise DocumentError(
            "json", "the document is nested too deeply to be read (over ~900 levels)"
        ) from None
    except ValueError:
        return None, False


def _extract(text: str) -> tuple[Any, str] | None:
    """The first JSON object or array in ``text`` that parses, with its exact text."""
    for tries, match in enumerate(_OPENER.finditer(text)):
        if tries >= _MAX_STARTS:
            break
        start = match.start()
        try:
            value, end = _decoder.raw_decode(text, start)
        except RecursionError:
            raise DocumentError(
                "json", "the document is nested too deeply to be read (over ~900 levels)"
            ) from None
        except ValueError:
            continue
        return value, text[start:end]
    return None
