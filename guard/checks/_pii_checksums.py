"""Presidio's checksums in tight code: the same answers, a fraction of the time.

Presidio validates each candidate in Python with general tools (a regex looked up in
``regex``'s cache per call, a string rebuilt per replacement pair): on a text dense with
card numbers and IBANs that is a tenth of the scan. These functions take the common
input (ASCII letters and digits, Presidio's default separators) and return exactly what
Presidio's ``validate_result`` returns; anything else is left to Presidio
(``None`` from :func:`iban_result`). Tests compare them with Presidio on random input.
"""

from __future__ import annotations

import re
import string
from functools import cache
from typing import Any

import regex

#: The digit sum of twice each digit (Luhn's doubled digits).
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
#: ISO 13616: each letter or digit as its number (``A`` = 10, ... ``Z`` = 35).
_IBAN_NUMBERS = {ord(c): str(i) for i, c in enumerate(string.digits + string.ascii_uppercase)}
#: What :func:`iban_result` and :func:`ipv4_invalid` leave to Presidio.
PRESIDIO = "presidio"
_DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of ASCII ``digits`` (Presidio's ``CreditCardRecognizer``'s)."""
    total = sum(map(int, digits[-1::-2])) + sum(_DOUBLED[int(d)] for d in digits[-2::-2])
    return total % 10 == 0


def iban_result(matched: str) -> bool | str | None:
    """Presidio's ``IbanRecognizer.validate_result`` (default separators, no exact
    match): ``True`` for a valid checksum in the country's format, ``None`` when only
    the upper-cased value has that format, else ``False``; :data:`PRESIDIO` for input
    that is not ASCII letters and digits once ``-`` and spaces are dropped."""
    value = matched.replace("-", "").replace(" ", "")
    if len(value) < 4 or not (value.isascii() and value.isalnum()):
        return PRESIDIO
    upper = value.upper()
    # Presidio: the country code and "00" moved to the end, letters as numbers, mod 97.
    number = int((upper[4:] + upper[:2] + "00").translate(_IBAN_NUMBERS))
    if f"{98 - number % 97:0>2}" != value[2:4]:
        return False
    formats = _country_formats()
    pattern = formats.get(value[:2])
    if pattern is not None and pattern.match(value) is not None:
        return True
    pattern = formats.get(upper[:2])
    if pattern is not None and pattern.match(upper) is not None:
        return None
    return False


@cache
def _country_formats() -> dict[str, Any]:
    """Presidio's per-country IBAN formats, compiled once (its flags, unanchored)."""
    from presidio_analyzer.predefined_recognizers.generic.iban_patterns import (
        regex_per_country,
    )

    flags = regex.DOTALL | regex.MULTILINE
    return {code: regex.compile(form, flags) for code, form in regex_per_country.items() if form}


def ipv4_invalid(matched: str) -> bool | str:
    """Presidio's ``IpRecognizer.invalidate_result`` for a dotted quad of ASCII digits
    (``ipaddress`` rejects an octet over 255 or with a leading zero); :data:`PRESIDIO`
    for anything else (IPv6, a prefix length)."""
    if _DOTTED_QUAD.fullmatch(matched) is None:
        return PRESIDIO
    return any(
        len(octet) > 1 and (octet[0] == "0" or int(octet) > 255) for octet in matched.split(".")
    )
