"""Write ``openers.jsonl``: greetings and openers before capitalised words, labelled.

    python tests/data/pii/generate_openers.py

An opener (``Hi``, ``Hello``, ``Dear``, ``Hey``, ``Thanks``) before a capitalised word
says a person may follow: ``Hi Maria``. It says so of a common English word too
(``Hello World``, ``Hi Team``, ``Dear Customer``), which is no name. The set holds
hand-written hard negatives (greetings to groups and roles, programs' greetings in
code, log lines and prose) and positives (given names, family names after titles,
hyphenated names), and the given and full names of ``faker-101.jsonl`` written after
openers (its PERSON values in their own spelling: capitalised, not all capitals or
lower case). Re-running the script rewrites the file byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

_HERE = Path(__file__).parent
#: Texts without a person or place: the capitalised word after the opener is a common
#: word (or a greeting's second word, a brand, a program's output).
NEGATIVES = (
    'print("Hello World")',
    "Hello World is the first program most people write.",
    'console.log("Hello World!"); // greet',
    'fn main() { println!("Hello, World"); }',
    "2024-05-02 10:11:12 INFO app: Hello World from worker 3",
    "echo 'Hello World' > greeting.txt",
    "Hi Team, the build passed.",
    "Hi Team,\n\nthe release notes are attached.",
    "Hi All, the meeting moves to Friday.",
    "Hello Everyone, welcome to the workshop.",
    "Dear Customer, your order has shipped.",
    "Dear Customer,\nthank you for your purchase.",
    "Dear Sir or Madam, I am writing about my invoice.",
    "Dear Valued Member, your subscription renews soon.",
    "Dear Valued Customer, we have updated our terms.",
    "Hi There, how can I help you today?",
    "Hello Friends, today we bake bread.",
    "Good Morning Class, please sit down.",
    "Hey Folks, a quick update on the roadmap.",
    "Hey Guys, the server is back up.",
    "Hello Kitty is a brand of stationery.",
    "Thanks Everyone for joining the call.",
    "Hi Support, my password reset link expired.",
    "Hello Operator, please connect me.",
    "Dear Hiring Manager, please find my CV attached.",
    "Dear Colleagues, the office is closed on Monday.",
    "Hello Neighbor, your package arrived at my door.",
    "Dear Parents, the school trip is on Thursday.",
    "Hi Everybody, lunch is in the kitchen.",
    "Hey Team, standup is cancelled.",
    'logger.warning("Hi Team: disk at 91%")',
    "[bot] Hello Human! Type /help for commands.",
    "Hello Again, it has been a while.",
    "Dear Diary, today was long.",
    "Hello World programs print a greeting and exit.",
)
#: Texts with a person (``[...]`` marks the labelled span).
POSITIVES = (
    "Hi [Maria], the build passed.",
    "Hello Mr [Smith], welcome back.",
    "Dear Ms. [Okafor], thank you for your letter.",
    "Hi [Jean-Luc], see you at nine.",
    "Hey [Priya], got it.",
    "Dear Dr [Nguyen], the results are attached.",
    "Hi [Xochitl], your badge is ready.",
    "Hello [Oluwaseun], the contract is signed.",
    "Dear [Will Baker], thank you for your application.",
    "Hi [Ann Lee], the meeting moved.",
    "Thanks [Rahul], that fixed it.",
    "Dear [Zorblax Quint], your order shipped.",
)
#: Openers the faker names are written after, in turn.
OPENERS = ("Hi {}, the report is ready.", "Hello {}! Welcome aboard.", "Dear {},\nthanks.",
           "Hey {} - are you free?", "Thanks {}, that helps.")  # fmt: skip
#: How many of faker-101's PERSON values are used.
FAKER_NAMES = 60


def _labelled(text: str) -> dict[str, object]:
    start = text.index("[")
    end = text.index("]") - 1
    plain = text.replace("[", "").replace("]", "")
    return {"text": plain, "entities": [{"type": "PERSON", "start": start, "end": end}]}


def _faker_names() -> list[str]:
    rows = (_HERE / "faker-101.jsonl").read_text("utf-8").splitlines()
    names: list[str] = []
    for row in map(json.loads, rows):
        for entity in row["entities"]:
            value = row["text"][entity["start"] : entity["end"]]
            if entity["type"] == "PERSON" and value.istitle() and value not in names:
                names.append(value)
    return names[:FAKER_NAMES]


def rows() -> list[dict[str, object]]:
    """The set's rows, in order: negatives, positives, faker names."""
    out: list[dict[str, object]] = [{"text": text, "entities": []} for text in NEGATIVES]
    out += [_labelled(text) for text in POSITIVES]
    for index, name in enumerate(_faker_names()):
        out.append(_labelled(OPENERS[index % len(OPENERS)].format(f"[{name}]")))
    return [{"id": index, "lang": "en", **row} for index, row in enumerate(out)]


def main() -> None:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows()]
    (_HERE / "openers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
