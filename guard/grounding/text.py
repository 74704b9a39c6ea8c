"""Words, stems and numbers: the normalisation every grounding comparison goes through.

Everything here is a pure function of its input, cached where the same word is seen
again and again (stems), and linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from operator import methodcaller
from pathlib import Path
from typing import cast

from guard.grounding.units import UNIT_WORDS
from guard.normalize import _table

#: Function words carry no evidence: they are dropped before scoring.
STOPWORDS = frozenset(
    """a an the and or but if then than so of to in on at by for from with without into onto
    over under about above below between among through during before after since until upon
    is are was were be been being am do does did done doing has have had having will would
    shall should can could may might must it its it's this that these those there here
    he she they them their theirs his her hers him we us our ours you your yours i me my mine
    who whom whose which what when where why how as also too very just only such same other
    another each every all any both either neither some most more many much few own
    one's s t d ll re ve m o y yes not no nor never none""".split()
) | frozenset(
    # Conversational fillers and sentence adverbs: dialogue answers and encyclopaedic
    # claims add them to facts they take from the passages ("Yeah, it opened in 1998").
    """yeah yep yup yea oh ok okay wow hmm um uh lol well actually really indeed however
    eventually""".split()
)
#: Words that turn a statement around.
NEGATIONS = frozenset("not no never none nothing nobody neither nor cannot without".split())

#: Pairs of opposite words; a claim using one where its window uses the other conflicts.
_ANTONYM_PAIRS = (
    ("increase", "decrease"), ("rise", "fall"), ("higher", "lower"), ("more", "less"),
    ("larger", "smaller"), ("bigger", "smaller"), ("before", "after"), ("win", "lose"),
    ("won", "lost"), ("true", "false"), ("allow", "forbid"), ("accept", "reject"),
    ("maximum", "minimum"), ("above", "below"), ("first", "last"), ("open", "closed"),
    ("increased", "decreased"), ("gain", "loss"), ("profit", "loss"), ("up", "down"),
    ("earliest", "latest"), ("older", "younger"), ("north", "south"), ("east", "west"),
    ("positive", "negative"), ("success", "failure"), ("approve", "deny"),
    ("include", "exclude"), ("legal", "illegal"), ("safe", "unsafe"), ("always", "never"),
)  # fmt: skip
ANTONYMS: dict[str, frozenset[str]] = {}
for _left, _right in _ANTONYM_PAIRS:
    ANTONYMS[_left] = ANTONYMS.get(_left, frozenset()) | {_right}
    ANTONYMS[_right] = ANTONYMS.get(_right, frozenset()) | {_left}

WORD = re.compile(r"\w+(?:'\w+)?")
_find_words = WORD.findall
_ends_contracted_negation = methodcaller("endswith", "n't")
_DIGIT = re.compile(r"\d")
_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("iveness", "ive"),
    ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ness", ""),
    ("ingly", ""), ("edly", ""), ("ities", ""), ("ity", ""), ("ies", "y"), ("ied", "y"),
    ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", ""),
)  # fmt: skip


#: :data:`_SUFFIXES` by their last letter, in their order: a word is tried only
#: against the suffixes ending as it does (the first that fits is the same).
_SUFFIXES_BY_LAST = {
    last: tuple(pair for pair in _SUFFIXES if pair[0][-1] == last)
    for last in {suffix[-1] for suffix, _ in _SUFFIXES}
}


def _irregular_forms() -> dict[str, str]:
    """Irregular verb form -> the verb (``irregular.txt``, derived from Open English
    WordNet by bench/grounding_irregular.py)."""
    forms: dict[str, str] = {}
    with Path(__file__).with_name("irregular.txt").open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                form, verb = line.split()
                forms[form] = verb
    return forms


#: ``fell`` -> ``fall``, ``bought`` -> ``buy``: forms the suffix rules cannot bring home.
IRREGULAR = _irregular_forms()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem: plural, tense and adverb endings of regular words meet (suffix
    rules), and the irregular forms of common verbs meet their verb (``grew``,
    ``grown`` and ``grows``)."""
    return suffix_stem(IRREGULAR.get(word, word))


def suffix_stem(word: str) -> str:
    """:func:`stem` by the suffix rules alone."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES_BY_LAST.get(word[-1], ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + replacement
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # running -> run, stopped -> stop
            if base.endswith("e") and len(base) > 4:
                base = base[:-1]  # create/creat(ed) meet
            return base
    if word.endswith("e") and len(word) > 4:
        return word[:-1]
    return word


#: Verb stem -> its irregular forms (a passage word starting unlike the claim's stem may
#: still lead to it: :class:`guard.grounding.passage_text.Targets`).
FORMS_OF: dict[str, tuple[str, ...]] = {}
for _form, _verb in IRREGULAR.items():
    FORMS_OF[stem(_verb)] = (*FORMS_OF.get(stem(_verb), ()), _form)


def fold(text: str) -> str:
    """``text`` as words are read from it: lower case, curly apostrophes straight, and
    underscores as spaces (``snake_case`` is two words)."""
    return text.lower().replace("’", "'").replace("_", " ")


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (apostrophes inside words kept, curly ones made straight)."""
    return words_of_folded(fold(text))


def words_of_folded(text: str) -> list[str]:
    """The words :data:`WORD` finds in already folded ``text``.

    A word never spans white space, so the text is split there first (C speed) and only
    pieces that are not a plain alphanumeric run go through the regex: the same words,
    in half the time of one ``findall`` over the text (bench/grounding.py).
    """
    if text.isascii() and "'" not in text:
        # Every character no word holds a space, then one split (C, no loop): a claim's
        # words are read several times per call.
        return text.encode().translate(_NOT_WORD_BYTES).decode().split()
    out: list[str] = []
    for piece in text.split():
        if piece.isalnum():  # exactly the characters \w matches, underscore aside
            out.append(piece)
        else:
            out.extend(_find_words(piece))
    return out


#: ASCII white space other than the line break (what ``str.split()`` splits at).
_ASCII_SPACES = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
_KEPT = "_'\n "
# Byte tables for bytes.translate over a text's UTF-8 (several times faster than
# str.translate, hundreds of times beyond ASCII). Bytes from 128 up always stay: in
# UTF-8 they are exactly the bytes of the characters beyond ASCII.
_SPACE_BYTES = bytes(32 if chr(c) in _ASCII_SPACES else c for c in range(256))
#: Every ASCII character no word holds as a space (letters, digits, ``_``, the
#: apostrophe, the space and the line break stay).
_NOT_WORD_BYTES = bytes(
    c if c >= 128 or chr(c).isalnum() or chr(c) in _KEPT else 32 for c in range(256)
)
_ASCII_BYTES = bytes(range(128))
#: :data:`_ASCII_SPACES` as byte values.
_RARE_SPACE_CODES = tuple(map(ord, _ASCII_SPACES))
#: :data:`_NOT_WORD_BYTES` that also lowers ASCII capitals.
_NOT_WORD_LOWER_BYTES = bytes(c + 32 if 65 <= c <= 90 else _NOT_WORD_BYTES[c] for c in range(256))


def sentence_words(text: str) -> list[list[str]]:
    """The words of folded ``text``, per sentence: a sentence ends at ``.``, ``!`` or
    ``?`` followed by white space or the end (``1.5`` stays whole), and at a line
    break. Sentences without words are dropped.

    Read with C byte operations on the UTF-8, no per-word bytecode (a passage's first
    sight, bench/grounding.py): white space becomes spaces, a sentence end followed by
    a space a line break, and every character no word holds a space; then each line
    split at spaces holds one sentence's words (apostrophes that join nothing become
    spaces first). Beyond ASCII, ``\\w`` is ``str.isalnum`` (``_`` aside): the few distinct
    characters beyond ASCII of a text are sorted into white space, word characters and
    the rest once, and replaced in the bytes.
    """
    # surrogatepass: a lone surrogate (from a JSON escape) goes through as bytes >= 128.
    data = _spaces_plain(text.encode("utf-8", "surrogatepass"))
    marks: list[str] = []
    if not text.isascii():
        # The characters beyond ASCII, found in C: deleting every ASCII byte leaves few.
        for char in set(data.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
            if char.isspace():
                data = data.replace(char.encode(), b" ")
            elif not char.isalnum():
                marks.append(char)
    lines = _sentence_text(data, marks, _NOT_WORD_BYTES)
    if "'" in lines:
        # The apostrophe joins two runs of word characters and nothing else: the others
        # become spaces (one substitution over the text), then lines split as without
        # one. A word joined by two apostrophes ("a'b'c": the regex reads "a'b", "c")
        # takes the regex.
        joined = _LONE_APOSTROPHE.sub(" ", lines)
        if _TWO_APOSTROPHES.search(joined) is not None:
            return [words for words in map(_words_of_line, lines.split("\n")) if words]
        lines = joined
    return list(filter(None, map(str.split, lines.split("\n"))))


def plain_sentence_words(text: str) -> list[list[str]]:
    """``sentence_words(fold(text))`` for ASCII ``text`` without an apostrophe or an
    underscore (most passages), read without folding first: the last byte table also
    lowers the capitals, which is all :func:`fold` does to such a text (an underscore
    would become a space before sentence ends are found, so it is excluded;
    tests/grounding compares the two)."""
    lines = _sentence_text(_spaces_plain(text.encode()), (), _NOT_WORD_LOWER_BYTES)
    return list(filter(None, map(str.split, lines.split("\n"))))


def _spaces_plain(data: bytes) -> bytes:
    """``data`` with the ASCII white space other than the space and the line break as
    spaces; most texts hold none, told by a few ``memchr`` (integers: a bytes operand
    of ``in`` costs a raised and cleared TypeError first)."""
    if any(map(data.__contains__, _RARE_SPACE_CODES)):
        return data.translate(_SPACE_BYTES)
    return data


def _sentence_text(data: bytes, marks: Sequence[str], table: bytes) -> str:
    """``data`` with sentence ends followed by a space as line breaks, ``marks`` as
    spaces, translated by ``table``: one sentence per line."""
    data = data.replace(b". ", b".\n")
    if 33 in data:  # "!"
        data = data.replace(b"! ", b"!\n")
    if 63 in data:  # "?"
        data = data.replace(b"? ", b"?\n")
    # Only now: "end.” Next" does not end a sentence.
    for mark in marks:
        data = data.replace(mark.encode("utf-8", "surrogatepass"), b" ")
    return data.translate(table).decode("utf-8", "surrogatepass")


#: In a text of word characters, apostrophes, spaces and line breaks: an apostrophe
#: without a word character on both sides (which joins nothing), and two apostrophes
#: inside one word. The pattern opens with the apostrophe: the scan skips to it.
_LONE_APOSTROPHE = re.compile(r"'(?:(?<![^\s']')|(?![^\s']))")
_TWO_APOSTROPHES = re.compile(r"'[^\s']+'")


def _words_of_line(line: str) -> list[str]:
    return _find_words(line) if "'" in line else line.split()


#: word -> its content stem ("" for none): a plain dict is cheaper per lookup than an
#: lru_cache wrapper, and words repeat across calls. Cleared when it grows large.
_TERMS: dict[str, str] = {}
_TERMS_LIMIT = 200_000


def term(word: str) -> str:
    """The content stem of a lower-case word, or ``""`` for a stopword, a figure, or a
    scale or unit word (figures are compared as values with their units, see
    :func:`guard.grounding.figures.figures`)."""
    known = _TERMS.get(word)
    if known is not None:
        return known
    dropped = word in STOPWORDS or word in UNIT_WORDS or _DIGIT.search(word)
    found = "" if dropped else stem(word)
    cache = _TERMS
    if len(cache) >= _TERMS_LIMIT:
        # A new dict, not clear(): a lookup under way in another thread keeps its words.
        globals()["_TERMS"] = cache = {}
    cache[word] = found
    return found


def terms_of(word_list: Sequence[str]) -> list[str]:
    """Content stems of a word list, in order."""
    return list(filter(None, stems_of(word_list)))


def stems_of(word_list: Sequence[str]) -> list[str]:
    """:func:`term` of each word, in order (``""`` for those without one): cache hits
    are looked up in C, only unseen words call :func:`term`."""
    found = list(map(_TERMS.get, word_list))
    if None in found:
        return [term(w) if s is None else s for w, s in zip(word_list, found, strict=True)]
    return cast(list[str], found)


def content_terms(text: str) -> list[str]:
    """Content stems of ``text``, in order (see :func:`term`)."""
    return terms_of(words(text))


def has_negation(tokens: list[str] | frozenset[str]) -> bool:
    """Whether a word list negates (``not``, ``never``, ``isn't``...)."""
    if not NEGATIONS.isdisjoint(tokens):
        return True
    return any(map(_ends_contracted_negation, tokens))


#: A word of letters, possibly cut by invisible characters (zero-width, joiners).
_SPOOFABLE_WORD = re.compile(r"[^\W\d_]+(?:[\u200b-\u200d\u2060\ufeff\u00ad]+[^\W\d_]+)*")


def latin_as_shown(text: str) -> str:
    """``text`` with each word written in Latin look-alikes spelled in the Latin letters a
    reader sees, case kept: full-width or mathematical letters (``Ｏｓｌｏ``), a Latin word
    with Cyrillic or Greek look-alikes in it (``Оslo`` with a Cyrillic ``О``), a word cut
    by zero-width characters. A word in another script stays as it is (``Москва`` has no
    Latin letter to imitate). ASCII text is returned unchanged."""
    if text.isascii():
        return text
    return _SPOOFABLE_WORD.sub(_as_shown, text)


def _as_shown(match: re.Match[str]) -> str:
    word = match.group()
    if word.isascii():
        return word
    compatible = unicodedata.normalize("NFKC", word)
    if compatible.isascii():
        return compatible
    if not any(char.isascii() for char in word):
        return word  # another script, not a disguise
    table = _table()
    out = []
    for char in compatible:
        if char.isascii():
            out.append(char)
            continue
        shown = table.get(char, char)
        out.append(shown.upper() if char.isupper() else shown)
    return "".join(out)
