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
_EN = (
    rf"(?:(?:Flat|Studio|Apartment|Unit|Suite|Apt\.?)\s\d{{1,5}}[A-Za-z]?\s*[,\n]\s*)?"
    rf"(?:\d(?<![\w.-]\d)\d{{0,5}}[A-Za-z]?,?\s+)?"
    rf"(?:{_CAP}\.?\s+){{1,3}}(?:{_EN_STREETS}|{_EN_STREETS.upper()})\b\.?"
    rf"(?:,?\s{_EN_UNIT})?"
)
#: German, Dutch, Scandinavian street words written as a word's end.
_SUFFIXES = (
    "straße|strasse|str\\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt|"
    "laan|straat|gracht|plein|singel|kade|dijk|hof|pad|steeg|dreef|baan|vägen|gatan|gade|"
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
_NORTH = (
    rf"[{_UP}][{_LOW}{_UP}'’-]*(?:{_SUFFIXES}|-(?:{_SUFFIXES.title()}))"
    rf"\s+\d{{1,4}}[a-zA-Z]?(?:\s?[-/]\s?\d{{1,4}}[a-zA-Z]?)?"
)
_ROMANCE_WORDS = (
    "rue|avenue|av\\.|boulevard|bd|place|chemin|allée|impasse|quai|cours|route|square|"
    "passage|voie|Calle|C/|C\\.|Avenida|Avda\\.|Av\\.|Plaza|Pza\\.|Paseo|Camino|Carrer|"
    "Ronda|Vía|Travesía|Pasaje|Cuesta|Rambla|Urbanización|Callejón|Glorieta|Alameda|"
    "Cañada|Carretera|Pasadizo|Acceso|Bajada|Plazuela|Vial|Via|Viale|Piazza|Piazzale|Corso|Largo|"
    "Vicolo|Strada|Borgo|Contrada|Rotonda|Canale|Incrocio|Stretto|Vico|Lungomare|Salita|"
    "Rua|Travessa|Praça|Estrada|Praia|Aleja|Ulica|ul\\.|al\\.|Plac|Osiedle"
)
_ROMANCE_WORDS = _with_folded(_ROMANCE_WORDS)
_ROMANCE = (
    rf"(?:\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+)?"
    rf"(?:{_ROMANCE_WORDS}|{_ROMANCE_WORDS.upper()})\s+"
    rf"(?:(?:de|del|de la|de las|de los|du|des|de l'|d'|l'|la|le|dei|della|delle|degli|"
    rf"di|do|da|dos|das|DE|DEL|DU|DES|LA|DI|DELLA)\s*)?"
    rf"{_CAP}(?:\s(?:(?:de|di|la|le|del|von|van)\s)?{_CAP}){{0,3}}"
    rf"(?:,?\s\d{{1,4}}[a-zA-Z]?\b(?:\s(?:Apt\.|Puerta|Piso|Esc\.|Piano|Appartamento|APT\.|PUERTA|PIANO|APPARTAMENTO)"
    rf"\s?\d{{1,3}})?)?"
)
ADDRESS = re.compile(rf"(?<![\w@/.-])(?:{_ROMANCE}|{_NORTH}|{_EN})")
#: One piece of what follows an address: a postcode, a city beside one, a US state
#: with its ZIP code, a province in brackets.
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{4,5})"
_CITY = (
    rf"{_CAP}(?:(?:\s|-|\s(?:de|di|la|le|del|sur|an der|am|aan de|aan den|aan|den)\s)"
    rf"{_CAP}){{0,4}}"
)
_TAIL_PIECE = re.compile(
    rf"{_POSTCODE}(?:\s{_CITY})?(?:\s\([A-Z]{{2}}\))?(?!\w)|[A-Z]{{2}}\s\d{{5}}(?:-\d{{4}})?(?!\w)"
    rf"|{_CITY}(?:\s(?:\([A-Z]{{2}}\)|[A-Z]{{2}}\s\d{{5}}(?:-\d{{4}})?|{_POSTCODE}))?(?!\w)"
)
_HAS_CODE = re.compile(rf"\d|\([A-Z]{{2}}\)|^{_POSTCODE}$")
_ENDS = re.compile(r"\s*(?:$|[\n.;:!?)]|,\s*\n)")
_SEPARATOR = re.compile(r"[ \t]*(?:,[ \t]*\n?|\n)[ \t]*")
#: The street words (lower case) and the word endings of :data:`_SUFFIXES`: a text
#: without one has no address (set look-ups of its words, no regex over it).
_STREET_WORDS = frozenset(
    w.lower().replace("\\.", "") for w in (_EN_STREETS + "|" + _ROMANCE_WORDS).split("|")
)
_ENDINGS = tuple(e.replace("\\.", "") for e in _SUFFIXES.split("|"))
_WORDS = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
#: How far before its street word an address may begin, and after it end (tail aside).
_BEFORE, _AFTER = 90, 40


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses in ``text``, with the postcode, city and region
    that follow each."""
    if _DIGIT.search(text) is None:
        return []  # every address here holds a number or a postcode
    words = set(_WORDS.findall(text.lower()))
    if _STREET_WORDS.isdisjoint(words) and not any(w.endswith(_ENDINGS) for w in words):
        return []  # no street word (C set operations on the text's distinct words)
    windows: list[list[int]] = []
    for word in _WORDS.finditer(text):
        key = word.group().lower()
        if key in _STREET_WORDS or key.endswith(_ENDINGS):
            start, end = max(0, word.start() - _BEFORE), word.end() + _AFTER
            if windows and start <= windows[-1][1]:
                windows[-1][1] = end
            else:
                windows.append([start, end])
    spans: list[tuple[int, int]] = []
    for start, end in windows:
        # Only where a street word is: the pattern tried at every capital of a long
        # text costs ~20 times as much.
        for match in ADDRESS.finditer(text, start, min(end, len(text))):
            if spans and match.start() < spans[-1][1]:
                continue
            found_end = match.end()
            if not any(c.isdigit() for c in match.group()) and not _after_code(text, found_end):
                continue  # a street word after capitalised words, no number: prose
            spans.append((match.start(), _tail(text, found_end)))
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
