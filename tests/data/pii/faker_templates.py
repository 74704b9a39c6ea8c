"""Text templates of generate_faker.py: each takes a ``Maker`` (Faker values of one
locale) and returns the text's pieces, a labelled value being ``(entity, value)``.

Written for this set in styles unlike generate.py's: chat, support tickets, e-mails
with signatures, forms, CSV and log lines, medical and HR notes, paragraphs with many
entities, lower case and capitals, names at a sentence's start and names that are
common words. ``NEGATIVES`` hold no personal data but look alike: capitalised nouns,
products, months, common words that are names elsewhere, ids and dates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Piece = tuple[str, str]
Pieces = list[Any]
Template = Callable[[Any], Pieces]

#: Nationalities, religions and political groups, written for this set.
NRP_VALUES = [
    "Canadian", "Brazilian", "Nigerian", "Vietnamese", "Polish", "Irish", "Mexican",
    "Pakistani", "Korean", "Dutch", "Swiss", "Kenyan", "Filipino", "Turkish", "Greek",
    "Moroccan", "Sri Lankan", "New Zealander", "Ukrainian", "Peruvian", "Egyptian",
    "Catholic", "Muslim", "Jewish", "Hindu", "Buddhist", "Sikh", "Protestant", "Mormon",
    "Lutheran", "Baptist", "Methodist", "Orthodox", "atheist", "Democrats", "Republicans",
    "Labour", "Tories", "Social Democrats", "Greens", "Communists", "Liberal Democrats",
]  # fmt: skip
#: Given names that are common words (a name only by context).
WORD_NAMES = ["Will", "Grant", "Rose", "May", "Bill", "Hope", "Mark", "Frank", "Jack",
              "Dawn", "Summer", "Hunter", "Joy", "Faith", "Violet", "Drew"]  # fmt: skip


def low(pieces: Pieces) -> Pieces:
    return [(p[0], p[1].lower()) if isinstance(p, tuple) else p.lower() for p in pieces]


def caps(pieces: Pieces) -> Pieces:
    return [(p[0], p[1].upper()) if isinstance(p, tuple) else p.upper() for p in pieces]


def word_name(m: Any) -> Piece:
    return ("PERSON", f"{m.rng.choice(WORD_NAMES)} {m.fake.last_name()}")


def _ticket(m: Any) -> Pieces:
    n = m.rng.randint(10000, 99999)
    return [f"Ticket #{n} opened by ", m.person(), " (", m.email(), "): printer on the third "
            "floor jams since Monday. Callback: ", m.phone(), "."]  # fmt: skip


def _signature(m: Any) -> Pieces:
    return ["Hi team,\n\nthe revised quote is attached; let me know by Friday.\n\nBest regards,\n",
            m.person(), "\nSenior Buyer, ", m.company(), "\n", m.address_lines(), "\nTel ",
            m.phone()]  # fmt: skip


def _form(m: Any) -> Pieces:
    return ["Name: ", m.person(), "\nAddress: ", m.address(), "\nEmail: ", m.email(),
            "\nEmployer: ", m.company()]  # fmt: skip


def _csv(m: Any) -> Pieces:
    return [f"{m.rng.randint(1000, 9999)},", m.first(), ",", m.last(), ",", m.city(), ",",
            m.email(), f",{m.date()}"]  # fmt: skip


def _log(m: Any) -> Pieces:
    return [f"{m.date()} 12:0{m.rng.randint(0, 9)}:31 INFO login ok user=", m.email(),
            " ip=", m.ip(), " agent=Mozilla/5.0"]  # fmt: skip


def _medical(m: Any) -> Pieces:
    return ["Pt ", m.person(), ", 54, seen by ", m.title(), " ", m.last(), " for follow-up. "
            "Lives alone at ", m.street(), "; daughter to be called on ", m.phone(), "."]  # fmt: skip


def _hr(m: Any) -> Pieces:
    return ["HR note: ", m.person(), " joined ", m.company(), " in March as a ",
            m.fake.job().lower(), "; relocating from ", m.city(), " to ", m.country(), "."]  # fmt: skip


def _paragraph(m: Any) -> Pieces:
    return [m.person(), " met ", m.person(), " of ", m.company(), " in ", m.city(),
            " to discuss the merger with ", m.company(), ". Both are ", m.nrp(),
            " and want the deal signed before the holidays."]  # fmt: skip


def _chat(m: Any) -> Pieces:
    return ["hey it's ", m.first(), " lol, my new place is ", m.street(), " — come over sat? "
            "text me ", m.phone()]  # fmt: skip


def _chat_lower(m: Any) -> Pieces:
    return low(["ok so ", m.person(), " from ", m.company(), " says the parcel went to ",
                m.city(), " instead"])  # fmt: skip


def _caps(m: Any) -> Pieces:
    return caps(["SHIP TO: ", m.person(), ", ", m.address()])


def _start(m: Any) -> Pieces:
    return [m.last(), " confirmed the booking. ", m.first(), " will bring the keys."]


def _word_name(m: Any) -> Pieces:
    return ["Dear ", word_name(m), ",\nthank you for your application. Kind regards, ",
            m.person()]  # fmt: skip


def _intro(m: Any) -> Pieces:
    return ["My name is ", m.person(), " and I'm a ", m.nrp(), " student living in ",
            m.city(), ". My bank account is ", m.iban(), "."]  # fmt: skip


def _titled(m: Any) -> Pieces:
    return ["Please forward the lab results to ", m.title(), " ", m.initial_person(),
            " at ", m.company(), " before noon."]  # fmt: skip


def _card(m: Any) -> Pieces:
    return ["Charge it to card ", m.card(), " — the holder is ", m.person(), ", billing "
            "address ", m.address(), "."]  # fmt: skip


def _ssn(m: Any) -> Pieces:
    return ["Applicant ", m.person(), " (SSN ", m.ssn(), ") lists ", m.region(),
            " as state of residence."]  # fmt: skip


def _nrp(m: Any) -> Pieces:
    return ["The survey asked whether respondents were ", m.nrp(), " or ", m.nrp(),
            "; ", m.person(), " answered for the household."]  # fmt: skip


def _vendor(m: Any) -> Pieces:
    return ["Invoice 2024-", str(m.rng.randint(100, 999)), " from ", m.company(),
            " was approved by ", m.person(), ". Details: ", m.url()]  # fmt: skip


POSITIVES: dict[str, list[Template]] = {
    "any": [_form, _csv, _log, _caps, _card, _vendor],
    "en": [
        _ticket,
        _signature,
        _medical,
        _hr,
        _paragraph,
        _chat,
        _chat_lower,
        _start,
        _word_name,
        _intro,
        _titled,
        _ssn,
        _nrp,
    ],
    "de": [
        lambda m: [
            "Sehr geehrte(r) ",
            m.title(),
            " ",
            m.last(),
            ",\nIhre Bestellung wird an ",
            m.address(),
            " geliefert.\nMit freundlichen Grüßen\n",
            m.person(),
            "\n",
            m.company(),
        ],
        lambda m: [
            "Patientin ",
            m.person(),
            ", wohnhaft in ",
            m.city(),
            ", Rückruf unter ",
            m.phone(),
            ".",
        ],
    ],
    "fr": [
        lambda m: [
            "Bonjour ",
            m.first(),
            ",\nle colis est parti pour ",
            m.address(),
            ".\nCordialement,\n",
            m.person(),
            " — ",
            m.company(),
        ],
        lambda m: [
            "Le dossier de ",
            m.title(),
            " ",
            m.person(),
            " (",
            m.email(),
            ") est transmis à l'agence de ",
            m.city(),
            ".",
        ],
    ],
    "es": [
        lambda m: [
            "Hola ",
            m.first(),
            ", te escribo desde ",
            m.city(),
            ". Mi dirección nueva es ",
            m.address(),
            ". Un saludo, ",
            m.person(),
        ],
        lambda m: [
            "Cliente: ",
            m.person(),
            "\nEmpresa: ",
            m.company(),
            "\nTeléfono: ",
            m.phone(),
        ],
    ],
    "it": [
        lambda m: [
            "Gentile ",
            m.title(),
            " ",
            m.last(),
            ", la consegna è prevista in ",
            m.address(),
            ". Cordiali saluti, ",
            m.person(),
            ", ",
            m.company(),
        ],
        lambda m: [
            "Il paziente ",
            m.person(),
            ", residente a ",
            m.city(),
            ", tel. ",
            m.phone(),
        ],
    ],
    "nl": [
        lambda m: [
            "Beste ",
            m.first(),
            ",\nhet pakket gaat naar ",
            m.address(),
            ".\nMet vriendelijke groet,\n",
            m.person(),
            "\n",
            m.company(),
        ],
        lambda m: [
            "Klant ",
            m.person(),
            " uit ",
            m.city(),
            " belde over factuur ",
            str(m.rng.randint(1000, 9999)),
            ".",
        ],
    ],
}


def _neg(*texts: str) -> list[Template]:
    return [lambda m, t=t: [t.format(n=m.rng.randint(100, 9999), d=m.date(), w=m.word())]
            for t in texts]  # fmt: skip


NEGATIVES: dict[str, list[Template]] = {
    "any": _neg(
        "ERROR 2024-03-0{n} worker-{n} TIMEOUT after {n} ms (retry {n})",
        "id,status,amount\n{n},PAID,{n}.00\n{n},OPEN,12.50",
        "Build {n} passed on Linux and Windows; Docker image tag v{n}.",
        "ORDER {n} SHIPPED VIA EXPRESS — TRACKING NUMBER TO FOLLOW",
    ),
    "en": _neg(
        "Will you grant me access to the Rose Garden booking page by May {n}?",
        "Summer sale: Crystal glasses and Hunter boots, {n} items left.",
        "The Supreme Court ruled on the Clean Air Act on {d}.",
        "Mark the Monday standup as done and file the Q3 report.",
        "Reading List: Great Expectations, Pride and Prejudice, Moby Dick.",
        "Turn on Dark Mode in Settings, then restart Visual Studio Code.",
        "Please review the Pull Request before the Sprint Review on Friday.",
        "Jack up the car, then check the Ford Focus spare tire.",
        "The Golden Retriever and the German Shepherd both passed the vet check.",
        "Happy Thanksgiving! Our office reopens {d}.",
        "the quick brown fox jumps over the lazy dog, {n} times.",
        "Order #{n}: 2 x Chicken Caesar Salad, 1 x Lemon Tart. Total $23.{n}",
        "Prime Minister's Questions is on Wednesday at noon.",
        "See section {n} of the Terms of Service and the Privacy Policy.",
        "FYI: the Main Street branch closes early on Christmas Eve.",
    ),
    "de": _neg(
        "Die Rechnung Nr. {n} wurde am {d} bezahlt. Vielen Dank für Ihren Einkauf!",
        "Bitte die Heizung im Büro prüfen, der Hausmeister kommt Montag.",
    ),
    "fr": _neg(
        "Votre commande n° {n} a été expédiée. Merci de votre confiance !",
        "La réunion du Conseil est reportée à jeudi, salle {n}.",
    ),
    "es": _neg(
        "Su pedido {n} está en camino. Gracias por comprar en nuestra Tienda.",
        "La Junta Directiva se reúne el Lunes a las {n}.",
    ),
    "it": _neg(
        "Il Suo ordine {n} è stato spedito. Grazie per l'acquisto!",
        "La Riunione di Lunedì è rinviata, Sala {n}.",
    ),
    "nl": _neg(
        "Uw bestelling {n} is verzonden. Bedankt voor uw aankoop!",
        "De Vergadering van Maandag is verplaatst naar zaal {n}.",
    ),
}
