"""String leaves of JSON documents, whole and streamed (guard/formats/_json_leaves.py)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Hashable

import pytest

from guard.formats._arguments_stream import ArgumentsStream
from guard.formats._json_leaves import (
    LEAF,
    LEAF_END,
    RAW,
    LeafTokenizer,
    argument_leaves,
    argument_segments,
)

DOCUMENTS = [
    {"a": "plain", "b": ["x", 1, 2.5e3, True, None, {"c": "deep"}], "": ""},
    {"line": 'one\ntwo\tthree "quoted" back\\slash /', "emoji": "🎉 ok", "uni": "Zürich"},
    {'k"ey': "v", "k\\": "w", "\u00e9": ["é", "世界"]},
    ["top", "level", {"list": []}],
    "just a string",
    {"empty": {}, "nested": [[["in"]]], "n": -0.5},
]


def sources(document: object) -> list[str]:
    """The document as models send it: spaced, compact, and all non-ASCII escaped."""
    return [
        json.dumps(document),
        json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        json.dumps(document, indent=2),
    ]


def tokenize(source: str, cuts: list[int]) -> tuple[list[str], str]:
    """Feed ``source`` cut at ``cuts``; return each leaf's decoded text and the source
    the pieces add up to."""
    tokenizer = LeafTokenizer()
    leaves: dict[int, list[str]] = {}
    rebuilt: list[str] = []
    bounds = [0, *cuts, len(source)]
    for start, end in itertools.pairwise(bounds):
        for kind, text, leaf, piece in tokenizer.feed(source[start:end]):
            assert kind != RAW
            if kind in (LEAF, LEAF_END):
                leaves.setdefault(leaf, []).append(text)
            rebuilt.append(piece)
    return ["".join(leaves[n]) for n in sorted(leaves)], "".join(rebuilt)


def test_keys_are_leaves_in_document_order() -> None:
    found = list(argument_leaves({"k": ["v", {"k2": "w"}], "n": 1}))
    assert found == [
        (("k",), "k", True),
        (("k", 0), "v", False),
        (("k", 1, "k2"), "k2", True),
        (("k", 1, "k2"), "w", False),
        (("n",), "n", True),
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("seed", range(6))
def test_streamed_leaves_are_the_decoded_strings(document: object, seed: int) -> None:
    rng = random.Random(seed)
    for source in sources(document):
        expected = [text for _, text, _ in argument_leaves(json.loads(source))]
        cuts = sorted(rng.sample(range(1, len(source)), min(len(source) - 1, 1 + seed * 4)))
        leaves, rebuilt = tokenize(source, cuts)
        assert leaves == expected
        assert rebuilt == source  # every piece carries its exact source


def test_every_single_character_split() -> None:
    source = json.dumps({"k": 'a\\b\n\u0041\ud83c\udf89é"', "z": ["\u00e9"]})
    leaves, rebuilt = tokenize(source, list(range(1, len(source))))
    assert leaves == [text for _, text, _ in argument_leaves(json.loads(source))]
    assert rebuilt == source


@pytest.mark.parametrize(
    ("source", "raw_from"),
    [
        ("not json", "not json"),
        # Letters outside a string are raw from the first one: "s" of "sk-..." must not
        # slip out as structure, or the key's rule would no longer see its start.
        ('{"a": 1, sk-proj-abcdefghijklmnopqrstu}', "sk-proj-abcdefghijklmnopqrstu}"),
        ('{"a": trueAKIA}', "trueAKIA}"),
        ('{"a": "x", oops}', "oops}"),
        ('{"a": "bad \\q escape"}', '\\q escape"}'),
        ('{"a": "\\uZZZZ"}', '\\uZZZZ"}'),
    ],
)
def test_source_that_cannot_be_json_turns_raw(source: str, raw_from: str) -> None:
    tokenizer = LeafTokenizer()
    pieces = tokenizer.feed(source)
    assert pieces[-1][0] == RAW and pieces[-1][1] == raw_from
    assert tokenizer.feed("more") == [(RAW, "more", -1, "more")]


def test_lone_surrogates_become_replacement_characters() -> None:
    leaves, _ = tokenize('{"a": "x\\ud800y\\udc00z"}', [9, 14])
    assert leaves == ["a", "x\ufffdy\ufffdz"]


def test_arguments_stream_with_nothing_held_returns_the_source() -> None:
    released: list[tuple[Hashable, str]] = []

    def release(key: Hashable, text: str) -> str:
        released.append((key, text))
        return text

    stream = ArgumentsStream(("tool", 0, 0), release, lambda key: "")
    source = json.dumps({"a": "x\ny", "b": ["z"]})
    assert "".join(stream.feed(source[i : i + 3]) for i in range(0, len(source), 3)) == source
    # Keys are leaves too: "a", "x\ny", "b", "z".
    assert {key for key, _ in released} == {("tool", 0, 0, n) for n in range(4)}


def test_arguments_stream_re_encodes_edited_text() -> None:
    stream = ArgumentsStream(("t",), lambda key, text: text.replace("x", '"\n'), lambda key: "")
    assert json.loads(stream.feed('{"a": "1x2"}')) == {"a": '1"\n2'}


@pytest.mark.parametrize(
    ("text", "count"),
    [('{"a": "b", "c": ["d", 1]}', 4), ("[]", 0), ("42", 0), ('"s"', 1), ("{bad", 1)],
)
def test_argument_segments(text: str, count: int) -> None:
    segments = argument_segments(text, ("arguments",), "assistant", "tool_arguments", 0)
    assert len(segments) == count
    if text == "{bad":
        assert segments[0].leaf is None and segments[0].text == text
    elif text == '"s"':
        assert segments[0].leaf == ()
