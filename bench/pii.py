"""The pii check against plain Presidio on the same texts.

2 KB without PII, 2 KB with 10 entities, 20 KB with and without (100) entities. Targets
(issue 17, medians): 2 KB clean <= 0.5 ms, 2 KB with 10 entities <= 2 ms, 20 KB <= 5 ms.
``pii.check`` is the check's scan alone; ``pii.engine`` a whole ``check_input`` with a
pii-only policy (edits applied); ``presidio`` is ``AnalyzerEngine.analyze`` (blank spaCy
pipeline, predefined recognizers, tldextract offline) on the same text.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bench._runner import Result, measure
from bench.texts import prose
from guard import Guard
from guard.checks._pii_engine import analyzer_engine, default_entities
from guard.checks.pii import PiiCheck
from guard.policy import Policy

ENTITIES = (
    "write to maria.lopez@example.org",
    "card 4111 1111 1111 1111",
    "call +1 415-555-0132",
    "IBAN DE89 3704 0044 0532 0130 00",
    "ssn 536-22-1234",
    "host 192.168.10.12",
    "see https://intranet.example.com/people/42",
    "wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    "NHS number 943 476 5919",
    "cc jane@corp.example.co.uk",
)


def with_entities(size: int, seed: int = 7) -> str:
    """``size`` characters of prose with 10 entities per 2 KB, spread evenly."""
    pieces = []
    for block in range(max(1, size // 2000)):
        text = prose(2000, seed + block)
        step = 2000 // len(ENTITIES)
        parts = [
            text[i * step : (i + 1) * step - 40] + " " + e + " " for i, e in enumerate(ENTITIES)
        ]
        pieces.append("".join(parts))
    return "".join(pieces)[:size]


def run(seconds: float) -> list[Result]:
    guard = Guard(
        Policy.from_yaml("name: bench\ninput:\n  - check: pii\n"), registry=CollectorRegistry()
    )
    check = guard.input_checks[0]
    assert isinstance(check, PiiCheck)
    engine = analyzer_engine("en", "blank")
    entities = default_entities("en", "blank")
    texts = {
        "2KB.clean": prose(2000),
        "2KB.10-entities": with_entities(2000),
        "20KB.clean": prose(20_000),
        "20KB.100-entities": with_entities(20_000),
    }
    results = []
    for name, text in texts.items():
        found = len(check.scan(text))
        results.append(
            measure(f"pii.check.{name}", lambda t=text: check.scan(t), seconds=seconds, found=found)
        )
        results.append(
            measure(f"pii.engine.{name}", lambda t=text: guard.check_input(t), seconds=seconds)
        )
        presidio = len(engine.analyze(text, language="en", entities=entities))
        results.append(
            measure(
                f"presidio.{name}",
                lambda t=text: engine.analyze(t, language="en", entities=entities),
                seconds=seconds,
                warmup=5,
                found=presidio,
            )
        )
    return results
