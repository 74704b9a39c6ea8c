"""Phone numbers of the ``pii`` check by ``phonenumbers`` (Presidio's PhoneRecognizer),
on the digit runs of one view (:mod:`guard.checks._pii_detect` scores and adds them)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from guard.checks._pii_recognizers import (
    may_have_context,
    phone_candidates,
    phone_matches,
    phone_regions,
)
from guard.checks._pii_scan import Scan
from guard.checks._pii_text import View

_SPACED = re.compile(r"\d\s\d\s\d\s\d")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def phone_spans(
    scan: Scan, phone: Any, context_pieces: frozenset[str]
) -> Iterator[tuple[int, int]]:
    """The spans ``phonenumbers`` finds as phone numbers in ``scan``'s view, run only on
    digit runs not already inside a better-scored entity (a phone number loses an
    overlap with a card, IBAN or IP address anyway), one region at a time until one
    matches (``phone``: Presidio's recognizer; ``context_pieces``: the words of its
    context phrases)."""
    view, parsed = scan.view, scan.answers.phones
    text = view.text
    compact = view.to_plain is not None
    # Spans that beat a phone number, by start, with the furthest end reached so far:
    # a candidate inside one of them is skipped in O(log n).
    better = sorted((s, e) for s, e, score in scan.spans if score > phone.SCORE)
    starts = [s for s, _ in better]
    reach = list(accumulate((e for _, e in better), max))
    for start, end in phone_candidates(text):
        index = bisect_right(starts, start) - 1
        if index >= 0 and reach[index] >= end:
            continue
        snippet = text[start:end]
        if compact and not _spaced_in_plain(view, start, end):
            continue  # only spaced-out digits need the compact view; the rest is plain
        if _DOTTED_QUAD.fullmatch(snippet.strip(",;:()")) is not None or (
            snippet.count(".") >= 3 and "+" not in snippet
        ):
            continue  # an IPv4 address or a build number is no phone number
        if (
            not compact
            and snippet.isdigit()
            and snippet.isascii()
            and not may_have_context(text, start, end, context_pieces)
        ):
            # Every number phonenumbers could find in bare digits needs a context word
            # before it (the detector's ``_add``): none nearby, so parsing would be wasted.
            continue
        for region in phone_regions(snippet, phone.supported_regions):
            matches = parsed.get((snippet, region))
            if matches is None:
                matches = parsed[snippet, region] = phone_matches(snippet, region, phone.leniency)
            for match_start, match_end in matches:
                yield start + match_start, start + match_end
            if matches:
                break


def _spaced_in_plain(view: View, start: int, end: int) -> bool:
    assert view.to_plain is not None
    plain = view.plain.text[view.to_plain[start] : view.to_plain[end - 1] + 1]
    return _SPACED.search(plain) is not None
