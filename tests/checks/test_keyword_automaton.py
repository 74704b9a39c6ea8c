"""The keyword automaton against the regex matcher it replaced (tests/checks/
keyword_reference.py): the same matches, spans and pending tails on random folded texts
with gaps, long runs, control characters between and inside words, word characters
touching terms, punctuation and non-ASCII terms; and its load time at scale."""

from __future__ import annotations

import functools
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.checks._keyword_automaton import KeywordAutomaton
from guard.checks._keywords import KEYWORD_GAP, fold_term
from guard.checks.rules import RuleSpec
from tests.checks.keyword_reference import ReferenceMatcher

#: Folded term -> whole word. Prefixes of each other, overlapping, loose, punctuation.
TERMS = {
    "self destruct sequence": True,
    "self destruct": True,
    "destruct": True,
    "zork": False,
    "ab cd": False,
    "c++": True,
    "#tag": True,
    "café noir": True,
    "top secret plan": True,
    "top secret": True,
    "how to build": True,
    "build a bomb": True,
    "a bomb": True,
}
RULES = {
    term: RuleSpec(name=f"t{n}", keywords=[term], whole_word=whole)
    for n, (term, whole) in enumerate(TERMS.items())
}
TERM_OF = {rule.name: term for term, rule in RULES.items()}
PIECES = [*TERMS, "self", "destruc", "sequenc", "zorkmid", "xzork", "abc", "cd", "c+", "tag",
          "café", "noir", "top", "secret", "plan", "how", "to", "build", "a", "bomb", "x",
          "the", "_", "9", ",", "!", "+", "#"]  # fmt: skip
SEPARATORS = [" ", " ", " ", "", "  ", "\n", "\t ", "\x00", "\x1b\x00", "\x00 ", " \x00",
              " " * KEYWORD_GAP, " " * (KEYWORD_GAP + 1), "\x00" * (KEYWORD_GAP + 1), "-"]  # fmt: skip


@functools.cache
def _built() -> tuple[KeywordAutomaton, ReferenceMatcher]:
    return KeywordAutomaton(RULES.items()), ReferenceMatcher(TERMS)


@pytest.fixture
def automaton() -> KeywordAutomaton:
    return _built()[0]


@pytest.fixture
def reference() -> ReferenceMatcher:
    return _built()[1]


def text_from(rng: random.Random, pieces: int, controls_inside: float) -> str:
    out = []
    for _ in range(pieces):
        piece = rng.choice(PIECES)
        while controls_inside and rng.random() < controls_inside:
            at = rng.randrange(len(piece) + 1)
            piece = piece[:at] + rng.choice(["\x00", "\x07\x07"]) + piece[at:]
        out.append(piece + rng.choice(SEPARATORS))
    return "".join(out)


def compare(automaton: KeywordAutomaton, reference: ReferenceMatcher, text: str) -> None:
    found = [(s, e, TERM_OF[rule.name]) for s, e, rule in automaton.find(text, 0)]
    assert found == reference.find(text), ascii(text)
    assert automaton.pending(text, 0) == reference.pending(text), ascii(text)


@pytest.mark.parametrize("seed", range(300))
def test_same_matches_and_pending_tails_as_the_regex_matcher(
    automaton: KeywordAutomaton, reference: ReferenceMatcher, seed: int
) -> None:
    rng = random.Random(seed)
    text = text_from(rng, rng.randint(1, 10), rng.choice([0.0, 0.0, 0.2, 0.7]))
    compare(automaton, reference, text)
    for cut in sorted(rng.sample(range(len(text) + 1), min(4, len(text) + 1))):
        compare(automaton, reference, text[:cut])  # a stream's text so far


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=8),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=8, max_size=8),
)
def test_same_matches_hypothesis(pieces: list[str], separators: list[str]) -> None:
    automaton, reference = _built()
    compare(automaton, reference, "".join(p + s for p, s in zip(pieces, separators, strict=False)))


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("h\x00ow\x00to\x00build", "how to build"),  # controls for spaces and inside words
        ("how\x00to b\x00uild", "how to build"),
        ("self\x00de\x07struct", "self destruct"),
        ("self\n\x00 destruct", "self destruct"),
    ],
)
def test_control_characters_read_as_spaces_and_as_nothing_at_once(
    automaton: KeywordAutomaton, reference: ReferenceMatcher, text: str, term: str
) -> None:
    # A reading per text (all controls as spaces, or all as nothing) missed these.
    assert [TERM_OF[rule.name] for _, _, rule in automaton.find(text, 0)] == [term]
    compare(automaton, reference, text)


def test_a_term_several_rules_list_reports_the_strictest() -> None:
    warn = RuleSpec(name="w", keywords=["ban"], action="warn", whole_word=False)
    block = RuleSpec(name="b", keywords=["ban"], action="block")
    automaton = KeywordAutomaton([("ban", warn), ("ban", block)])
    assert [r.name for _, _, r in automaton.find("a ban", 0)] == ["b"]
    # Inside a word only the loose listing applies.
    assert [r.name for _, _, r in automaton.find("banana", 0)] == ["w"]


def test_terms_differing_only_in_spaces_are_distinct() -> None:
    joined = RuleSpec(name="j", keywords=["foobar"], action="warn")
    spaced = RuleSpec(name="s", keywords=["foo bar"], action="block")
    automaton = KeywordAutomaton([("foobar", joined), ("foo bar", spaced)])
    assert [r.name for _, _, r in automaton.find("foobar", 0)] == ["j"]
    assert [r.name for _, _, r in automaton.find("foo  bar", 0)] == ["s"]
    assert [r.name for _, _, r in automaton.find("foo\x00bar", 0)] == ["s"]  # strictest reading


def test_control_characters_in_a_term_are_dropped() -> None:
    assert fold_term("Lau\x00nch\tCODES") == "launch codes"
    assert fold_term("\x00\x07") == ""


def _terms(count: int) -> list[str]:
    rng = random.Random(count)
    syllables = "ka lo mi ra tu ve zo pe ni sa do gu fe ha ji".split()
    found: set[str] = set()
    while len(found) < count:
        found.add(" ".join("".join(rng.choices(syllables, k=3)) for _ in range(2)))
    return sorted(found)


def test_ten_thousand_terms_load_fast_and_scan_like_a_hundred() -> None:
    # The regex alternation took 35-57 s to compile 10,000 terms; the automaton ~0.1 s
    # (generous bound for a loaded CI machine).
    big, small = _terms(10_000), _terms(100)
    # CPU time of this thread: wall time also counts other processes (10.8 s was
    # measured so in a full run under load, against the 5 s bound).
    started = time.thread_time()
    many = KeywordAutomaton((t, RuleSpec(name="big", keywords=[t])) for t in big)
    assert time.thread_time() - started < 5
    few = KeywordAutomaton((t, RuleSpec(name="few", keywords=[t])) for t in small)
    text = " ".join(random.Random(3).choices(PIECES, k=400)) + " " + big[5000]
    assert [r.name for _, _, r in many.find(text, 0)] == ["big"]

    def seconds(automaton: KeywordAutomaton) -> float:
        # CPU time of this thread, as above.
        started = time.thread_time()
        for _ in range(20):
            automaton.find(text, 0)
        return time.thread_time() - started

    ratio = min(seconds(many) for _ in range(3)) / min(seconds(few) for _ in range(3))
    assert ratio < 3  # one pass whatever the number of terms (alternation: ~100x)
