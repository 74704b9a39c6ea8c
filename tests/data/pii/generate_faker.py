"""Generate the second labelled PII set: Faker's values in texts unlike generate.py's.

    python tests/data/pii/generate_faker.py      # writes faker-<seed>.jsonl for SEEDS

Made independently of ``generate.py`` and of the recognizers: values come from the
``faker`` package (version pinned in pyproject.toml's ``dev`` extra: another version
draws other values) in the locales of :data:`LOCALES`, the texts from the styles in
``faker_templates.py`` (chat, tickets, e-mails with signatures, forms, CSV and log
lines, medical and HR notes, paragraphs with many entities, lower case and capitals,
names that are common words) with about a third hard negatives. Labels: PERSON (given
and family name, no title), LOCATION (a street address with what follows it — postcode,
city, region — as one span; a city, region or country alone), ORGANIZATION (a company
with its legal form), NRP (a nationality, religion or political group), and Faker's
e-mail addresses, phone numbers, IBANs, cards, IPv4 addresses, SSNs and URLs.
Each line: ``{"id", "lang", "text", "entities": [{"type", "start", "end"}]}``.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import sys
from pathlib import Path

import faker

sys.path.insert(0, str(Path(__file__).parent))
from faker_templates import NEGATIVES, POSITIVES, Piece

SEEDS = (101,)
SIZE = 660
FAKER_VERSION = "40.63.0"
#: Locale of the values -> language of the text (the templates' language key).
LOCALES = {"en_US": "en", "en_GB": "en", "de_DE": "de", "fr_FR": "fr", "es_ES": "es",
           "it_IT": "it", "nl_NL": "nl"}  # fmt: skip
#: Locales of names of other origins, written in English texts.
NAME_LOCALES = ("en_IN", "yo_NG", "zu_ZA", "pl_PL", "tr_TR", "pt_BR", "sv_SE", "ga_IE",
                "id_ID", "vi_VN", "en_NZ")  # fmt: skip


class Maker:
    """Values for one text: Faker's, of one locale (names sometimes of another)."""

    def __init__(self, locale: str, rng: random.Random, fakers: dict[str, faker.Faker]) -> None:
        self.locale, self.rng, self._fakers = locale, rng, fakers
        self.fake = fakers[locale]

    def _name_faker(self) -> faker.Faker:
        if self.rng.random() < 0.35:
            return self._fakers[self.rng.choice(NAME_LOCALES)]
        return self.fake

    def first(self) -> Piece:
        return ("PERSON", self._name_faker().first_name())

    def last(self) -> Piece:
        return ("PERSON", self._name_faker().last_name())

    def person(self) -> Piece:
        fake = self._name_faker()
        return ("PERSON", f"{fake.first_name()} {fake.last_name()}")

    def initial_person(self) -> Piece:
        fake = self._name_faker()
        return ("PERSON", f"{fake.first_name()[0]}. {fake.last_name()}")

    def title(self) -> str:
        titles = {"de": ["Herr", "Frau", "Dr."], "fr": ["M.", "Mme", "Dr"],
                  "es": ["Sr.", "Sra.", "Dra."], "it": ["Sig.", "Dott.", "Sig.ra"],
                  "nl": ["Dhr.", "Mevr.", "Dr."]}  # fmt: skip
        return self.rng.choice(titles.get(self.lang, ["Mr.", "Mrs", "Ms.", "Dr.", "Prof."]))

    @property
    def lang(self) -> str:
        return LOCALES[self.locale]

    def address(self) -> Piece:
        """A full postal address on one line (commas for its line breaks)."""
        return ("LOCATION", ", ".join(self.fake.address().split("\n")))

    def address_lines(self) -> Piece:
        return ("LOCATION", self.fake.address())

    def street(self) -> Piece:
        return ("LOCATION", self.fake.street_address())

    def city(self) -> Piece:
        return ("LOCATION", self.fake.city())

    def region(self) -> Piece:
        fake = self.fake
        value = fake.state() if self.locale == "en_US" else fake.administrative_unit()
        return ("LOCATION", value)

    def country(self) -> Piece:
        return ("LOCATION", self.fake.country())

    def company(self) -> Piece:
        return ("ORGANIZATION", self.fake.company())

    def nrp(self) -> Piece:
        from faker_templates import NRP_VALUES

        return ("NRP", self.rng.choice(NRP_VALUES))

    def email(self) -> Piece:
        fake = self.fake
        return ("EMAIL_ADDRESS", fake.email() if self.rng.random() < 0.6 else fake.free_email())

    def phone(self) -> Piece:
        return ("PHONE_NUMBER", self.fake.phone_number())

    def iban(self) -> Piece:
        return ("IBAN_CODE", self.fake.iban())

    def card(self) -> Piece:
        return ("CREDIT_CARD", self.fake.credit_card_number())

    def ip(self) -> Piece:
        return ("IP_ADDRESS", self.fake.ipv4_public())

    def ssn(self) -> Piece:
        return ("US_SSN", self._fakers["en_US"].ssn())

    def url(self) -> Piece:
        return ("URL", self.fake.url())

    def word(self) -> str:
        return str(self.fake.word())

    def date(self) -> str:
        # Fixed bounds: Faker's ``date()`` ends today, so the set would change daily.
        day = self.fake.date_between_dates(datetime.date(1970, 1, 1), datetime.date(2024, 12, 31))
        return day.strftime(self.rng.choice(["%d/%m/%Y", "%Y-%m-%d", "%B %d, %Y"]))


def render(pieces: list[str | Piece]) -> tuple[str, list[dict[str, object]]]:
    """The text of ``pieces`` and its labelled spans."""
    text, entities = "", []
    for piece in pieces:
        if isinstance(piece, tuple):
            kind, value = piece
            entities.append({"type": kind, "start": len(text), "end": len(text) + len(value)})
            text += value
        else:
            text += piece
    return text, entities


def build(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    fakers: dict[str, faker.Faker] = {}
    for index, locale in enumerate((*LOCALES, *NAME_LOCALES)):
        fakers[locale] = faker.Faker(locale)
        fakers[locale].seed_instance(seed * 1000 + index)
    rows: list[dict[str, object]] = []
    for index in range(SIZE):
        locale = rng.choice(list(LOCALES))
        maker = Maker(locale, rng, fakers)
        negative = rng.random() < 0.33
        pool = NEGATIVES if negative else POSITIVES
        templates = pool.get(maker.lang, []) + pool["any"]
        if maker.lang == "en" or rng.random() < 0.5:
            templates = templates + pool["en"] * (maker.lang != "en")
        template = rng.choice(templates)
        text, entities = render(template(maker))
        rows.append({"id": index, "lang": maker.lang, "text": text, "entities": entities})
    return rows


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Some of Faker's locales draw from sets (it_IT's cities): fix their order.
        os.execve(
            sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"}
        )
    if faker.VERSION != FAKER_VERSION:
        print(f"faker {faker.VERSION} draws other values than {FAKER_VERSION}", file=sys.stderr)
    for seed in SEEDS:
        path = Path(__file__).with_name(f"faker-{seed}.jsonl")
        with path.open("w", encoding="utf-8") as out:
            for row in build(seed):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
