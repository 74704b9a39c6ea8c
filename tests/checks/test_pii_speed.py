"""What makes the pii check fast, each piece checked against what it replaces.

The prefilter rewrites, the run-start URL scan, the digit-run bounds and the stream
shortcut must find exactly what the plain regexes and a full rescan find; and the work
they save must stay saved (patterns that cannot match are not run at all).
"""

from __future__ import annotations

import random
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from guard import Guard
from guard.checks import _pii_recognizers
from guard.checks._pii_holdback import holdback, holdback_walk
from guard.checks._pii_holdback_names import as_read
from guard.checks._pii_patterns import min_digit_run
from guard.checks._pii_prefilter import (
    _DOT_WORD,
    _IBAN_START,
    _IP_HINT,
    _MAC_HINT,
    TOKEN_ANCHORS,
    Signals,
)
from guard.checks._pii_recognizers import _PHONE_RUN, PatternSpec
from guard.checks._pii_text import _DIGIT_RUN, _ODD_SEPARATOR, _odd_runs, plain_view
from guard.checks._pii_windows import (
    _TOKEN_LIMIT,
    WHITESPACE,
    WINDOW_JOIN,
    Edges,
    windows_around,
)
from guard.checks.pii import _TRIGGER, PiiCheck
from guard.engine import text_call, text_reply

PII = "name: t\ninput:\n  - check: pii\noutput:\n  - check: pii\n    action: mask\n"


@pytest.fixture
def check(make_guard: Callable[..., Guard]) -> PiiCheck:
    found = make_guard(PII).input_checks[0]
    assert isinstance(found, PiiCheck)
    return found


@pytest.fixture
def pattern_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts, per entity, the patterns run on a text."""
    runs: Counter[str] = Counter()
    original = PatternSpec.matches

    def counting(self: PatternSpec, text: str) -> object:
        runs[self.entity] += 1
        return original(self, text)

    monkeypatch.setattr(_pii_recognizers.PatternSpec, "matches", counting)
    yield runs


def _random_texts(alphabet: list[str], count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))


# -- the work saved ----------------------------------------------------------------------


def test_prose_with_sentences_runs_no_pattern(check: PiiCheck, pattern_runs: Counter[str]) -> None:
    prose = "The quick brown fox jumps over the lazy dog. Then it rests: a well-known end. " * 30
    assert check.scan(prose) == []
    assert pattern_runs == Counter()


def test_patterns_needing_long_digit_runs_are_not_run(
    check: PiiCheck, pattern_runs: Counter[str]
) -> None:
    """Cards and phone numbers in groups of four: no run of seven digits, so the medical
    licence, Spanish, Singapore and US passport/bank patterns cannot match."""
    text = "card 4111 1111 1111 1111, call +1 415-555-0132, ssn 536-22-1234. " * 5
    kinds = {f.kind for f in check.scan(text)}
    assert kinds == {"CREDIT_CARD", "PHONE_NUMBER", "US_SSN"}
    for entity in ("MEDICAL_LICENSE", "ES_NIF", "ES_NIE", "SG_NRIC_FIN", "US_BANK_NUMBER"):
        assert pattern_runs[entity] == 0, entity
    assert pattern_runs["CREDIT_CARD"] > 0


def test_weak_patterns_run_only_with_a_context_word(
    check: PiiCheck, pattern_runs: Counter[str]
) -> None:
    check.scan("order A1234567 shipped")
    assert pattern_runs["US_DRIVER_LICENSE"] == 0
    check.scan("driver license A1234567 issued")
    assert pattern_runs["US_DRIVER_LICENSE"] > 0


def test_clean_prose_streams_without_running_the_detector(
    make_guard: Callable[..., Guard], monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = make_guard(PII)
    output = guard.output_checks[0]
    assert isinstance(output, PiiCheck)
    finds: list[int] = []
    original = output._detector.find

    def counting(text: str, answers: object = None) -> object:
        finds.append(1)
        return original(text, answers)  # type: ignore[arg-type]

    monkeypatch.setattr(output._detector, "find", counting)
    session = guard.stream(text_call("q"))
    text = "The quick brown fox jumps over the lazy dog. Note: it sleeps.\n" * 20
    released = [session.feed("t", text[i : i + 7]) for i in range(0, len(text), 7)]
    released.append(session.flush("t"))
    assert "".join(released) == text
    assert len(finds) <= 1  # the final window only


# -- the same findings -------------------------------------------------------------------

STREAM_ATOMS = [
    "maria@example.org", "@", ".", ". ", ".\n", ": ", "Note:", "example", ".com", "4111",
    " 1111", "4 1 1 1", "+1 ", "415", "-555-", "0132", "DE89 3704 0044 0532 0130 00",
    "536-22-1234", " ", "\n", "192.168.", "10.12", "https://", "intranet.example.com/p",
    "fe80::1", "::", "de:ad:be:ef:00:01", "．", "：", "\u200b", "４", "é", "x", ",",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_the_stream_shortcut_changes_nothing(make_guard: Callable[..., Guard], seed: int) -> None:
    """Skipping the rescan when the releasable text cannot end an entity gives the same
    stream as rescanning after every chunk."""
    rng = random.Random(seed)
    text = "".join(rng.choice(STREAM_ATOMS) for _ in range(rng.randint(1, 50)))
    sizes = [rng.choice((1, 2, 3, 5, 8, 13)) for _ in range(len(text))]
    outputs = []
    for skippable in (True, False):
        guard = make_guard(PII)
        output = guard.output_checks[0]
        assert isinstance(output, PiiCheck)
        output._skippable = skippable
        session = guard.stream(text_call("q"))
        released, position = [], 0
        for size in sizes:
            if position >= len(text):
                break
            released.append(session.feed("t", text[position : position + size]))
            position += size
        released.append(session.flush("t"))
        decision = session.close()
        outputs.append(
            ("".join(released), sorted((f.kind, f.start, f.end) for f in decision.findings))
        )
    assert outputs[0] == outputs[1]


def test_url_pattern_at_run_starts_finds_what_finditer_finds(check: PiiCheck) -> None:
    spec = next(s for s in _pii_recognizers_specs(check) if s.runs is not None)
    pieces = ["example", ".com", ".co", ".uk", ".community", "www", "www1.", "-", ".", "a",
              "9", "/path", " ", "@", "\n", "COM", ".Org", "x" * 260, "(", "'", "://"]  # fmt: skip
    for text in _random_texts(pieces, 3000, seed=5):
        assert [m.span() for m in spec.matches(text)] == [
            m.span() for m in spec.pattern.finditer(text)
        ], text


def _pii_recognizers_specs(check: PiiCheck) -> list[PatternSpec]:
    return [spec for _, _, keyed in check._detector._entities for spec, _ in keyed]


def test_min_digit_run_is_a_lower_bound() -> None:
    assert min_digit_run(r"\b[0-9]{8,17}\b") == 8
    assert min_digit_run(r"\b([0-9]{3})[- ]?([0-9]{3})[- ]?([0-9]{4})\b") == 4
    assert min_digit_run(r"[A-Z]{2}\d{7}|[a-z]9\d{7}") == 7
    assert min_digit_run(r"\d{3}(?:|\d\d)\d{3}") == 6
    assert min_digit_run(r"a?\d{4}|\d\d") == 2
    assert min_digit_run(r"(\d\d)+x") == 2
    assert min_digit_run(r"\p{Nd}{9}") == 0  # not re's syntax: no bound
    rng = random.Random(3)
    for _ in range(300):
        pattern = "".join(rng.choice([r"\d", "[0-9]", "a", "-?", r"\d{2,3}", "(?:1|22)", r"\s"])
                          for _ in range(rng.randint(1, 8)))  # fmt: skip
        compiled = re.compile(pattern)
        bound = min_digit_run(pattern)
        for text in _random_texts(["1", "2", "a", "-", " ", "22"], 40, rng.randint(0, 99)):
            for match in compiled.finditer(text):
                runs = [len(r) for r in re.findall(r"\d+", match.group())] or [0]
                assert max(runs) >= bound, (pattern, match.group())


def test_prefilter_rewrites_find_the_same_tokens() -> None:
    """The prefilter patterns start with one character class; they must hit the same
    tokens (and, for phone candidates, the same spans) as the plain patterns."""
    plain = {
        "phone": re.compile(r"\+?\(?\d(?:[ \-.()/]{0,3}\d){6,}"),
        "dot": re.compile(r"[A-Za-z0-9]\.[A-Za-z]{2}|://"),
        "iban": re.compile(r"[A-Za-z]{2}\d{2}"),
        "ip": re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]|::"),
        "mac": re.compile(r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"),
        # Presidio's NINO pattern from its letters to its final letter.
        "nino": re.compile(r"[A-Za-z]{2}\s?\d{2} ?\d{2} ?\d{2} ?[A-Za-z]"),
        "digit run": re.compile(r"(?:[+(]\s?)?\d+(?:[\s.\-_/·()‐‑‒–—−]{1,3}\d+)+"),
        "odd": re.compile(r"\d[.·_/‐‑‒–—−]\d|\d\s\d\s\d\s\d"),
    }
    rewritten = {
        "phone": _PHONE_RUN, "dot": _DOT_WORD, "iban": _IBAN_START, "ip": _IP_HINT,
        "mac": _MAC_HINT, "nino": TOKEN_ANCHORS["UK_NINO"][0], "digit run": _DIGIT_RUN,
        "odd": _ODD_SEPARATOR,
    }  # fmt: skip
    exact = {"phone", "digit run", "odd"}

    def tokens(pattern: re.Pattern[str], text: str) -> set[int]:
        return {text.rfind(" ", 0, m.start()) for m in pattern.finditer(text)}

    alphabet = list("0123456789abAF:.-/+( \nxyz·_")
    for text in _random_texts(alphabet, 20_000, seed=2):
        for name, pattern in plain.items():
            new = rewritten[name]
            if name in exact:
                assert [m.span() for m in pattern.finditer(text)] == [
                    m.span() for m in new.finditer(text)
                ], (name, text)
            else:
                assert (pattern.search(text) is None) == (new.search(text) is None), (name, text)
                if name not in ("ip", "nino"):
                    assert tokens(pattern, text) == tokens(new, text), (name, text)


def test_odd_runs_are_the_runs_with_an_odd_separator() -> None:
    alphabet = ["1", "23", "4567", " ", ".", "·", "-", "_", "/", "(", ")", "+", "a", "x ",
                "  ", "\n", "–", "5 6 7 8"]  # fmt: skip
    for text in _random_texts(alphabet, 20_000, seed=9):
        want = [m.span() for m in _DIGIT_RUN.finditer(text) if _ODD_SEPARATOR.search(m.group())]
        assert [m.span() for m in _odd_runs(text)] == want, text


def test_whitespace_positions_match_the_regex() -> None:
    assert set(WHITESPACE) | {" "} == {chr(c) for c in range(0x110000) if chr(c).isspace()}
    for text in _random_texts(list("ab \n\t\u3000\xa0\u2028x"), 5000, seed=3):
        assert Edges(text).spaces == [m.start() for m in re.finditer(r"\s", text)]


def test_views_hold_ascii_digits_only() -> None:
    """The prefilter looks for digits with substring searches for 0-9 (no regex pass):
    every decimal digit of any script must reach a view as its ASCII digit."""
    digits = "".join(chr(c) for c in range(0x110000) if re.match(r"\d", chr(c)))
    view = plain_view("x" + digits).text
    assert all(c in "0123456789" for c in view[1:]), {c for c in view if not c.isascii()}
    assert Signals.read(view).max_digits > 0


def test_a_complete_reply_is_checked_like_before(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(PII)
    reply = "Mail maria@example.org. Note: host fe80::1 and 192.168.10.12; see example.com."
    decision = guard.after(text_call("q"), text_reply(reply))
    assert sorted(f.kind for f in decision.findings) == [
        "EMAIL_ADDRESS", "IP_ADDRESS", "IP_ADDRESS", "URL",
    ]  # fmt: skip


def test_the_fast_holdback_is_the_walk() -> None:
    """The C-string fast paths of ``holdback`` hold exactly what the walk holds: words,
    capitals, digits, spaces, tabs, line breaks, non-ASCII and invisible characters.
    (The check holds a capitalised run on top of it: ``name_holdback``.)"""
    alphabet = [*"abcXYZ019 \t\n.@-+:/é\u200b\xa0", "NHS", "DE89", "word", "  ", "   "]
    rng = random.Random(5)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        # The walk reads the text as the check does (no-break spaces are spaces).
        assert holdback(text, ner=False) == holdback_walk(as_read(text), ner=False), repr(text)
    long_word = "x" * 80 + "1" + "y" * 70
    for text in (long_word, long_word + " ", "a" * 300, "The quick brown fo"):
        assert holdback(text, ner=False) == holdback_walk(text, ner=False), text


def test_the_trigger_starts_with_one_character_class() -> None:
    """The trigger regex (one class first, so ``re`` skips in C) finds what the plain
    alternation finds."""
    plain = re.compile(r"[\d@＠﹫]|[.:．：](?!\s)")
    rng = random.Random(3)
    alphabet = list("ab .:\n1@．：x\t٣")
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        found, expected = _TRIGGER.search(text), plain.search(text)
        assert (found and found.start()) == (expected and expected.start()), repr(text)


def test_prose_deltas_go_out_through_the_learnt_envelope(
    make_guard: Callable[..., Guard], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pii hold-back changes almost every 8-character delta of prose (the word being
    written waits for the next one): the stream filter must still learn the delta's
    envelope from such an event, or it parses and re-serialises every event's JSON
    (``strict`` streamed 0.37x the default's throughput)."""
    from bench.streaming import openai_events
    from guard.formats import _stream, get

    parsed = []
    original = _stream.event_payload

    def counting(data: str | None) -> object:
        parsed.append(data)
        return original(data)

    monkeypatch.setattr(_stream, "event_payload", counting)
    guard = make_guard(PII)
    text = "The quick brown fox jumps over the lazy dog. " * 12
    fmt = get("openai.chat")
    body = b'{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
    stream = fmt.stream_filter(fmt.parse_request(body), guard)
    for event in openai_events(text):
        stream.feed(event)
    stream.close()
    assert stream.reply.text == text
    assert len(parsed) < 10, f"{len(parsed)} of {len(openai_events(text))} events parsed"


def _walk_left(edges: Edges, at: int, tokens: int) -> int:
    """The readable token walk ``windows_around`` writes out: the start of the token at
    ``at`` and of ``tokens`` tokens before it, each behind up to two white spaces."""
    spaces = edges.spaces
    index = bisect_right(spaces, at - 1) - 1
    start = spaces[index] + 1 if index >= 0 else 0
    for _ in range(tokens):
        gap = 0
        while index >= 0 and spaces[index] == start - 1 and gap < 2:
            start, index, gap = start - 1, index - 1, gap + 1
        if gap == 0 or (index >= 0 and spaces[index] == start - 1):
            break
        start = spaces[index] + 1 if index >= 0 else 0
    return max(start, at - _TOKEN_LIMIT * (tokens + 1))


def _walk_right(edges: Edges, at: int, tokens: int) -> int:
    """:func:`_walk_left` to the right."""
    spaces = edges.spaces
    index = bisect_left(spaces, at)
    end = spaces[index] if index < len(spaces) else edges.length
    for _ in range(tokens):
        gap = 0
        while index < len(spaces) and spaces[index] == end and gap < 2:
            end, index, gap = end + 1, index + 1, gap + 1
        if gap == 0 or (index < len(spaces) and spaces[index] == end):
            break
        end = spaces[index] if index < len(spaces) else edges.length
    return min(end, at + _TOKEN_LIMIT * (tokens + 1))


@pytest.mark.parametrize(("before", "after"), [(0, 0), (2, 2), (0, 9), (1, 3)])
def test_windows_are_the_edges_walk(before: int, after: int) -> None:
    """``windows_around`` writes the token walk out (and skips it for no neighbouring
    tokens): the same windows as the walk, the 256-character cut of long tokens and runs
    of white space included."""
    rng = random.Random(8)
    pieces = ["ab", "c", " ", "  ", "   ", "\n", "\t", "x" * 300, "@", "1"]
    for text in _random_texts(pieces, 3000, seed=4):
        if not text:
            continue
        spans = sorted(
            (start, min(len(text), start + rng.randint(1, 3)))
            for start in rng.sample(range(len(text)), min(len(text), rng.randint(1, 6)))
        )
        spans = [s for i, s in enumerate(spans) if i == 0 or s[0] >= spans[i - 1][1]]
        edges = Edges(text)
        expected: list[list[int]] = []
        for start, end in spans:
            left, right = _walk_left(edges, start, before), _walk_right(edges, end, after)
            if (expected and start <= expected[-1][1]) or (expected and left <= expected[-1][1]):
                expected[-1][1] = max(expected[-1][1], right)
            else:
                expected.append([left, right])
        found = windows_around(text, spans, tokens=before, right=after, edges=edges)
        assert found.text == WINDOW_JOIN.join(text[s:e] for s, e in expected), (text, spans)
        assert [original for _, original in found.starts] == [s for s, _ in expected]


def test_window_positions_map_back_like_position() -> None:
    text = "alpha 12 beta 345 gamma 6789 delta " * 20
    spans = [m.span() for m in re.finditer(r"\d+", text)]
    part = windows_around(text, spans, tokens=1)
    inner = [m.span() for m in re.finditer(r"\d+", part.text)]
    assert part.positions(inner) == [(part.position(s), part.position(s) + e - s) for s, e in inner]
    assert part.positions(inner) == spans


def test_a_value_repeated_in_one_text_is_validated_once_per_call(
    check: PiiCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[str] = []
    original = PatternSpec.score_of

    def counting(self: PatternSpec, matched: str) -> float:
        validated.append(matched)
        return original(self, matched)

    monkeypatch.setattr(_pii_recognizers.PatternSpec, "score_of", counting)
    text = "mail maria@example.org or maria@example.org; card 4111 1111 1111 1111."
    first = [(f.kind, f.start, f.end) for f in check.scan(text)]
    assert [kind for kind, _, _ in first] == ["EMAIL_ADDRESS", "EMAIL_ADDRESS", "CREDIT_CARD"]
    # Each value once (the domain is also a URL candidate).
    assert sorted(validated) == ["4111 1111 1111 1111", "example.org", "maria@example.org"]
    assert [(f.kind, f.start, f.end) for f in check.scan(text)] == first
    assert len(validated) == 6  # the next call validates again: nothing kept


def test_long_tokens_and_their_anchors_are_the_regex_ones() -> None:
    """Long tokens are read from the token lengths; the wallet anchor is looked for in
    them only: the same tokens as ``(?<!\\S)\\S{n,}``, the same anchors as a pass over
    the whole text."""
    anchor = TOKEN_ANCHORS["CRYPTO"][0]
    pieces = [
        "1Boat",
        "SLRHtKNngkdXEeob",
        "R76b53LETtpyT",
        "b",
        "3",
        " ",
        "  ",
        "\n",
        "é",
        "x" * 20,
    ]
    for text in _random_texts(pieces, 3000, seed=12):
        edges = Edges(text)
        for length in (1, 16, 26):
            long = re.compile(rf"(?<!\S)\S{{{length},}}")
            assert edges.long_tokens(length) == [m.span() for m in long.finditer(text)], text
        in_tokens = [
            m.span() for s, e in edges.long_tokens(26) for m in anchor.finditer(text, s, e)
        ]
        assert in_tokens == [m.span() for m in anchor.finditer(text)], text
