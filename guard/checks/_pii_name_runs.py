"""One capitalised run read by the PERSON / LOCATION recognizer: the context before it,
its leading titles and openers, and the persons and places it holds with their scores
(:mod:`guard.checks._pii_names` finds the runs and says which are read)."""

from __future__ import annotations

from guard.checks._pii_name_context import (
    NAME_FIELDS,
    NEVER,
    NOT_PERSON,
    PERSON_CONTEXT,
    PERSON_OPENERS,
    PLACE_CONTEXT,
    SAID,
    STRONG_CONTEXT,
    STRONG_PLACE,
)
from guard.checks._pii_name_lists import TITLES, Gazetteer
from guard.checks._pii_name_words import Word, sentence_start

#: Context phrases after which a capitalised run is a person or a place.
STRONG = STRONG_CONTEXT + STRONG_PLACE
SURE, INITIAL, ALONE, PLACE, UNSURE, WEAK = 0.85, 0.7, 0.6, 0.6, 0.45, 0.35


def _before(lowered: str, start: int) -> str:
    """The words just before ``start`` (lower case, one space between words; markdown
    emphasis around them dropped: ``**Name:** Ann``)."""
    return " ".join(lowered[max(0, start - 40) : start].rstrip(_EMPHASIS).split()[-3:])


#: Markdown emphasis and the spaces around it.
_EMPHASIS = " \t\n*_"


def read_run(
    text: str, lowered: str, run: list[Word], lists: Gazetteer, entities: frozenset[str]
) -> list[tuple[str, int, int, float]]:
    if not any(
        w.key in lists.starters or w.head in lists.starters or w.key in PERSON_OPENERS for w in run
    ):
        # No word of the run is a name, place, title or opener (``Summarise``, ``Key``):
        # only a context phrase just before it can make it a name (C ``endswith``).
        start = run[0].start
        while start > 0 and lowered[start - 1] in " \t\n\"'*_":
            start -= 1
        if not lowered.endswith(STRONG + NAME_FIELDS, 0, start):
            return []
    before = _before(lowered, run[0].start)
    if before.endswith(STRONG_PLACE):
        # ``living in Usquert``: the run is a place, whatever the lists say.
        town = ("LOCATION", run[0].start, run[-1].end, SURE)
        return [town] if "LOCATION" in entities else []
    # Quotes dropped: a record's field names are context too (``"last_name": "Santos"``).
    bare = before.replace('"', "").replace("'", "").rstrip()
    context = before.endswith(PERSON_CONTEXT) or bare.endswith(NAME_FIELDS)
    strong = before.endswith(STRONG_CONTEXT) or bare.endswith(NAME_FIELDS)
    if context and before.rpartition(" ")[2] in PERSON_OPENERS:
        context, strong = greeted(run, 0, lists)  # ``dear Customer``
    place_context = bare.rsplit(" ", 1)[-1].rstrip(":=") in PLACE_CONTEXT if bare else False
    # Leading words that are no name are context (``Dear``, ``Dr``, ``From``, ``Meet``).
    index = 0
    while index < len(run):
        key = run[index].key
        if key in TITLES:
            context = strong = True
        elif key in PERSON_OPENERS:
            context, strong = greeted(run, index + 1, lists)
        elif (
            strong
            or _known(key, lists)
            or _known(run[index].head, lists)
            or (len(key) == 1 and index + 1 < len(run))
            or _place(run, index, lists, True) is not None
        ):
            break
        else:
            place_context, context = key in PLACE_CONTEXT, False
        index += 1
    words = run[index:]
    if any(w.key in NOT_PERSON for w in words):
        # An organisation or event named after a person or place: neither.
        return []
    end = run[-1].end
    while text[end : end + 1] in ("*", "_"):
        end += 1  # ``**Will** said``
    said = text.startswith(SAID, end)
    context = context or said
    at_start = index == 0 and sentence_start(text, run[0].start)
    found: list[tuple[str, int, int, float]] = []
    position = 0
    while position < len(words):
        person = _person(words, position, lists, strong, context, at_start)
        place = _place(words, position, lists, place_context)
        entity, end, score = "", position + 1, 0.0
        if place is not None and (
            person is None
            or place[0] > person[0]
            or (
                place[0] == person[0]
                and (place_context or place[2] or person[1] < ALONE or place[0] > position + 1)
            )
        ):
            entity, end, score = "LOCATION", place[0], place[1]
        elif person is not None:
            entity, end, score = "PERSON", person[0], person[1]
        if entity in entities and score > 0:
            found.append((entity, words[position].start, words[end - 1].end, score))
        position = end
        strong = context = place_context = at_start = False
    return found


def greeted(run: list[Word], position: int, lists: Gazetteer) -> tuple[bool, bool]:
    """What an opener (``Hi``, ``Dear``, ``President``) makes of ``run[position:]``, the
    words after it: (context, strong). Any word that is no common English word is a
    name after it (``Hi Xyzzy``), and so is a known given or family name (``Hi Maria``);
    a common word is not (``Hello World``, ``Hi Team``, ``Dear Customer``, ``Hey
    Folks``) unless a family name follows it (``Dear Will Baker``: context)."""
    if position >= len(run):
        return True, True
    word = run[position]
    key = word.key
    if key in lists.first or key in lists.last or word.head in lists.first:
        return True, True
    if key in TITLES or key in PERSON_OPENERS or not _common(key, lists):
        return True, True
    return position + 1 < len(run), False


def _common(key: str, lists: Gazetteer) -> bool:
    """A common English word (or one made of them: ``self-service``), and no name."""
    return all(
        part in lists.words or part in lists.first_common or part in lists.last_common
        or part in NEVER
        for part in key.split("-")
    )  # fmt: skip


def _known(key: str, lists: Gazetteer) -> bool:
    """A word that can begin a name or a place (a title or function word cannot)."""
    if key in NEVER or key in TITLES:
        return False
    return key in lists.starters


def _place(
    words: list[Word], position: int, lists: Gazetteer, context: bool
) -> tuple[int, float, bool] | None:
    """The longest place starting at ``words[position]``: (end index, score, whether it
    is a country, US state or city of 500,000 or more — a place first; a smaller city
    that is a given name (``Tyler``, ``Jackson``) is a person when read as one)."""
    longest = lists.longest_place if words[position].key in lists.place_heads else 1
    for length in range(min(longest, len(words) - position), 0, -1):
        phrase = tuple(w.key for w in words[position : position + length])
        found = lists.places.get(phrase)
        if found is None or words[position + length - 1].particle:
            continue
        kind, common = found
        if common and not context:
            return None
        if kind == "t" and length == 1 and not context and _is_name(phrase[0], lists):
            return None  # ``Ann``, ``Tyler``: a small town, or rather a person

        return position + length, SURE if context else PLACE, kind != "t"  # c, s, T
    return None


def _is_name(key: str, lists: Gazetteer) -> bool:
    return key in lists.first or key in lists.last or key in lists.first_common


def _person(
    words: list[Word], position: int, lists: Gazetteer, sure: bool, context: bool, at_start: bool
) -> tuple[int, float] | None:
    """A person starting at ``words[position]``: (end index, score)."""
    head = words[position]
    if head.particle or head.key in NEVER:
        return None
    end = position + 1
    while end < len(words) and end - position < 4:
        following = words[end]
        if following.particle:
            if end + 1 >= len(words):
                break
            end += 1
            continue
        key = following.key
        if key in NEVER or (key in lists.first_common and key not in lists.last_common):
            break  # a common word after a name is part of it only as a family name
        end += 1
    key, last = head.key, words[end - 1].key
    if sure:
        return end, SURE
    first_name = key in lists.first or head.head in lists.first
    family = last in lists.last or last in lists.last_common
    if end - position > 1:
        if first_name:
            return end, SURE
        if len(key) == 1 and family:
            return end, INITIAL
        if key in lists.first_common and family:
            # ``Bill Gates`` and ``Rose Garden`` read alike: two common words need
            # context, a family name that is no common word does not (``Will Ferrell``).
            if last in lists.last or context:
                return end, ALONE if at_start else SURE
            return end, UNSURE
        if context and (key in lists.last or key in lists.last_common):
            return end, SURE
        end = position + 1
    if first_name:
        # ``Han``, ``Li``, ``Kim`` alone are as often a dynasty, a word or an initialism.
        return end, SURE if context else ALONE if len(key) > 3 else WEAK
    if key in lists.first_common or key in lists.last or key in lists.last_common:
        return end, INITIAL if context else WEAK
    return None
