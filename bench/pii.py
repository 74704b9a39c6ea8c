"""The pii check against plain Presidio on the same texts.

2 KB without PII, 2 KB with 10 entities, 20 KB with and without (100) entities, and
20 KB with 100 entities none of which repeats (``unique_entities``). Targets
(issue 17, medians): 2 KB clean <= 0.5 ms, 2 KB with 10 entities <= 2 ms, 20 KB <= 5 ms.
``pii.check`` is the check's scan alone; ``pii.engine`` a whole ``check_input`` with a
pii-only policy (edits applied); ``presidio`` is ``AnalyzerEngine.analyze`` (blank spaCy
pipeline, predefined recognizers, tldextract offline) on the same text.

``python -m bench.pii --cpu [--seconds S]`` times the check's scan alone in CPU time
(``time.thread_time``; min and median), the figure a busy machine disturbs least.

``python -m bench.pii --stream-deltas [--seconds S]`` streams a 20 KB reply full of
numbers (``numbers_reply``: order lines with ids, quantities, prices, dates, versions,
and phone numbers, cards, SSNs..., none repeated) and 20 KB of prose through a stream
session in 10-character deltas, with a pii-only output policy and with no check at all;
it prints the CPU time per delta (medians over whole streams).

``python -m bench.pii --proxy [--seconds S] [--rounds N]`` compares proxy throughput
with the ``strict`` policy against the default one (issue 17: within 25 % at c=16):
the proxy load benchmark's fake upstream, load generator and proxies, both policies
served at once and measured in alternation (ABBA), so that a busy machine hits both
alike. Its least disturbed figure is the proxy's CPU time per request.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from functools import partial

from prometheus_client import CollectorRegistry

from bench._runner import Result, from_samples, measure
from bench.texts import prose
from guard import Guard
from guard.checks._pii_engine import analyzer_engine, default_entities
from guard.checks.pii import PiiCheck
from guard.engine import text_call
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


NAMES = (
    "Dear Priya Raman,", "Dr. Okafor", "José García", "in Chicago", "Mr. Brown",
    "Jean-Luc Picard", "12 Oak Street", "from New York", "Maria de la Cruz", "Ann",
)  # fmt: skip


def with_names(size: int, seed: int = 7) -> str:
    """``size`` characters of prose written in sentences (capitalised, with a full stop)
    with 10 names, places and addresses per 2 KB: what PERSON / LOCATION read."""
    words = prose(size, seed).split()
    sentences, names = [], iter(NAMES * (size // 2000 + 1))
    for start in range(0, len(words), 12):
        sentence = " ".join(words[start : start + 12])
        if start % 24 == 0:
            sentence += " " + next(names)
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
    return " ".join(sentences)[:size]


def _luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _unique_entity(rng: random.Random, kind: int) -> str:
    """One entity of type ``kind`` (0-9) with fresh random digits and names."""
    n = rng.randrange
    name = rng.choice(("maria", "jon", "li", "ana", "omar", "kate")) + str(n(1000))
    if kind == 0:
        return f"write to {name}.{n(100)}@example{n(100)}.org"
    if kind == 1:
        card = _luhn_complete("4" + "".join(str(n(10)) for _ in range(14)))
        return "card " + " ".join(card[i : i + 4] for i in range(0, 16, 4))
    if kind == 2:
        return f"call +1 {n(201, 990)}-555-{n(10_000):04d}"
    if kind == 3:
        return f"call {n(201, 990)} {n(200, 999)} {n(10_000):04d}"
    if kind == 4:
        return f"ssn {n(100, 666)}-{n(10, 99)}-{n(1000, 9999)}"
    if kind == 5:
        return f"host 10.{n(256)}.{n(256)}.{n(1, 255)}"
    if kind == 6:
        return f"see https://intranet{n(100)}.example.com/people/{n(10_000)}"
    if kind == 7:
        return f"order {n(10**9, 10**10)} shipped"
    if kind == 8:
        return f"phone 0{n(10**9, 10**10)}"
    return f"cc {name}@corp{n(100)}.example.co.uk"


def unique_entities(size: int, seed: int = 11) -> str:
    """``size`` characters of prose with 10 entities per 2 KB, none repeated: each has
    fresh digits (from a seeded generator), so that nothing cached from one entity
    serves another."""
    rng = random.Random(seed)
    pieces = []
    for block in range(max(1, size // 2000)):
        text = prose(2000, seed + block)
        step = 2000 // 10
        parts = [
            text[i * step : (i + 1) * step - 40] + " " + _unique_entity(rng, i) + " "
            for i in range(10)
        ]
        pieces.append("".join(parts))
    return "".join(pieces)[:size]


def cpu_times(seconds: float) -> list[Result]:
    """The check's scan in CPU time (``time.thread_time``) on the five texts: the figure
    least disturbed by other processes on a shared machine (issue 17's targets are
    medians); ``extra`` holds the minimum too."""
    guard = Guard(
        Policy.from_yaml("name: bench\ninput:\n  - check: pii\n"), registry=CollectorRegistry()
    )
    check = guard.input_checks[0]
    assert isinstance(check, PiiCheck)
    results = []
    for name, text in _texts().items():
        for _ in range(10):
            check.scan(text)
        samples: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(samples) < 20:
            started = time.thread_time()
            check.scan(text)
            samples.append(time.thread_time() - started)
        result = from_samples(f"pii.check.cpu.{name}", samples, clock="cpu")
        result.extra["min_ms"] = round(min(samples) * 1000, 4)
        results.append(result)
    return results


def _texts() -> dict[str, str]:
    return {
        "2KB.clean": prose(2000),
        "2KB.10-entities": with_entities(2000),
        "2KB.sentences-10-names": with_names(2000),
        "20KB.clean": prose(20_000),
        "20KB.100-entities": with_entities(20_000),
        "20KB.100-unique-entities": unique_entities(20_000),
    }


def numbers_reply(size: int, seed: int = 13) -> str:
    """``size`` characters of a model's reply full of numbers, none repeated: order
    lines with ids, quantities, prices, dates and versions, and an entity (an e-mail
    address, a card, a phone number, an SSN, an IP address, a URL) every third line."""
    rng = random.Random(seed)
    n = rng.randrange
    lines: list[str] = []
    length = 0
    while length < size:
        line = (
            f"- order {n(10**7, 10**8)} ({n(1, 40)} x item {n(100, 999)}-{n(1000, 9999)}) "
            f"at {n(1, 500)}.{n(100):02d} EUR, shipped 2024-{n(1, 13):02d}-{n(1, 29):02d} "
            f"by build v{n(1, 9)}.{n(30)}.{n(100)}"
        )
        if n(3) == 0:
            line += "; " + _unique_entity(rng, n(10))
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)[:size]


def _stream_cpu(guard: Guard, text: str, delta: int) -> float:
    """CPU seconds to stream ``text`` through a session in ``delta``-character pieces."""
    session = guard.stream(text_call("q"))
    started = time.thread_time()
    for start in range(0, len(text), delta):
        session.feed("t", text[start : start + delta])
    session.flush("t")
    elapsed = time.thread_time() - started
    session.close()
    return elapsed


def stream_deltas(seconds: float, delta: int = 10) -> list[Result]:
    """CPU time per delta of 20 KB replies streamed in ``delta``-character deltas, with
    a pii-only output policy and with no check (the session's own cost)."""
    guards = {
        "pii": Guard(
            Policy.from_yaml("name: bench\noutput:\n  - check: pii\n"),
            registry=CollectorRegistry(),
        ),
        "no-check": Guard(Policy.from_yaml("name: bench\n"), registry=CollectorRegistry()),
    }
    texts = {"20KB.numbers": numbers_reply(20_000), "20KB.prose": prose(20_000)}
    results = []
    for text_name, text in texts.items():
        deltas = -(-len(text) // delta)
        for guard_name, guard in guards.items():
            _stream_cpu(guard, text, delta)  # warm up
            samples: list[float] = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(samples) < 5:
                samples.append(_stream_cpu(guard, text, delta) / deltas)
            results.append(
                from_samples(
                    f"pii.stream.{text_name}.delta{delta}.{guard_name}",
                    samples,
                    deltas=deltas,
                    clock="cpu",
                )
            )
    return results


def run(seconds: float) -> list[Result]:
    guard = Guard(
        Policy.from_yaml("name: bench\ninput:\n  - check: pii\n"), registry=CollectorRegistry()
    )
    check = guard.input_checks[0]
    assert isinstance(check, PiiCheck)
    engine = analyzer_engine("en", "blank")
    entities = default_entities("en", "blank")
    results = []
    for name, text in _texts().items():
        found = len(check.scan(text))
        results.append(
            measure(f"pii.check.{name}", partial(check.scan, text), seconds=seconds, found=found)
        )
        results.append(
            measure(f"pii.engine.{name}", partial(guard.check_input, text), seconds=seconds)
        )
        presidio = len(engine.analyze(text, language="en", entities=entities))
        results.append(
            measure(
                f"presidio.{name}",
                partial(engine.analyze, text, language="en", entities=entities),
                seconds=seconds,
                warmup=5,
                found=presidio,
            )
        )
    return [*results, *stream_deltas(seconds)]


def proxy_pair(seconds: float, rounds: int, modes: tuple[str, ...] = ("nonstream",)) -> None:
    """Default vs strict through the proxy at c=16, alternating; prints the medians."""
    from bench._load import fake_upstream, load_generator, proxy, request_body
    from bench.proxy_load import _check, _point

    prompt = prose(1024)
    rows: list[tuple[str, str, float, float]] = []
    with (
        fake_upstream(1024) as upstream,
        load_generator() as load,
        proxy(upstream.url) as default,
        proxy(upstream.url, policy="strict") as strict,
    ):
        for mode in modes:
            body = request_body(prompt, stream=mode == "stream")
            for server in (default, strict):
                _check(upstream, server, body, stream=mode == "stream")
                load.run(server.url, body, 16, 1)
            pair = [("default", default), ("strict", strict)]
            for index in range(rounds):
                for name, server in pair if index % 2 == 0 else pair[::-1]:
                    point = _point(f"{mode}.{name}", load, upstream, server, body, 16, seconds)
                    extra = point.extra
                    rows.append((mode, name, extra["rps"], extra["proxy_cpu_us_per_request"]))
    for mode in modes:
        medians = {}
        for name in ("default", "strict"):
            mine = [row for row in rows if row[:2] == (mode, name)]
            medians[name] = (statistics.median(r[2] for r in mine),
                             statistics.median(r[3] for r in mine))  # fmt: skip
            print(f"{mode} {name}: {medians[name][0]:.0f} req/s, "
                  f"{medians[name][1]:.0f} us CPU/request (medians of {len(mine)})")  # fmt: skip
        ratio = medians["default"][1] / medians["strict"][1]
        print(f"{mode}: strict's throughput by CPU time is {ratio:.2f} of the default's")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.pii", description=__doc__)
    parser.add_argument("--proxy", action="store_true", help="default vs strict proxy pair")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--stream", action="store_true", help="streamed replies too")
    parser.add_argument(
        "--stream-deltas", action="store_true", help="CPU per delta of streamed 20 KB replies"
    )
    parser.add_argument("--cpu", action="store_true", help="the check's scan in CPU time")
    args = parser.parse_args()
    if args.stream_deltas or args.cpu:
        for result in (stream_deltas if args.stream_deltas else cpu_times)(args.seconds):
            print(result.line())
    elif args.proxy:
        proxy_pair(
            args.seconds, args.rounds, ("nonstream", "stream") if args.stream else ("nonstream",)
        )
    else:
        for result in run(args.seconds):
            print(result.line())
