"""Claim extraction: the answer split into the sentences that assert something.

Markdown is read, not scored: fenced and indented code, headings, table separators and
list markers are skipped; a table row is one claim; inline code is kept as words.
Sentences end at ``.``, ``!`` or ``?`` followed by a space and a capital, digit or
quote — except after known abbreviations, initials and decimals. Questions, refusals,
"I'm not sure", pure restatements of the question and fragments with fewer than two
content words are not claims. A hedging opener ("I think", "maybe", "it is possible
that") does not withdraw what follows: the sentence is a claim, scored without the
opener's words (``hedge_end``).
"""

from __future__ import annotations

import re

from guard.grounding.text import content_terms, terms_of

_DIGIT = re.compile(r"\d")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
#: List markers, block quotes and emphasis at the start of a line.
_LINE_PREFIX = re.compile(r"^\s*(?:>\s*)*(?:[-*+•]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+)?")
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e cf al inc ltd co corp no nos fig figs approx
    est dept univ jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k a.m p.m ca""".split()
)
#: A sentence end: terminal punctuation, closing quotes/brackets, then space.
#: Its look-ahead's group is the white space after the end, which the next sentence
#: does not start with.
_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?=(\s+)[\"'“‘(\[]?[A-Z0-9])")
#: The letters and dots before a sentence end of an ASCII line, read backwards.
_ASCII_WORD_BACKWARDS = re.compile(r"[A-Za-z.]*")
_CITATION_ONLY = re.compile(r"^\s*(?:(?:\[\^?[\w.:-]{1,40}\]|【[^】]{1,40}】)\s*)+$")

_REFUSAL = re.compile(
    r"^\W*(?:i(?:'m| am) (?:sorry|not sure|unable|afraid)|i (?:do not|don't|cannot|can't)"
    r" (?:know|find|answer|help|say|provide|determine)|sorry\b|unfortunately\b"
    r"|(?:the|this|these|provided) (?:context|passages?|documents?|sources?|information|text)"
    r" (?:does not|doesn't|do not|don't) (?:say|mention|contain|specify|provide|include|state)"
    r"|there is no (?:information|mention)|no information (?:is|was) (?:given|provided)"
    r"|as an ai\b)",
    re.IGNORECASE,
)
#: A sentence that only says the answer is uncertain.
_HEDGE = re.compile(r"^\W*i(?:'m| am) not (?:certain|sure)\b", re.IGNORECASE)
#: An opener that hedges what follows ("I think the tower is 330 m tall"): the rest is
#: still asserted, so it is a claim, scored without the opener's words.
_HEDGE_OPENER = re.compile(
    r"^\W*(?:i think|i believe|i guess|perhaps|maybe|possibly|it (?:is|'s) possible"
    r"|it (?:may|might|could) be)\b(?:\s+that\b)?",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^\W*(?:sure|certainly|of course|great question|here(?: is|'s| are)|in summary|"
    r"to summari[sz]e|hope this helps|let me know)\b[^.]*[:!.]?\s*$",
    re.IGNORECASE,
)


#: A refusal, a hedge or a filler at the start, in one match (one scan per sentence,
#: not three).
_NOT_ASSERTING = re.compile(
    "|".join(f"(?:{pattern.pattern})" for pattern in (_REFUSAL, _HEDGE, _FILLER)), re.IGNORECASE
)

#: Stems of words that talk about the question rather than answer it.
_META_TERMS = frozenset(content_terms("you asked about question regarding wondering want know"))


#: A candidate claim: its span in the answer, ``(start, end)`` (a plain tuple: one is
#: made per sentence of every answer).
Sentence = tuple[int, int]


def _lines(answer: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_table_row) of each prose line, code blocks and headings dropped."""
    out: list[tuple[int, int, bool]] = []
    in_code = False
    position = 0
    for line in answer.splitlines(keepends=True):
        start, position = position, position + len(line)
        body = line.rstrip("\r\n")
        if _FENCE.match(body):
            in_code = not in_code
            continue
        if _TABLE_RULE.match(body) and "-" in body:
            if out and out[-1][2]:
                out.pop()  # the row above a table rule is the header: labels, no claim
            continue
        if in_code or not body.strip() or _HEADING.match(body):
            continue
        if body.startswith(("    ", "\t")) and not _LINE_PREFIX.match(body.strip()).group():  # type: ignore[union-attr]
            continue  # indented code
        prefix = _LINE_PREFIX.match(body)
        offset = prefix.end() if prefix else 0
        out.append((start + offset, start + len(body), body.lstrip().startswith("|")))
    return out


def _ends_abbreviation(text: str, dot: int, backwards: str | None = None) -> bool:
    """Whether the ``.`` at ``dot`` closes an abbreviation or an initial; ``backwards``
    is ``text[::-1]`` when ``text`` is ASCII (its letters and dots before ``dot`` are
    then one regex match there, not a loop over characters)."""
    if backwards is not None:
        word = _ASCII_WORD_BACKWARDS.match(backwards, len(text) - dot).group()[::-1]  # type: ignore[union-attr]
    else:
        word_start = dot
        while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
            word_start -= 1
        word = text[word_start:dot]
    word = word.lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word


def split_sentences(answer: str) -> list[Sentence]:
    """Sentence spans of ``answer`` (markdown-aware, abbreviation-aware)."""
    sentences: list[Sentence] = []
    for start, end, is_row in _lines(answer):
        if is_row:
            sentences.append((start, end))
            continue
        line = answer[start:end]
        cursor = 0
        backwards: str | None = None
        for match in _SENTENCE_END.finditer(line):
            dot = match.start()
            if line[dot] == ".":
                if backwards is None and line.isascii():
                    backwards = line[::-1]
                if _ends_abbreviation(line, dot, backwards):
                    continue
            sentences.append((start + cursor, start + match.end()))
            cursor = match.end(1)  # past the white space after the end
        if cursor < len(line):
            sentences.append((start + cursor, end))
    return sentences


def hedge_end(text: str) -> int:
    """Where a hedging opener of ``text`` ends (0 when it has none)."""
    opener = _HEDGE_OPENER.match(text)
    return opener.end() if opener else 0


def not_a_claim(
    text: str,
    question_terms: frozenset[str],
    text_words: list[str] | None = None,
    text_terms: list[str] | None = None,
) -> bool:
    """Questions, refusals, hedges, fillers, citation-only fragments, restatements;
    ``text_words`` is ``words(text)`` and ``text_terms`` ``terms_of(text_words)`` when
    the caller has them already."""
    stripped = text.strip().strip("*_").strip()
    if not stripped or _CITATION_ONLY.match(stripped) or stripped.endswith("?"):
        return True
    if _NOT_ASSERTING.match(stripped):
        return True
    if text_terms is not None:
        terms = text_terms
    else:
        terms = content_terms(stripped) if text_words is None else terms_of(text_words)
    has_figure = _DIGIT.search(stripped) is not None
    if len(terms) < 2 and not has_figure:
        return True
    if has_figure:
        return False  # a figure is never a mere restatement
    return bool(question_terms) and all(
        term in question_terms or term in _META_TERMS for term in terms
    )
