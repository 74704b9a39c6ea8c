"""Generate labelled PII sets for bench/pii_eval.py (our own templates and values).

    python tests/data/pii/generate.py            # writes set-<seed>.jsonl for SEEDS

Every value is made here with its checksum (Luhn, IBAN mod 97, NHS mod 11, NIF letter,
Base58Check) or its numbering plan (phone numbers checked with ``phonenumbers``); the
sentences are templates in English, German, French and Spanish. About a third of the
texts are hard negatives: order numbers, dates, version strings, UUIDs, tracking codes,
amounts, file names, hashes. Each line: ``{"id", "lang", "text", "entities": [{"type",
"start", "end"}]}``. Evasion variants are derived from these by bench/pii_eval.py.
Several seeds give independent sets; nothing is tuned to one of them.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import sys
from collections.abc import Callable
from pathlib import Path

SEEDS = (11, 23, 37)
SIZE = 600

FIRST = ["maria", "john", "aiko", "lukas", "chloe", "mateo", "priya", "olu", "sven", "ana",
         "li", "fatima", "noah", "elena", "kwame", "ines", "tomasz", "yusuf", "mei", "jean-luc"]  # fmt: skip
LAST = ["lopez", "smith", "tanaka", "muller", "martin", "garcia", "patel", "adeyemi",
        "larsen", "silva", "wang", "haddad", "brown", "rossi", "mensah", "dupont", "nowak"]  # fmt: skip
DOMAINS = ["example.com", "example.org", "mail.example.co.uk", "firma.example.de",
           "exemple.fr", "correo.example.es", "corp.example.io", "example.com.br", "uni.example.edu"]  # fmt: skip
TEMPLATES = {
    "en": ["Please send the contract to {}.", "My details: {}.", "Can you update the record with {} today?",
           "For the refund use {}, thanks.", "The customer wrote: \"reach me at {}\".", "{} is what the form says."],
    "de": ["Bitte schicken Sie den Vertrag an {}.", "Meine Angaben: {}.", "Können Sie {} im System ändern?",
           "Für die Erstattung bitte {} verwenden."],
    "fr": ["Merci d'envoyer le contrat à {}.", "Mes coordonnées : {}.", "Pouvez-vous mettre à jour {} ?"],
    "es": ["Envíe el contrato a {}, por favor.", "Mis datos: {}.", "¿Puede actualizar {} hoy?"],
}  # fmt: skip
LABELS = {
    "EMAIL_ADDRESS": ["email", "e-mail", "mail"], "PHONE_NUMBER": ["phone", "tel.", "mobile"],
    "CREDIT_CARD": ["card", "credit card", "Karte"], "IBAN_CODE": ["IBAN", "account"],
    "US_SSN": ["SSN", "social security number"], "IP_ADDRESS": ["IP", "host", "server"],
    "URL": ["link", "site", "page"], "CRYPTO": ["wallet", "BTC address"], "UK_NHS": ["NHS number"],
    "UK_NINO": ["NI number", "national insurance number"], "ES_NIF": ["DNI", "NIF"],
}  # fmt: skip


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, digit in enumerate(reversed(body)):
        d = int(digit) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "visa", "mc", "amex", "discover"])
    if kind == "amex":
        number = luhn_complete(rng.choice(["34", "37"]), 15, rng)
        groups = [number[:4], number[4:10], number[10:]]
    else:
        prefix = {"visa": "4", "mc": str(rng.randint(51, 55)), "discover": "6011"}[kind]
        number = luhn_complete(prefix, 16, rng)
        groups = [number[i : i + 4] for i in range(0, 16, 4)]
    return rng.choice([" ", "-", ""]).join(groups)


IBAN_SHAPES = {"DE": "18n", "GB": "4a14n", "FR": "23n", "ES": "20n", "NL": "4a10n", "IT": "1a22n"}


def iban(rng: random.Random) -> str:
    country = rng.choice(list(IBAN_SHAPES))
    bban = ""
    for part in _shape_parts(IBAN_SHAPES[country]):
        size, kind = part
        alphabet = string.ascii_uppercase if kind == "a" else string.digits
        bban += "".join(rng.choice(alphabet) for _ in range(size))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def _shape_parts(shape: str) -> list[tuple[int, str]]:
    parts, number = [], ""
    for char in shape:
        if char.isdigit():
            number += char
        else:
            parts.append((int(number), char))
            number = ""
    return parts


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = rng.choice(["-", "-", " ", "."])
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def phone(rng: random.Random) -> str:
    import phonenumbers

    while True:
        region = rng.choice(["US", "GB", "DE", "FR", "IN", "BR", "CA"])
        example = phonenumbers.example_number(region)
        assert example is not None
        national = str(example.national_number)
        digits = national[:3] + "".join(rng.choice(string.digits) for _ in range(len(national) - 3))
        number = phonenumbers.parse(digits, region)
        if not phonenumbers.is_valid_number(number):
            continue
        style = rng.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                            phonenumbers.PhoneNumberFormat.NATIONAL])  # fmt: skip
        return phonenumbers.format_number(number, style)


def ip(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    return (
        "2001:db8:" + ":".join(groups[2:])
        if rng.random() < 0.5
        else f"fe80::{groups[0]}:{groups[1]}"
    )


def url(rng: random.Random) -> str:
    host = rng.choice(["www.", "", "portal.", "intranet."]) + rng.choice(DOMAINS)
    path = rng.choice(
        ["", "/profile/" + str(rng.randint(1, 9999)), "/u/" + rng.choice(FIRST), "/?id=42"]
    )
    return rng.choice(["https://", "http://", "https://", ""]) + host + path


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def crypto(rng: random.Random) -> str:
    payload = bytes([rng.choice([0, 5])]) + rng.randbytes(20)
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(payload + check, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = B58[rest] + out
    return "1" * (len(payload + check) - len((payload + check).lstrip(b"\0"))) + out


def nhs(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        if check == 10:
            continue
        value = "".join(map(str, digits)) + str(0 if check == 11 else check)
        return f"{value[:3]} {value[3:6]} {value[6:]}" if rng.random() < 0.7 else value


def nino(rng: random.Random) -> str:
    while True:
        first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        if first + second not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            break
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{first}{second}{digits}{suffix}"


def nif(rng: random.Random) -> str:
    number = rng.randint(10_000_000, 99_999_999)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def email(rng: random.Random) -> str:
    sep = rng.choice([".", "_", "", "-"])
    local = rng.choice(FIRST).replace("-", "") + sep + rng.choice(LAST)
    if rng.random() < 0.3:
        local += str(rng.randint(1, 99))
    return f"{local}@{rng.choice(DOMAINS)}"


MAKERS: dict[str, Callable[[random.Random], str]] = {
    "EMAIL_ADDRESS": email, "PHONE_NUMBER": phone, "CREDIT_CARD": card, "IBAN_CODE": iban,
    "US_SSN": ssn, "IP_ADDRESS": ip, "URL": url, "CRYPTO": crypto, "UK_NHS": nhs,
    "UK_NINO": nino, "ES_NIF": nif,
}  # fmt: skip


def negative(rng: random.Random) -> str:
    """A look-alike that is no personal data."""
    kinds: list[Callable[[], str]] = [
        lambda: (
            f"order ORD-{rng.randint(2019, 2026)}-{rng.randint(100, 999)}-{rng.randint(10000, 99999)}"
        ),
        lambda: f"order #{rng.randint(10**7, 10**8 - 1)}",
        lambda: f"{rng.randint(2000, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1990, 2030)}",
        lambda: f"version {rng.randint(0, 20)}.{rng.randint(0, 40)}.{rng.randint(0, 300)}",
        lambda: (
            f"build {rng.randint(10, 30)}.{rng.randint(0, 9)}.{rng.randint(1000, 30000)}.{rng.randint(256, 9999)}"
        ),
        lambda: str(__import__("uuid").UUID(int=rng.getrandbits(128))),
        lambda: (
            "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        ),
        lambda: f"ticket INC{rng.randint(10**6, 10**7 - 1)}",
        lambda: f"total {rng.randint(1, 99)},{rng.randint(100, 999)}.{rng.randint(10, 99)} EUR",
        lambda: f"commit {rng.randbytes(20).hex()}",
        lambda: (
            f"ISBN 978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}"
        ),
        lambda: f"at {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        lambda: f"timestamp {rng.randint(1_600_000_000, 1_800_000_000)}",
        lambda: f"color #{rng.randbytes(3).hex()}",
        lambda: f"room {rng.randint(1, 40)}.{rng.randint(100, 999)}",
        lambda: f"part no. {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    ]
    return rng.choice(kinds)()


def make_text(rng: random.Random, index: int) -> dict[str, object]:
    lang = rng.choice(["en", "en", "de", "fr", "es"])
    template = rng.choice(TEMPLATES[lang])
    pieces: list[tuple[str, str | None]] = []
    if rng.random() < 0.33:
        for _ in range(rng.randint(1, 3)):
            pieces.append((negative(rng), None))
            pieces.append((rng.choice([", ", " and ", "; "]), None))
        pieces.pop()
    else:
        for _ in range(rng.randint(1, 3)):
            entity = rng.choice(list(MAKERS))
            pieces.append((f"{rng.choice(LABELS[entity])} ", None))
            pieces.append((MAKERS[entity](rng), entity))
            pieces.append((rng.choice([", ", " and ", "; "]), None))
        if rng.random() < 0.5:
            pieces.append((negative(rng), None))
        else:
            pieces.pop()  # the last separator
    before, _, after = template.partition("{}")
    text, entities = before, []
    for value, entity in pieces:
        if entity is not None:
            entities.append({"type": entity, "start": len(text), "end": len(text) + len(value)})
        text += value
    text += after
    return {"id": index, "lang": lang, "text": text, "entities": entities}


def generate(seed: int, size: int = SIZE) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [make_text(rng, i) for i in range(size)]


def main() -> None:
    here = Path(__file__).parent
    for seed in SEEDS:
        rows = generate(seed)
        with (here / f"set-{seed}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"set-{seed}.jsonl: {len(rows)} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
