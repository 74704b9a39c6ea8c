"""ORGANIZATION and NRP without a spaCy model: legal forms, firm shapes and a list.

Presidio finds these two only with a spaCy NER model; here (offline, rule based):

* ORGANIZATION: capitalised words before a legal form (``Valenzuela Inc``, ``Huhn
  Barkholz GmbH``, ``Rossi S.p.A.``, ``van Ginkel NV``) or a family firm's ending
  (``Jones and Sons``, ``Vattimo e figli``, ``Colin et Fils``): 0.85; a partnership's
  names (``Hall, Rogers and Sexton``, ``Maaswinkel & de Heer``), a foundation's or
  university's (``Stichting Wolters``, ``University of Leeds``) or any capitalised run
  after ``Employer:`` / ``Company:``: 0.6 — all above the default threshold;
* NRP (nationalities, religions, political groups): the terms of
  ``pii_names/nrp.txt`` (its header names the source), capitalised, with their
  plurals; a language (``in English``, ``French text``) is not one. 0.85.

A text holds an organization only if it has a capital; the finders look for their
trigger words first (set look-ups of the capitalised words), so prose without one
costs a regex pass over its capitals.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from guard.checks._pii_name_context import NEVER

SURE, SHAPE = 0.85, 0.6
_UP = "A-ZÀ-ÖØ-ÞĀ-Ž"
_LOW = "a-zß-öø-ÿā-ž"
_WORD = rf"[{_UP}][{_LOW}{_UP}'’]*(?:-[{_UP}{_LOW}][{_LOW}{_UP}'’]*)*"
_LEGAL = (
    r"Inc\.?|Incorporated|LLC|L\.L\.C\.|Ltd\.?|Limited|PLC|plc|Corp\.?|Corporation|Co\.|"
    r"GmbH|AG|KGaA|KG|GbR|OHG|e\.V\.|SE|S\.A\.S\.?|S\.A\.|SA|SAS|SARL|SNC|S\.L\.N\.E\.?|"
    r"S\.L\.U\.?|S\.L\.|SL|S\.Coop\.?|S\.Com\.?|S\.p\.A\.?|SpA|S\.r\.l\.?|s\.r\.l\.?|"
    r"S\.n\.c\.?|s\.n\.c\.?|S\.a\.s\.?|s\.a\.s\.?|B\.V\.|BV|N\.V\.|NV|AB|A/S|ApS|ASA|Oyj|"
    r"Oy|Pty\.? Ltd\.?|LLP|Ltda\.?|S/A|Tbk|s\.c\.|sp\. z o\.o\.|Group|Holdings|Partners|"
    r"Gruppe|Groep|Gruppo|Grupo|Groupe|Associates|Enterprises|Industries|Solutions|"
    r"Technologies|Consulting|Services|Systems"
)
_FAMILY = (
    r"(?:and|&) Sons|& Co\.?|and Co\.?|e [Ff]igli|et [Ff]ils|e [Hh]ijos|y [Aa]sociados|"
    r"und [Pp]artner|& [Pp]artners|Hnos\.?"
)
_JOIN = r"(?:and|&|e|et|y|und|en|i)"
_PARTICLE = r"(?:(?:van|von|de|der|den|di|da|del|la|le|du)\s)?"
ORGANIZATION = re.compile(
    # A legal form or a family firm's ending after capitalised words.
    rf"(?P<legal>{_PARTICLE}{_WORD}(?:(?:\s{_JOIN}\s|\s){_PARTICLE}{_WORD}){{0,3}}"
    rf"(?:,?\s(?:{_LEGAL})|\s(?:{_FAMILY}))(?![\w&]))"
    # A partnership: ``Hall, Rogers and Sexton``, ``Maaswinkel & de Heer``.
    rf"|(?P<shape>{_WORD}(?:,\s{_WORD})+,?\s{_JOIN}\s{_WORD}(?!\w)"
    rf"|{_WORD}\s&\s{_PARTICLE}{_WORD}(?!\w)"
    rf"|(?:Stichting|Koninklijke|Fundación|Fondazione|Fondation|Stiftung|Bank of|"
    rf"University of|Universidad de|Université de|Università di|Institute of)"
    rf"\s{_PARTICLE}{_WORD}(?:\s{_WORD}){{0,2}}(?!\w))"
)
#: Field names a company follows (``Employer: Moss LLC``).
_FIELDS = re.compile(
    rf"(?im:^[ \t]*(?:employer|company|empresa|firma|société|organi[sz]ation|azienda|"
    rf"bedrijf|arbeitgeber|unternehmen)[ \t]*:[ \t]*)"
    rf"({_WORD}(?:(?:[ \t,&.\-]+|\s{_JOIN}\s){_WORD})*\.?)"
)
#: Words whose presence (as a capitalised word's lower case) lets a text hold an
#: organization; read before any regex.
_TRIGGERS = frozenset(
    """inc incorporated llc ltd limited plc corp corporation co gmbh ag kgaa kg gbr ohg
    se sa sas sarl snc sl spa bv nv ab aps asa oyj oy pty llp ltda tbk group holdings
    partners gruppe groep gruppo grupo groupe associates enterprises industries solutions
    technologies consulting services systems sons hnos figli fils hijos asociados
    stichting koninklijke fundación
    fondazione fondation stiftung bank university universidad université università
    institute employer company empresa firma société organisation organization azienda
    bedrijf arbeitgeber unternehmen partner""".split()
)
_CAPITALISED = re.compile(rf"(?<![\w.])[{_UP}][\w.'’/-]*")
_NRP_FILE = Path(__file__).with_name("pii_names") / "nrp.txt"
_PLURAL = ("an", "i", "er", "ite", "ist")
#: A language named, not a people: ``in English``, ``French text``.
_LANGUAGE_BEFORE = ("in ", "into ", "speak ", "speaks ", "spoke ", "to ")
_LANGUAGE_AFTER = re.compile(r"\s(?:language|translation|version|text|subtitles|words?)\b")


def find_organizations(text: str, *, shapes: bool = True) -> list[tuple[int, int, float]]:
    """ORGANIZATION spans in ``text`` with their scores (``shapes``: also partnerships'
    names, read whenever the text joins capitalised words with ``,`` and ``and``; else
    only where a legal form, a family firm's ending or a field name is)."""
    keys = {w.rstrip(".").lower() for w in _CAPITALISED.findall(text)}
    keys |= {w for w in ("sons", "figli", "fils", "hijos", "asociados") if w in text}
    legal_forms = "S." in text or "s.r.l" in text or "s.c." in text
    shaped = shapes and ("&" in text or ", " in text)
    if not (shaped or legal_forms) and _TRIGGERS.isdisjoint(keys):
        return []
    found: list[tuple[int, int, float]] = []
    for match in ORGANIZATION.finditer(text):
        start, end = match.span()
        # Leading function words are no part of the name (``The Acme Group``).
        while True:
            word = re.match(r"\S+\s", text[start:end])
            if word is None or not (
                word.group().islower() or word.group().strip().lower() in NEVER
            ):
                break
            start += len(word.group())
        if start < end:
            found.append((start, end, SURE if match.group("legal") else SHAPE))
    for match in _FIELDS.finditer(text):
        found.append((match.start(1), match.end(1), SURE))
    return found


_JOINS = (", ", " and ", " & ", " e ", " et ", " y ", " und ", " en ", " i ", "-")
#: The most characters a firm's name runs on each side of a person's name in it.
_FIRM_REACH = 80


#: A join after a name and the capitalised word (or particle) it joins the name to.
_JOINED_AFTER = re.compile(rf"(?:,\s|\s{_JOIN}\s|-){_PARTICLE}[{_UP}]")
#: A capitalised word and a join just before a name (read on the text before it).
_JOINED_BEFORE = re.compile(rf"[{_UP}][^\s,&-]*(?:,\s|\s{_JOIN}\s|-)\Z")


def in_firm(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (a person's name) lies in a firm's name
    (``Hall, Rogers and Sexton``, ``Rossi S.p.A.``). Read only where a join to another
    capitalised word or a legal form's word is next to the name, so names in prose
    (``and Jean-Luc Picard``) cost a few C calls."""
    after = text[end : end + 40]
    # A firm's name joins capitalised words: a join to a lower-case word (``shipping
    # and Ann``) is prose, and ORGANIZATION's regex on 160 characters costs ~15 us.
    joined = (after.startswith(_JOINS) and _JOINED_AFTER.match(after) is not None) or (
        text.endswith(_JOINS, 0, start)
        and _JOINED_BEFORE.search(text, max(0, start - 40), start) is not None
    )
    if not joined:
        near = text[start : end + 40]
        following = {w.strip(".,;:()").lower() for w in near.split()[:6]}
        if _TRIGGERS.isdisjoint(following) and "S." not in near and "s.r.l" not in near:
            return False
    low, high = max(0, start - _FIRM_REACH), min(len(text), end + _FIRM_REACH)
    spans = [m.span() for m in ORGANIZATION.finditer(text, low, high)]
    spans += [m.span(1) for m in _FIELDS.finditer(text, low, high)]
    return any(s <= start and end <= e for s, e in spans)


@lru_cache(maxsize=1)
def nrp_terms() -> tuple[dict[str, int], frozenset[str], frozenset[str]]:
    """The NRP terms' first words (with the most words of a term beginning so), the
    terms (with their plurals) and the lower-case ones (``atheist``)."""
    heads: dict[str, int] = {}
    terms: set[str] = set()
    for line in _NRP_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        forms = [line, *[line + "s" for end in _PLURAL if line.endswith(end)][:1]]
        for form in forms:
            words = form.split()
            heads[words[0]] = max(heads.get(words[0], 0), len(words))
            terms.add(form)
    return heads, frozenset(terms), frozenset(t for t in terms if t.islower())


_NRP_WORD = re.compile(r"(?<![\w'’-])[\w'’-]+(?![\w'’-])")


def find_nrp(text: str) -> list[tuple[int, int, float]]:
    """NRP spans in ``text`` with their scores."""
    heads, terms, lower = nrp_terms()
    lowered = text.lower()
    if heads.keys().isdisjoint(_CAPITALISED.findall(text)) and not any(
        term in lowered for term in lower
    ):
        return []
    found: list[tuple[int, int, float]] = []
    words = [(m.group(), m.start(), m.end()) for m in _NRP_WORD.finditer(text)]
    index = 0
    while index < len(words):
        word, start, _ = words[index]
        if word not in heads and word.lower() not in lower:
            index += 1
            continue
        for length in range(min(heads.get(word, 1), len(words) - index), 0, -1):
            end = words[index + length - 1][2]
            phrase = " ".join(text[start:end].split())
            if phrase in terms or (length == 1 and phrase.lower() in lower):
                if not _language(text, start, end):
                    found.append((start, end, SURE))
                index += length - 1
                break
        index += 1
    return found


def _language(text: str, start: int, end: int) -> bool:
    """Whether the term at ``text[start:end]`` names a language."""
    before = text[max(0, start - 8) : start].lower()
    return before.endswith(_LANGUAGE_BEFORE) or _LANGUAGE_AFTER.match(text, end) is not None
