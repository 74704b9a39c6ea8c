"""The rules check: keywords and regexes, actions, normalisation and evasion."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from guard import Action, Guard
from guard.checks._keywords import KEYWORD_GAP
from guard.checks.rules import RulesCheck, RulesConfig, RuleSpec

POLICY = """\
name: t
input:
  - check: rules
    name: words
    rules:
      - name: banned
        action: block
        keywords: [forbidden phrase, launch codes]
      - name: ban-partial
        action: warn
        whole_word: false
        keywords: [zork]
      - name: hostnames
        action: redact
        replacement: "[HOST]"
        regex: '\\b[a-z0-9-]+\\.corp\\.example\\.com\\b'
        max_length: 253
"""


@pytest.fixture
def guard(make_guard: Callable[..., Guard]) -> Guard:
    return make_guard(POLICY)


@pytest.mark.parametrize(
    "text",
    [
        "tell me the forbidden phrase please",
        "TELL ME THE FORBIDDEN PHRASE",
        "the Forbidden\n  Phrase!",
        "the ｆｏｒｂｉｄｄｅｎ phrase",  # full-width
        "the forb\u200bidden phr\u200dase",  # zero-width characters
        "the f\u043erbidden phrase",  # Cyrillic o
        "the forbidden\u202e phrase",  # bidi override
        "launch codes: 1234",
    ],
)
def test_keyword_hits_and_evasions_block(guard: Guard, text: str) -> None:
    decision = guard.check_input(text)
    assert decision.action is Action.BLOCK
    assert decision.findings[0].rule == "banned"


@pytest.mark.parametrize(
    "text",
    [
        "a forbidden phrasebook",  # whole word: no match inside a longer word
        "unforbidden phrase",
        "forbidden, not a phrase",
        "launch code",
        "",
    ],
)
def test_near_misses_are_allowed(guard: Guard, text: str) -> None:
    assert guard.check_input(text).action is Action.ALLOW


def test_partial_words_when_whole_word_is_off(guard: Guard) -> None:
    decision = guard.check_input("zorkmid")
    assert decision.action is Action.WARN
    assert decision.findings[0].rule == "ban-partial"


def test_redaction_edits_original_characters(guard: Guard) -> None:
    from guard.engine import text_call

    call = text_call("ping db1.corp.example.com and ＷＥＢ.corp.example.com now")
    decision = guard.before(call)
    assert decision.action is Action.REDACT
    assert call.segments[0].text == "ping [HOST] and [HOST] now"


def test_finding_spans_point_into_original_text(guard: Guard) -> None:
    text = "x \u200bforbidden phrase y"
    finding = guard.check_input(text).findings[0]
    # From the first folded character to the next one: a leading zero-width space stays,
    # a dropped character after the last letter (its combining marks) goes with it.
    assert (finding.start, finding.end) == (3, 19)
    assert text[finding.start : finding.end] == "forbidden phrase"
    marked = "x forbidden phrase\u0301\u200b y"
    finding = guard.check_input(marked).findings[0]
    assert marked[finding.start : finding.end] == "forbidden phrase\u0301\u200b"


def test_strictest_verdict_wins_and_findings_accumulate(guard: Guard) -> None:
    decision = guard.check_input("zork at db.corp.example.com: forbidden phrase")
    assert decision.action is Action.BLOCK
    assert {f.rule for f in decision.findings} == {"banned", "ban-partial", "hostnames"}


def test_holdback_covers_a_pending_keyword(guard: Guard) -> None:
    check = guard.input_checks[0]
    assert check.holdback("this is the forbid") >= len("forbid")  # type: ignore[attr-defined]
    assert check.holdback("this is the forbidden ") >= len("forbidden ")  # type: ignore[attr-defined]


def test_regex_holdback_is_the_width_derived_from_the_pattern(
    make_guard: Callable[..., Guard],
) -> None:
    # core-review D6: the hold-back was the declared max_length (64 by default) whatever
    # the regex could match; it is now the pattern's own width, in folded characters.
    guard = make_guard(
        "output:\n  - check: rules\n    rules:\n"
        "      - {name: id, action: redact, regex: '[0-9]{3}-[a-z]{2,40}'}\n"
        "      - name: host\n        action: redact\n"
        "        regex: '\\b[a-z0-9-]+\\.corp\\.example\\.com\\b'\n"
        "        max_length: 253\n"
    )
    id_rule, host = (RulesCheck(RulesConfig(check="rules", rules=[r])) for r in _rules(guard))
    assert id_rule.holdback("x" * 500) == 3 + 1 + 40
    assert host.holdback("x" * 500) == 253  # unbounded: the explicit cap
    # Zero-width padding does not count: 44 folded characters span 87 original ones.
    assert id_rule.holdback("\u200bx" * 500) == 2 * 44 - 1


def _rules(guard: Guard) -> list[RuleSpec]:
    check = guard.output_checks[0]
    assert isinstance(check, RulesCheck)
    return [r.rule for r in check._regexes]


def test_keyword_resolution_is_linear_in_whitespace_padding(
    make_guard: Callable[..., Guard],
) -> None:
    # core-review D3 / R2: "how" + n spaces + "to build a bombx" was quadratic (24 s at
    # 320k). A keyword's space matches at most KEYWORD_GAP white-space characters.
    guard = make_guard()

    def seconds(padding: int) -> float:
        text = "how" + " " * padding + "to build a bombx"
        started = time.perf_counter()
        assert guard.check_input(text).action is Action.ALLOW
        return time.perf_counter() - started

    seconds(1_000)  # warm up
    small = min(seconds(25_000) for _ in range(3))
    large = min(seconds(200_000) for _ in range(3))
    assert seconds(100_000) < 0.5
    # Linear: 8x the padding costs ~8x (quadratic would be 64x); generous for a busy CI.
    assert large < 24 * small + 0.005


def test_keyword_gap_is_bounded(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard("input:\n  - check: rules\n    rules:\n      - {name: b, keywords: [a b]}\n")
    assert guard.check_input("a" + " " * KEYWORD_GAP + "b").action is Action.BLOCK
    assert guard.check_input("a" + "\t\n " * 10 + "b").action is Action.BLOCK
    assert guard.check_input("a" + " " * (KEYWORD_GAP + 1) + "b").action is Action.ALLOW


def test_catastrophic_looking_keyword_list_is_linear(make_guard: Callable[..., Guard]) -> None:
    terms = ", ".join(f"term{i}" for i in range(2000))
    guard = make_guard(
        f"input:\n  - check: rules\n    rules:\n      - name: many\n        keywords: [{terms}]\n"
    )
    assert guard.check_input("nothing here " * 100).action is Action.ALLOW
    assert guard.check_input("we found term1999 here").action is Action.BLOCK

    def seconds(text: str) -> float:
        started = time.perf_counter()
        guard.check_input(text)
        return time.perf_counter() - started

    # Near misses everywhere ("term" without a number, "termx"): the cost stays linear in
    # the text, not in text x terms x retries.
    near = "term termx term_ " * 200
    seconds(near)
    small = min(seconds(near) for _ in range(3))
    large = min(seconds(near * 8) for _ in range(3))
    assert large < 24 * small + 0.005


def test_regex_holdback_only_where_a_match_could_start(make_guard: Callable[..., Guard]) -> None:
    check = make_guard(None).output_checks[0]  # default policy: secrets
    holdback = check.holdback  # type: ignore[attr-defined]
    assert holdback("A perfectly clean sentence with nothing pending.") == 0
    assert holdback("the token is s") == 1  # could become "sk-..."
    assert holdback("the token is sk-abc") == len("sk-abc")
    assert holdback("see -----BEGIN") == len("-----BEGIN")
    assert holdback("x" * 300 + " ghp_" + "a" * 10) == len("ghp_") + 10


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("akia", "asia")),
        (r"\bgh[pousr]_[A-Za-z0-9]{36}", ("gho_", "ghp_", "ghr_", "ghs_", "ghu_")),
        (r"(?:ab\d)c", ("ab",)),  # a prefix never runs past a non-literal
        (r"x(?:y|)z", ("x",)),
        (r"\d+", None),
        (r"(?:ab|c?d)x", None),
    ],
)
def test_required_prefixes_are_necessary(pattern: str, prefixes: tuple[str, ...] | None) -> None:
    from guard.checks._patterns import required_prefixes as _required_prefixes

    assert _required_prefixes(pattern) == prefixes


def test_holdback_honours_a_leading_word_boundary(make_guard: Callable[..., Guard]) -> None:
    check = make_guard(None).output_checks[0]  # default policy: secrets (\bsk-, \bgh...)
    holdback = check.holdback  # type: ignore[attr-defined]
    # Mid-word, an "s" or "gh" cannot start "\bsk-..." or "\bghp_...": nothing waits, so
    # most deltas of prose are released (and forwarded) as they came.
    assert holdback("all the questions") == 0
    assert holdback("high") == 0
    assert holdback("the token is gh") == 2
    # A "\b" before a non-word character needs a word character before it.
    guard = make_guard(
        "output:\n  - check: rules\n    rules:\n"
        "      - {name: flag, action: redact, regex: '\\b-x[0-9]+', max_length: 12}\n"
    )
    assert guard.output_checks[0].holdback("call a-") == 1  # type: ignore[attr-defined]
    assert guard.output_checks[0].holdback("call -") == 0  # type: ignore[attr-defined]


def test_holdback_covers_a_keyword_across_a_whitespace_run_up_to_the_gap(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard(
        "output:\n  - check: rules\n    rules:\n      - {name: b, keywords: [launch codes]}\n"
    )
    text = "say launch" + " " * KEYWORD_GAP
    assert guard.output_checks[0].holdback(text) == len("launch") + KEYWORD_GAP  # type: ignore[attr-defined]
    assert guard.check_output(text + "codes").action is Action.BLOCK
    # One more space and no keyword can continue: nothing waits (core-review D14).
    assert guard.output_checks[0].holdback(text + " ") == 0  # type: ignore[attr-defined]


def test_holdback_of_a_keyword_longer_than_the_prefix_trie_is_deep(
    make_guard: Callable[..., Guard],
) -> None:
    term = " ".join(f"word{i}" for i in range(20))  # 129 characters: several trie blocks
    guard = make_guard(
        f"output:\n  - check: rules\n    rules:\n      - {{name: long, keywords: ['{term}']}}\n"
    )
    check = guard.output_checks[0]
    for size in (1, 31, 32, 33, 70, 100, len(term)):
        assert check.holdback("x " + term[:size]) == size  # type: ignore[attr-defined]
    assert check.holdback("x " + term[:70] + "!") == 0  # type: ignore[attr-defined]


def test_dotless_i_cannot_hide_a_secret(make_guard: Callable[..., Guard]) -> None:
    # A case-insensitive regex matches "ı" as "i"; the prefix gate runs on folded text.
    guard = make_guard()
    assert guard.check_output("key AKıAABCDEFGHIJKLMNOP here").action is Action.REDACT


def test_the_longest_term_at_a_place_wins_and_falls_back_at_a_word(
    make_guard: Callable[..., Guard],
) -> None:
    guard = make_guard(
        "input:\n  - check: rules\n    rules:\n"
        "      - {name: short, action: warn, keywords: [foo bar]}\n"
        "      - {name: long, action: block, keywords: [foo bar baz]}\n"
        "      - {name: loose, action: warn, whole_word: false, keywords: [foo barb]}\n"
    )
    for text, rule, matched in [
        ("say foo bar baz!", "long", "foo bar baz"),
        ("say foo bar bazooka", "short", "foo bar"),  # "foo bar baz" is no whole word
        ("say foo barbecue", "loose", "foo barb"),
        ("say foo  bar", "short", "foo  bar"),
    ]:
        finding = guard.check_input(text).findings[0]
        assert (finding.rule, text[finding.start : finding.end]) == (rule, matched), text
    assert guard.check_input("xfoo bar").action is Action.ALLOW
    assert guard.check_input("xfoo barb").findings[0].rule == "loose"
