"""Street addresses in the ways Europe and North America write them, with the postcode,
city and region that follow, as one LOCATION (:mod:`guard.checks._pii_names`).

* English: a number, capitalised words and a street word of USPS Publication 28's
  suffix list (public domain) — ``77763 Tony Village Suite 690``, ``5 Aimee Walk`` —
  or a flat's line first (``Flat 4, Ricky Drive``);
* German, Dutch, Scandinavian: a word ending in a street word and a number
  (``Agnes-Wesack-Straße 26``, ``Kerkstraat 12``, ``Skolvägen 7``);
* French: ``18, rue Manon Roux``; Spanish and Italian: ``Calle de Juan 12``,
  ``Viale Sermonti, 13``.

What follows an address on its line or the next ones joins it while it reads as a
postcode (UK, US ZIP with its state, Dutch, four or five digits), a city next to one,
or a province in brackets (``Roma (RM)``): ``221 Baker Street, London NW1 6XE``.
A text without a digit has no address here; the street words are looked for first
(one C search), so a text without one costs nothing more.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from guard.checks._pii_name_gate import phrases
from guard.checks._pii_name_lists import fold

_UP = "A-ZÀ-ÖØ-ÞĀ-Ž"
_LOW = "a-zß-öø-ÿā-ž"
#: A capitalised word (``O'Neil``, ``Jean-Luc``), or one in capitals.
_CAP = rf"[{_UP}][{_LOW}{_UP}'’]*(?:-[{_UP}{_LOW}][{_LOW}{_UP}'’]*)*"
#: USPS Publication 28, appendix C1 (street suffixes), less words that follow a number
#: as often in prose (``Key``, ``Union``, ``Club``, ``Point``) and abbreviations.
_EN_STREETS = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Parkway|Pkwy|Highway|Hwy|Circle|Square|Close|Crescent|Row|Alley|Trail|Alley|"
    "Bypass|Causeway|Crossing|Crossroad|Expressway|Freeway|Turnpike|Gardens|Garden|Grove|"
    "Mews|Rise|Walk|Walks|Wharf|Hill|Hills|Heights|Ridge|Ridges|Valley|Vale|View|Views|"
    "Village|Villages|Ville|Vista|Meadow|Meadows|Shore|Shores|Lock|Locks|Knoll|Knolls|Burg|"
    "Burgs|Ford|Fords|Island|Islands|Isle|Mountain|Mountains|Well|Wells|Lake|Lakes|Park|"
    "Parks|Manor|Mill|Mills|Spring|Springs|Station|Stream|Summit|Plaza|Port|Ports|Ranch|"
    "Falls|Ferry|Fields|Field|Flat|Flats|Forest|Forge|Fork|Forks|Fort|Glen|Glens|Green|"
    "Greens|Harbor|Harbors|Haven|Hollow|Inlet|Junction|Junctions|Landing|Light|Lights|"
    "Loaf|Lodge|Loop|Mall|Mission|Motorway|Neck|Orchard|Oval|Pass|Path|Pike|Pine|Pines|"
    "Plain|Plains|Prairie|Radial|Ramp|Rapid|Rapids|Rest|Route|Run|Shoal|Shoals|Skyway|"
    "Spur|Squares|Stravenue|Throughway|Trace|Track|Trafficway|Tunnel|Underpass|Viaduct|"
    "Brook|Brooks|Canyon|Cape|Cliff|Cliffs|Common|Commons|Corner|Corners|Course|Courts|"
    "Cove|Coves|Creek|Crest|Curve|Dale|Dam|Divide|Estate|Estates|Extension|Gateway|"
    "Harbour|Parade|Drove|Gate|Hey|Nook|Quay|Wynd|Roads|Streets|Drives|Lanes|Unions|Circles|Keys|Center|Centers|Centre|Parkways|Circuit|Arcade|Concourse"
)
_EN_UNIT = r"(?:Suite|Ste\.?|Apt\.?|Apartment|Unit|#|Flat|Floor|Fl\.?)\s?\w{1,5}"
#: What comes before an English street word (``Flat 4, Ricky``, ``12 Oak``), read back
#: from it: the pattern ends where the street word begins.
_EN_HEAD = re.compile(
    rf"(?<![\w@/.-])(?:(?:Flat|Studio|Apartment|Unit|Suite|Apt\.?)\s\d{{1,5}}[A-Za-z]?\s*[,\n]\s*)?"
    rf"(?:\d{{1,6}}[A-Za-z]?,?[ \t]+)?(?:{_CAP}\.?[ \t]+){{1,3}}\Z"
)
#: What follows an English street word: its dot, a flat or suite.
_EN_AFTER = re.compile(rf"\.?(?:,?\s{_EN_UNIT})?")
#: German, Dutch, Scandinavian street words written as a word's end.
_SUFFIXES = (
    "straße|strasse|str\\.|weg|gasse|platz|allee|damm|ufer|chaussee|steig|pfad|markt|"
    "laan|straat|gracht|plein|singel|kade|dijk|hof|pad|steeg|dreef|baan|vägen|gatan|"
    "vej|veien|gata|väg|boulevard|torget|gränd|stigen"
)


def _with_folded(words: str) -> str:
    """``words`` (``a|b``) and their forms without accents: the detector reads text
    with accents folded (``Skolvagen``), callers may not."""
    folded = [
        fold(w.lower()) if w.islower() else fold(w.lower()).capitalize() for w in words.split("|")
    ]
    return "|".join(dict.fromkeys(words.split("|") + [w for w in folded if w.isascii()]))


_SUFFIXES = _with_folded(_SUFFIXES)
#: ``Agnes-Wesack-Straße 26-83`` from its first letter; candidates are the words that a
#: number follows (:func:`_before_numbers`).
_NORTH = re.compile(
    rf"[{_UP}][{_LOW}{_UP}'’-]*(?:{_SUFFIXES}|-(?:{_SUFFIXES.title()}))"
    rf"\s+\d{{1,4}}[a-zA-Z]?(?:\s?[-/]\s?\d{{1,4}}[a-zA-Z]?)?(?!\w)"
)
_ROMANCE_WORDS = (
    "rue|avenue|av\\.|boulevard|bd|place|chemin|allée|impasse|quai|cours|route|square|"
    "passage|voie|Calle|Avenida|Avda\\.|Av\\.|Plaza|Pza\\.|Paseo|Camino|Carrer|"
    "Ronda|Vía|Travesía|Pasaje|Cuesta|Rambla|Urbanización|Callejón|Glorieta|Alameda|"
    "Carretera|Pasadizo|Acceso|Bajada|Plazuela|Vial|Via|Viale|Piazza|Piazzale|Corso|Largo|"
    "Vicolo|Strada|Borgo|Contrada|Rotonda|Canale|Incrocio|Stretto|Vico|Lungomare|Salita|"
    "Rua|Travessa|Praça|Estrada|Praia|Aleja|Ulica|ul\\.|al\\.|Plac|Osiedle"
)
_ROMANCE_WORDS = _with_folded(_ROMANCE_WORDS)
#: A number before a French street word (``18, rue``), read back from it.
_ROMANCE_NUMBER = re.compile(r"(?<![\w.-])\d{1,4}(?:\s?(?:bis|ter))?,?\s+\Z")
#: What follows a French, Spanish, Italian... street word: the street's name and number.
_ROMANCE_AFTER = re.compile(
    rf"[./]?\s+(?:(?:de|del|de la|de las|de los|du|des|de l'|d'|l'|la|le|dei|della|delle|"
    rf"degli|di|do|da|dos|das|DE|DEL|DU|DES|LA|DI|DELLA)\s*)?"
    rf"{_CAP}(?:\s(?:(?:de|di|la|le|del|von|van)\s)?{_CAP}){{0,3}}"
    rf"(?:,?\s\d{{1,4}}[a-zA-Z]?\b(?:\s(?:Apt\.|Puerta|Piso|Esc\.|Piano|Appartamento|APT\.|"
    rf"PUERTA|PIANO|APPARTAMENTO)\s?\d{{1,3}})?)?"
)
#: One piece of what follows an address: a postcode, a city beside one, a US state
#: with its ZIP code, a province in brackets.
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|\d{4}[ \t]?[A-Z]{2}|\d{2}-\d{3}|\d{4,5})"
_CITY = (
    rf"{_CAP}(?:(?:[ \t]|-|[ \t](?:de|di|la|le|del|sur|an der|am|aan de|aan den|aan|den)[ \t])"
    rf"{_CAP}){{0,4}}"
)
_TAIL_PIECE = re.compile(
    rf"{_POSTCODE}(?:[ \t]{_CITY})?(?:[ \t]\([A-Z]{{2}}\))?(?!\w)"
    rf"|[A-Z]{{2}}[ \t]\d{{5}}(?:-\d{{4}})?(?!\w)"
    rf"|{_CITY}(?:[ \t](?:\([A-Z]{{2}}\)|[A-Z]{{2}}[ \t]\d{{5}}(?:-\d{{4}})?|{_POSTCODE}))?(?!\w)"
)
_HAS_CODE = re.compile(rf"\d|\([A-Z]{{2}}\)|^{_POSTCODE}$")
_ENDS = re.compile(r"\s*(?:$|[\n.;:!?)]|,\s*\n)")
_SEPARATOR = re.compile(r"[ \t]*(?:,[ \t]*\n?|\n)[ \t]*")


def _forms(words: str, *, title: bool) -> frozenset[str]:
    """The words of an alternation as written in a text (dots dropped; in capitals
    too, and capitalised when ``title``)."""
    plain = [w.replace("\\.", "").replace("/", "") for w in words.split("|")]
    forms = set(plain) | {w.upper() for w in plain}
    if title:
        forms |= {w.capitalize() for w in plain}
    return frozenset(f for f in forms if f)


#: The street words as written (UTF-8), English ones capitalised (``run``, ``rest``,
#: ``park`` in prose are none): a text without one, and without a word ending like a
#: German or Dutch street before a number, has no address.
_EN_FORMS = frozenset(f.encode() for f in _forms(_EN_STREETS, title=False))
_ROMANCE_FORMS = frozenset(f.encode() for f in _forms(_ROMANCE_WORDS, title=False))
_ENDINGS = tuple(e.replace("\\.", "") for e in _SUFFIXES.split("|"))
_WORDS = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
#: ASCII letters and the bytes of other characters kept, every other byte a space:
#: ``split`` then gives the words (C).
_NOT_LETTER = bytes(c if c >= 0x80 or chr(c).isalpha() else 0x20 for c in range(256))
_NOT_ASCII_LETTER = bytes(c if c < 0x80 and chr(c).isalpha() else 0x20 for c in range(256))
#: A digit right after a letter (and a dot) and one space or tab (``Kerkstraat 12``,
#: ``Schülerstr. 13``): tried at digits
#: only (the pattern starts with one), so prose costs a C scan.
_AFTER_WORD = re.compile(r"\d(?:(?<=[^\W\d_][ \t]\d)|(?<=[^\W\d_]\.[ \t]\d))")
#: How far before its street word an English address may begin.
_BEFORE = 90


def _words(text: str) -> set[bytes]:
    """The distinct words of ``text`` (UTF-8; a non-ASCII letter's bytes kept as
    letters), split by C methods; and its ASCII words, so that a word glued to
    non-ASCII punctuation (``Street”``) is one too (the occurrences read it so)."""
    encoded = text.encode("utf-8", "surrogatepass")
    words = set(encoded.translate(_NOT_LETTER).split())
    if not text.isascii():
        words.update(encoded.translate(_NOT_ASCII_LETTER).split())
    return words


def _before_numbers(text: str) -> list[int]:
    """Where the words that a number follows (``Kerkstraat 12``) and that end like a
    German, Dutch or Scandinavian street begin."""
    if next(_north_endings().iter(text.lower()), None) is None:
        return []  # no street ending before a space (one C pass)
    starts: list[int] = []
    for number in _AFTER_WORD.finditer(text):
        gap = number.start() - 1
        start = max(text.rfind(" ", 0, gap), text.rfind("\n", 0, gap), text.rfind("\t", 0, gap)) + 1
        if text[start:gap].rstrip(".").lower().endswith(_ENDINGS):
            starts.append(start)
    return starts


@lru_cache(maxsize=1)
def _north_endings() -> Any:
    """The endings of :data:`_ENDINGS` followed by a space or tab, as an automaton."""
    return phrases(tuple(e + gap for e in _ENDINGS for gap in (" ", "\t", ". ")))


@lru_cache(maxsize=512)
def _occurrences(form: str) -> re.Pattern[str]:
    # The word first, its left boundary after it: ``re`` then skips to the word's first
    # letter in C (a look-behind first is tried at every position: ~10 times slower).
    return re.compile(rf"{re.escape(form)}(?<!\w{re.escape(form)})(?!\w)")


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses in ``text``, with the postcode, city and region
    that follow each."""
    if _DIGIT.search(text) is None:
        return []  # every address here holds a number or a postcode
    words = _words(text)
    english, romance = _EN_FORMS.intersection(words), _ROMANCE_FORMS.intersection(words)
    north = _before_numbers(text)
    if not (english or romance or north):
        return []
    found: list[tuple[int, int]] = []
    for form in english:
        for word in _occurrences(form.decode()).finditer(text):
            begin = max(0, word.start() - _BEFORE)
            if _DIGIT.search(text, begin, word.start() + 80) is None:
                continue  # no house or flat number before it, no postcode after it
            head = _EN_HEAD.search(text, begin, word.start())
            if head is not None:
                after = _EN_AFTER.match(text, word.end())
                found.append((head.start(), after.end() if after else word.end()))
    for form in romance:
        for word in _occurrences(form.decode()).finditer(text):
            after = _ROMANCE_AFTER.match(text, word.end())
            if after is not None:
                number = _ROMANCE_NUMBER.search(text, max(0, word.start() - 14), word.start())
                found.append((number.start() if number else word.start(), after.end()))
    for start in north:
        street = _NORTH.match(text, start)
        if street is not None:
            found.append(street.span())
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if spans and start < spans[-1][1]:
            continue
        if not _DIGIT.search(text, start, end) and not _after_code(text, end):
            continue  # a street word after capitalised words, no number: prose
        spans.append((start, _tail(text, end)))
    return spans


def _after_code(text: str, end: int) -> bool:
    """Whether a postcode follows ``end`` (a street named without a number)."""
    return _tail(text, end) > end


def _tail(text: str, end: int) -> int:
    """Where the postcode, city and region after an address end (``end`` if none)."""
    pieces: list[tuple[int, bool]] = []
    position = end
    for _ in range(4):
        separator = _SEPARATOR.match(text, position)
        if separator is None:
            break
        piece = _TAIL_PIECE.match(text, separator.end())
        if piece is None or (piece.end() < len(text) and text[piece.end()].isalnum()):
            break
        pieces.append((piece.end(), _HAS_CODE.search(piece.group()) is not None))
        position = piece.end()
    # A piece joins when it or the one after it holds a postcode (``Adamsbury, IL 77984``),
    # or it ends the address after one (``3893 JO, Usquert.``; not ``SW1A 2AA, Tom said``).
    reach = end
    for index, (piece_end, coded) in enumerate(pieces):
        following = index + 1 < len(pieces) and pieces[index + 1][1]
        last = index > 0 and pieces[index - 1][1] and _ENDS.match(text, piece_end) is not None
        if not (coded or following or last):
            break
        reach = piece_end
    return reach
