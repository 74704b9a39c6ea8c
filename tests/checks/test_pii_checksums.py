"""Presidio's checksums in tight code (``guard/checks/_pii_checksums.py``): the same
answers as Presidio's recognizers on random input."""

from __future__ import annotations

import random
import string
from collections import Counter

from guard.checks._pii_checksums import PRESIDIO, iban_result, ipv4_invalid
from guard.checks._pii_engine import analyzer_engine
from guard.checks._pii_hits import canonical
from guard.checks._pii_recognizers import pattern_specs


def test_the_luhn_check_is_presidios() -> None:
    """The card patterns use the tight Luhn check, with Presidio's answer on every input
    (separators, non-ASCII digits and odd characters go to Presidio's own)."""
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    recognizers = analyzer_engine("en", "blank").registry.get_recognizers("en", all_fields=True)
    specs = [s for s in pattern_specs(recognizers) if s.entity == "CREDIT_CARD"]
    assert specs and all(s.luhn for s in specs)
    presidio = CreditCardRecognizer()
    rng = random.Random(3)
    alphabet = list("0123456789") * 4 + ["-", " ", "٣"]
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(12, 22)))
        assert specs[0].score_of(value) == (1.0 if presidio.validate_result(value) else 0.0)


def _iban_with_check_digits(country: str, body: str) -> str:
    """``country`` + the check digits that make ``body`` a valid IBAN checksum."""
    letters = {ord(c): str(i) for i, c in enumerate(string.digits + string.ascii_uppercase)}
    number = int((body + country + "00").translate(letters))
    return f"{country}{98 - number % 97:02d}{body}"


def test_the_iban_check_is_presidios() -> None:
    """The IBAN pattern uses the tight mod-97 and format check, with Presidio's answer
    (True, None or False) on every input: valid and broken checksums, known and unknown
    countries, lower case, separators; non-ASCII input goes to Presidio's own."""
    from presidio_analyzer.predefined_recognizers import IbanRecognizer
    from presidio_analyzer.predefined_recognizers.generic.iban_patterns import (
        regex_per_country,
    )

    recognizers = analyzer_engine("en", "blank").registry.get_recognizers("en", all_fields=True)
    specs = [s for s in pattern_specs(recognizers) if s.entity == "IBAN_CODE"]
    assert specs and all(s.iban for s in specs)
    presidio = IbanRecognizer()
    rng = random.Random(7)
    countries = [*regex_per_country, "XX", "QZ"]
    noise = [*string.ascii_letters, *string.digits, " ", "-", "٣", "é"]
    answers: Counter[object] = Counter()
    for _ in range(6000):
        if rng.random() < 0.6:
            alphabet = string.digits + (string.ascii_uppercase if rng.random() < 0.3 else "")
            body = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 30)))
            value = _iban_with_check_digits(rng.choice(countries), body)
            if rng.random() < 0.2:
                value = value.lower() if rng.random() < 0.5 else value[:2].lower() + value[2:]
            if rng.random() < 0.3:
                value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
            if rng.random() < 0.2:
                value = value[:-1] + rng.choice(string.digits)
        else:
            value = "".join(rng.choice(noise) for _ in range(rng.randint(0, 30)))
        expected = presidio.validate_result(value)
        answers[expected] += 1
        score = {True: 1.0, False: 0.0, None: specs[0].score}[expected]
        assert specs[0].score_of(value) == score, value
        if value.isascii():
            assert iban_result(value) in (expected, PRESIDIO), value
    assert answers[True] > 500 and answers[None] > 20 and answers[False] > 500, answers


def test_the_ipv4_check_is_presidios() -> None:
    """Dotted quads are checked in tight code (octets over 255 or with a leading zero are
    rejected, as ``ipaddress`` does); anything else goes to Presidio's own."""
    from presidio_analyzer.predefined_recognizers import IpRecognizer

    recognizers = analyzer_engine("en", "blank").registry.get_recognizers("en", all_fields=True)
    specs = [s for s in pattern_specs(recognizers) if s.entity == "IP_ADDRESS"]
    assert specs and all(s.ip for s in specs)
    presidio = IpRecognizer()
    rng = random.Random(4)
    octets = ["0", "7", "10", "99", "100", "199", "249", "255"] * 4 + ["00", "01", "256", "999"]
    invalid: Counter[bool] = Counter()
    for _ in range(4000):
        value = ".".join(rng.choice(octets) for _ in range(rng.choice((3, 4, 4, 4, 5))))
        if rng.random() < 0.1:
            value += rng.choice(["/24", "/33", "x", " ", "٣"])
        expected = bool(presidio.invalidate_result(value))
        invalid[expected] += 1
        assert (specs[0].score_of(value) == 0.0) == (
            expected or presidio.validate_result(value) is not None
        ), value
        assert ipv4_invalid(value) in (expected, PRESIDIO), value
    assert invalid[True] > 500 and invalid[False] > 300, invalid


def test_canonical_numbers_keep_what_isalnum_keeps() -> None:
    rng = random.Random(6)
    alphabet = [*"0123456789 -._/·", "٣", "४", "Ⅻ", "²", "é", "ß", "_", "\u200b", "Ａ", "x"]
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert canonical("CREDIT_CARD", value) == "".join(c for c in value if c.isalnum()).upper()
