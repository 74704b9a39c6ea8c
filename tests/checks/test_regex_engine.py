"""User regexes run on RE2 (core-review D13, R17; newuser-trial §4.8), and their
widths decide what a progressive stream may hold back (D6)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from guard import Action, Guard, Policy
from guard.checks._regex import match_width
from guard.errors import PolicyError


def regex_policy(pattern: str, *, stage: str = "input", extra: str = "") -> str:
    return (
        f"{stage}:\n  - check: rules\n    name: user\n    rules:\n"
        f"      - name: r\n        action: block\n        regex: '{pattern}'\n{extra}"
    )


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"(\w+\s?)+:\s*secret", "a" * 100_000 + "!"),  # 25 characters took 2.7 s
        (r"(a+)+$", "a" * 50_000 + "!"),
        (r"(a+)+b", "a" * 50_000),  # newuser-trial §4.8: 28 characters never returned
        (r"^(a|a)+$", "a" * 50_000 + "!"),
    ],
)
def test_catastrophic_patterns_return_in_milliseconds(
    make_guard: Callable[..., Guard], pattern: str, text: str
) -> None:
    guard = make_guard(regex_policy(pattern))
    guard.check_input("warm up")
    started = time.perf_counter()
    assert guard.check_input(text).action is Action.ALLOW
    # RE2 takes ~1 ms here; Python re would take longer than the age of the universe.
    assert time.perf_counter() - started < 0.5


def test_regexes_still_match(make_guard: Callable[..., Guard]) -> None:
    guard = make_guard(regex_policy(r"(\w+\s?)+:\s*secret"))
    assert guard.check_input("the password: secret").action is Action.BLOCK
    assert guard.check_input("THE PASSWORD:   SECRET").action is Action.BLOCK


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"foo(?=bar)", "look-around"),
        (r"(?<!x)foo", "look-around"),
        (r"(a)\1", "back-references"),
    ],
)
def test_a_pattern_re2_cannot_run_is_a_load_error_naming_the_rule(pattern: str, why: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(regex_policy(pattern))
    message = str(caught.value)
    assert "rule 'r'" in message and "RE2" in message and why in message
    assert caught.value.field == "input[0].rules[0].regex"


def test_a_broken_pattern_says_it_does_not_compile() -> None:
    with pytest.raises(PolicyError, match=r"rule 'r': regex does not compile"):
        Policy.from_yaml(regex_policy(r"(unclosed"))


@pytest.mark.parametrize(
    ("pattern", "width"),
    [
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 20),
        (r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,200}", 208),
        (r"x{2,5}y?", 6),
        (r"a+", None),
        (r"a*b", None),
        (r"a{3,}", None),
        (r"\b[a-z0-9-]+\.corp\.example\.com\b", None),
        (r"\p{L}{3}", None),  # RE2-only syntax: width unknown, treated as unbounded
    ],
)
def test_match_width_is_derived_from_the_pattern(pattern: str, width: int | None) -> None:
    assert match_width(pattern) == width


README_HOST_RULE = r"\b[a-z0-9-]+\.corp\.example\.com\b"


def test_an_unbounded_output_regex_needs_a_cap_in_progressive_mode() -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(regex_policy(README_HOST_RULE, stage="output"))
    message = str(caught.value)
    assert "check 'user', rule 'r'" in message
    assert "max_length" in message and "buffer" in message
    # With a cap, in buffer mode, or on input only, it loads.
    Policy.from_yaml(
        regex_policy(README_HOST_RULE, stage="output", extra="        max_length: 253\n")
    )
    Policy.from_yaml("stream: {mode: buffer}\n" + regex_policy(README_HOST_RULE, stage="output"))
    Policy.from_yaml(regex_policy(README_HOST_RULE, stage="input"))


def test_the_default_policy_rules_are_bounded() -> None:
    policy = Policy.default()
    for entry in policy.output:
        for rule in entry.rules:
            assert rule.regex is None or match_width(rule.regex) is not None, rule.name


def test_re2_word_boundaries_are_ascii(make_guard: Callable[..., Guard]) -> None:
    # RE2's \b and \w are ASCII: a key after a Cyrillic letter with no space still starts
    # at a boundary (Python re would call "ж" a word character and miss it).
    guard = make_guard()
    assert guard.check_output("\u0436AKIAABCDEFGHIJKLMNOP").action is Action.REDACT


def test_non_ascii_literals_are_folded_like_the_text(make_guard: Callable[..., Guard]) -> None:
    # Text is folded (accents dropped, look-alikes mapped), so the pattern is too.
    guard = make_guard(regex_policy(r"\bcontraseña:\s*\S+"))
    for text in ("la contraseña: x1", "LA CONTRASEÑA: x1", "contrasen\u0303a: x1", "contrasena: x"):
        assert guard.check_input(text).action is Action.BLOCK, ascii(text)
    assert guard.check_input("la contraseña").action is Action.ALLOW
    guard = make_guard(regex_policy(r"[ÆæØ]+x"))
    assert guard.check_input("aex").action is Action.BLOCK


def test_an_ascii_word_boundary_next_to_another_script_is_a_load_error() -> None:
    # RE2's \b is ASCII-only: next to "п" it never holds, so the rule could never match.
    with pytest.raises(PolicyError, match=r"rule 'r': \\b next to the letter"):
        Policy.from_yaml(regex_policy(r"\bпароль\b"))
    Policy.from_yaml(regex_policy(r"(?:^|[^\p{L}])пароль"))


def test_a_lone_surrogate_does_not_break_regex_rules(make_guard: Callable[..., Guard]) -> None:
    decision = make_guard().check_input("x \ud800 key AKIAABCDEFGHIJKLMNOP")
    assert decision.action is Action.REDACT
    assert [f.rule for f in decision.findings] == ["aws-access-key"]
