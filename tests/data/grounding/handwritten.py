"""Hand-written grounding cases: scenarios and the variants built from them.

Each scenario has passages, two supported sentences, a supported paraphrase, and one
sentence per kind of error (a changed figure or date, a swapped name or role, a
negation, an unsupported addition). ``python -m tests.data.grounding.handwritten``
writes ``handwritten.jsonl``: per scenario a supported answer, a paraphrased one, one
answer per error kind (claim-level labels: which sentence is unsupported), and for
two-passage scenarios a correctly and a wrongly cited answer. All text is written for
this project (CC0).
"""

from __future__ import annotations

import json
from pathlib import Path

# (passages, supported 1, supported 2, paraphrase of 1, figure changed, name swapped,
#  negated, unsupported addition)
SCENARIOS: list[tuple[list[str], str, str, str, str, str, str, str]] = [
    (
        ["The Nordvik bridge opened in March 2011 after four years of construction. It spans "
         "1,240 metres across the fjord and cost 2.3 billion kroner.",
         "The bridge was designed by the engineering firm Halvorsen & Dahl. Tolls were removed "
         "in 2019."],
        "The Nordvik bridge opened in March 2011.",
        "It spans 1,240 metres across the fjord.",
        "Construction of the Nordvik bridge finished in March 2011, when it opened.",
        "The Nordvik bridge cost 3.1 billion kroner.",
        "The bridge was designed by the engineering firm Berg & Lund.",
        "Tolls on the bridge were not removed.",
        "The bridge carries about 14,000 vehicles a day.",
    ),
    (
        ["Marta Quist joined Helix Labs as chief executive in 2018. Under her leadership the "
         "company's revenue grew from 40 million to 95 million dollars.",
         "Helix Labs is headquartered in Leiden and employs 310 people."],
        "Marta Quist joined Helix Labs as chief executive in 2018.",
        "Helix Labs is headquartered in Leiden.",
        "In 2018 Marta Quist became the chief executive of Helix Labs.",
        "Revenue grew from 40 million to 120 million dollars under Quist.",
        "Jonas Berg joined Helix Labs as chief executive in 2018.",
        "Helix Labs is not headquartered in Leiden.",
        "Helix Labs plans to open an office in Boston next year.",
    ),
    (
        ["Aspirin should not be given to children under 16 because of the risk of Reye's "
         "syndrome. The usual adult dose for pain is 300 to 600 mg every four hours."],
        "Aspirin should not be given to children under 16.",
        "The usual adult dose for pain is 300 to 600 mg every four hours.",
        "Children younger than 16 should not be given aspirin because of Reye's syndrome.",
        "The usual adult dose for pain is 300 to 900 mg every four hours.",
        "Aspirin should not be given to children under 16 because of Kawasaki disease.",
        "Aspirin can be given to children under 16.",
        "Aspirin also lowers the risk of migraine by 40 percent.",
    ),
    (
        ["The Perseverance rover landed in Jezero Crater on 18 February 2021. Its mission is "
         "to search for signs of ancient microbial life and to collect rock samples.",
         "The rover carried the Ingenuity helicopter, which made the first powered flight on "
         "another planet in April 2021."],
        "The Perseverance rover landed in Jezero Crater on 18 February 2021.",
        "The rover carried the Ingenuity helicopter.",
        "Perseverance touched down in Jezero Crater in February 2021.",
        "The Perseverance rover landed in Jezero Crater on 18 February 2020.",
        "The rover landed in Gale Crater on 18 February 2021.",
        "The rover did not carry a helicopter.",
        "The rover is powered by solar panels that produce 900 watts.",
    ),
    (
        ["Our refund policy allows returns within 30 days of delivery. Items must be unused "
         "and in their original packaging. Refunds are issued to the original payment method "
         "within 5 business days."],
        "Returns are allowed within 30 days of delivery.",
        "Refunds are issued to the original payment method within 5 business days.",
        "You can return an item up to 30 days after it was delivered.",
        "Returns are allowed within 60 days of delivery.",
        "Refunds are issued as store credit within 5 business days.",
        "Items do not need to be in their original packaging.",
        "Shipping costs for returns are always covered by the store.",
    ),
    (
        ["The city council approved a budget of 4.8 million euros for new cycle lanes in "
         "2024. The lanes will connect the harbour to the university campus.",
         "Mayor Ines Calder said the work starts in May and should take eighteen months."],
        "The city council approved a budget of 4.8 million euros for new cycle lanes.",
        "The lanes will connect the harbour to the university campus.",
        "New cycle lanes received 4,800,000 euros from the city council.",
        "The city council approved a budget of 8.4 million euros for new cycle lanes.",
        "Mayor Paul Rennick said the work starts in May.",
        "The council did not approve the budget for the cycle lanes.",
        "The lanes will also have electric bike charging stations every kilometre.",
    ),
    (
        ["Version 3.2 of the library drops support for Python 3.8 and adds type hints to the "
         "public API. The release also fixes a memory leak in the connection pool."],
        "Version 3.2 drops support for Python 3.8.",
        "The release fixes a memory leak in the connection pool.",
        "Python 3.8 is no longer supported as of version 3.2.",
        "Version 3.2 drops support for Python 3.9.",
        "The release fixes a memory leak in the Redis client.",
        "Version 3.2 does not add type hints to the public API.",
        "Version 3.2 is twice as fast as version 3.1.",
    ),
    (
        ["The Amazon river discharges about 209,000 cubic metres of water per second into the "
         "Atlantic Ocean. Its basin covers around 7 million square kilometres."],
        "The Amazon discharges about 209,000 cubic metres of water per second.",
        "Its basin covers around 7 million square kilometres.",
        "Around 209 thousand cubic metres of water per second flow from the Amazon into the "
        "Atlantic.",
        "Its basin covers around 9 million square kilometres.",
        "The Amazon discharges about 209,000 cubic metres of water per second into the "
        "Pacific Ocean.",
        "The Amazon does not flow into the Atlantic Ocean.",
        "The river is home to more than 3,000 species of fish.",
    ),
    (
        ["Employees accrue 25 days of paid leave per year. Unused leave of up to 5 days can be "
         "carried over to the next year; the rest expires on 31 March."],
        "Employees accrue 25 days of paid leave per year.",
        "Up to 5 days of unused leave can be carried over to the next year.",
        "Each year employees earn 25 paid days off.",
        "Employees accrue 30 days of paid leave per year.",
        "Unused leave expires on 30 June.",
        "Unused leave cannot be carried over to the next year.",
        "Employees can sell unused leave back to the company.",
    ),
    (
        ["Ada Lovelace published the first algorithm intended for Charles Babbage's Analytical "
         "Engine in 1843. She is often described as the first computer programmer."],
        "Ada Lovelace published the first algorithm for the Analytical Engine in 1843.",
        "She is often described as the first computer programmer.",
        "In 1843 Lovelace published an algorithm meant for Babbage's Analytical Engine.",
        "Ada Lovelace published the first algorithm for the Analytical Engine in 1852.",
        "Ada Lovelace published the first algorithm for Alan Turing's Analytical Engine.",
        "Ada Lovelace is not described as a computer programmer.",
        "She later founded a school of mathematics in London.",
    ),
    (
        ["The warranty covers manufacturing defects for 24 months from the date of purchase. "
         "Damage caused by water or drops is excluded.",
         "To make a claim, customers must provide the receipt and the serial number."],
        "The warranty covers manufacturing defects for 24 months.",
        "Customers must provide the receipt and the serial number to make a claim.",
        "Manufacturing defects are covered for two years from purchase.",
        "The warranty covers manufacturing defects for 36 months.",
        "Customers must provide the receipt and a photo ID to make a claim.",
        "Damage caused by water is covered by the warranty.",
        "The warranty can be extended for a fee of 49 dollars.",
    ),
    (
        ["The Tour de France 2023 was won by Jonas Vingegaard, who finished 7 minutes and 29 "
         "seconds ahead of Tadej Pogacar. The race covered 3,405 kilometres."],
        "The Tour de France 2023 was won by Jonas Vingegaard.",
        "The race covered 3,405 kilometres.",
        "Jonas Vingegaard won the 2023 Tour de France.",
        "Vingegaard finished 9 minutes and 29 seconds ahead of Pogacar.",
        "The Tour de France 2023 was won by Tadej Pogacar.",
        "Jonas Vingegaard did not win the Tour de France 2023.",
        "Vingegaard also won the Giro d'Italia that year.",
    ),
    (
        ["The server requires at least 16 GB of memory and 4 CPU cores. PostgreSQL 14 or later "
         "is needed for the metadata store."],
        "The server requires at least 16 GB of memory.",
        "PostgreSQL 14 or later is needed for the metadata store.",
        "You need a minimum of 16 GB of RAM and four CPU cores.",
        "The server requires at least 32 GB of memory.",
        "MySQL 8 or later is needed for the metadata store.",
        "The server does not need PostgreSQL.",
        "The server also runs on ARM-based Raspberry Pi boards.",
    ),
    (
        ["Lake Baikal in Siberia is the deepest lake in the world, reaching 1,642 metres. It "
         "holds about 23 percent of the world's fresh surface water."],
        "Lake Baikal is the deepest lake in the world.",
        "It holds about 23 percent of the world's fresh surface water.",
        "Baikal, in Siberia, is deeper than any other lake on Earth.",
        "Lake Baikal reaches a depth of 1,942 metres.",
        "Lake Baikal is in Mongolia.",
        "Lake Baikal is not the deepest lake in the world.",
        "The lake freezes over for six months every year.",
    ),
    (
        ["The museum is open from 10:00 to 18:00, Tuesday to Sunday. Admission is free for "
         "visitors under 18 and costs 15 euros for adults."],
        "The museum is open from Tuesday to Sunday.",
        "Admission costs 15 euros for adults.",
        "Adults pay 15 euros to enter the museum.",
        "Admission costs 25 euros for adults.",
        "Admission is free for visitors over 65.",
        "Admission is not free for visitors under 18.",
        "The museum offers guided tours in Japanese every Friday.",
    ),
    (
        ["In the third quarter, Orbis Freight shipped 1.2 million containers, up 6 percent "
         "from a year earlier. Net profit fell to 85 million dollars because of higher fuel "
         "costs.",
         "Chief financial officer Lena Ortiz expects volumes to stabilise in the fourth "
         "quarter."],
        "Orbis Freight shipped 1.2 million containers in the third quarter.",
        "Net profit fell to 85 million dollars because of higher fuel costs.",
        "Container volumes at Orbis Freight rose 6 percent to 1,200,000 in the third quarter.",
        "Orbis Freight shipped 1.8 million containers in the third quarter.",
        "Chief financial officer Mark Olsen expects volumes to stabilise.",
        "Net profit did not fall in the third quarter.",
        "Orbis Freight will cut 500 jobs next year.",
    ),
    (
        ["Penicillin was discovered by Alexander Fleming in 1928 at St Mary's Hospital in "
         "London. Mass production began during the Second World War."],
        "Penicillin was discovered by Alexander Fleming in 1928.",
        "Mass production began during the Second World War.",
        "Alexander Fleming discovered penicillin in 1928 in London.",
        "Penicillin was discovered by Alexander Fleming in 1938.",
        "Penicillin was discovered by Louis Pasteur in 1928.",
        "Penicillin was not discovered in London.",
        "Fleming received the Nobel Prize alone for the discovery.",
    ),
    (
        ["The API rate limit is 600 requests per minute per key. Requests over the limit "
         "receive a 429 status with a Retry-After header."],
        "The API rate limit is 600 requests per minute per key.",
        "Requests over the limit receive a 429 status.",
        "Each key may make up to 600 requests a minute.",
        "The API rate limit is 1,000 requests per minute per key.",
        "Requests over the limit receive a 429 status with an X-Backoff header.",
        "Requests over the limit do not receive a Retry-After header.",
        "Enterprise keys have no rate limit at all.",
    ),
    (
        ["The Great Barrier Reef stretches for over 2,300 kilometres along the coast of "
         "Queensland, Australia. It is made up of about 2,900 individual reefs."],
        "The Great Barrier Reef stretches for over 2,300 kilometres.",
        "It is made up of about 2,900 individual reefs.",
        "The reef runs more than 2,300 km along Queensland's coast.",
        "It is made up of about 4,900 individual reefs.",
        "The Great Barrier Reef stretches along the coast of New South Wales.",
        "The Great Barrier Reef is not in Australia.",
        "The reef was declared dead by scientists in 2016.",
    ),
    (
        ["Flight LX 318 to Zurich departs from gate B12 at 14:35. Boarding closes 20 minutes "
         "before departure."],
        "Flight LX 318 to Zurich departs from gate B12.",
        "Boarding closes 20 minutes before departure.",
        "The Zurich flight LX 318 leaves from gate B12 at 14:35.",
        "Boarding closes 40 minutes before departure.",
        "Flight LX 318 to Geneva departs from gate B12.",
        "Boarding does not close before departure.",
        "Passengers in business class can board from gate B14.",
    ),
    (
        ["Photosynthesis converts carbon dioxide and water into glucose and oxygen using light "
         "energy. In plants it takes place in the chloroplasts."],
        "Photosynthesis converts carbon dioxide and water into glucose and oxygen.",
        "In plants it takes place in the chloroplasts.",
        "Using light energy, plants turn water and carbon dioxide into glucose and oxygen.",
        "Photosynthesis converts carbon dioxide and water into glucose and 3 kinds of gas.",
        "In plants it takes place in the mitochondria.",
        "Photosynthesis does not produce oxygen.",
        "Photosynthesis is most efficient at 35 degrees Celsius.",
    ),
    (
        ["The Meridian apartment block has 48 units on 12 floors. Construction was completed "
         "in 2015 by Solberg Bygg.",
         "Rents start at 1,450 euros a month for a two-room flat."],
        "The Meridian apartment block has 48 units on 12 floors.",
        "Rents start at 1,450 euros a month for a two-room flat.",
        "There are 48 flats spread over 12 floors in the Meridian block.",
        "The Meridian apartment block has 64 units on 12 floors.",
        "Construction was completed in 2015 by Hansen Entreprenor.",
        "Construction of the Meridian block was not completed.",
        "Every flat has a private balcony facing the sea.",
    ),
    (
        ["Mount Kilimanjaro in Tanzania rises to 5,895 metres and is the highest mountain in "
         "Africa. Its summit is called Uhuru Peak."],
        "Mount Kilimanjaro rises to 5,895 metres.",
        "Its summit is called Uhuru Peak.",
        "Kilimanjaro, in Tanzania, is Africa's highest mountain at 5,895 m.",
        "Mount Kilimanjaro rises to 6,895 metres.",
        "Mount Kilimanjaro is in Kenya.",
        "Mount Kilimanjaro is not the highest mountain in Africa.",
        "About 50,000 people climb the mountain every year.",
    ),
    (
        ["The training course lasts 3 days and ends with a written exam. Participants need a "
         "score of 70 percent to pass and receive the certificate."],
        "The training course lasts 3 days.",
        "Participants need a score of 70 percent to pass.",
        "A 70 percent score is needed to pass the exam at the end of the course.",
        "Participants need a score of 80 percent to pass.",
        "The course ends with an oral exam.",
        "The course does not end with an exam.",
        "The certificate is valid for five years.",
    ),
    (
        ["Beethoven's Ninth Symphony premiered in Vienna on 7 May 1824. Its final movement "
         "sets Friedrich Schiller's poem Ode to Joy."],
        "Beethoven's Ninth Symphony premiered in Vienna on 7 May 1824.",
        "Its final movement sets Schiller's poem Ode to Joy.",
        "The Ninth Symphony was first performed in Vienna in May 1824.",
        "Beethoven's Ninth Symphony premiered in Vienna on 7 May 1834.",
        "Its final movement sets Goethe's poem Ode to Joy.",
        "The Ninth Symphony did not premiere in Vienna.",
        "Beethoven conducted the premiere himself without any assistance.",
    ),
    (
        ["Patients must fast for 8 hours before the blood test. Water is allowed, but coffee "
         "and tea are not."],
        "Patients must fast for 8 hours before the blood test.",
        "Water is allowed before the test.",
        "You should not eat for eight hours before the blood test.",
        "Patients must fast for 12 hours before the blood test.",
        "Coffee is allowed before the test.",
        "Patients do not need to fast before the blood test.",
        "Results are available online after 24 hours.",
    ),
    (
        ["The Treaty of Westphalia was signed in 1648 and ended the Thirty Years' War. It was "
         "negotiated in the cities of Osnabruck and Munster."],
        "The Treaty of Westphalia was signed in 1648.",
        "It ended the Thirty Years' War.",
        "Signed in 1648, the Peace of Westphalia brought the Thirty Years' War to an end.",
        "The Treaty of Westphalia was signed in 1658.",
        "It was negotiated in the cities of Cologne and Munster.",
        "The Treaty of Westphalia did not end the Thirty Years' War.",
        "The treaty created the first European parliament.",
    ),
    (
        ["The battery lasts up to 14 hours of video playback and charges to 50 percent in 30 "
         "minutes with the 65 W adapter."],
        "The battery lasts up to 14 hours of video playback.",
        "It charges to 50 percent in 30 minutes with the 65 W adapter.",
        "With the 65 W charger the battery reaches half charge in 30 minutes.",
        "The battery lasts up to 20 hours of video playback.",
        "It charges to 50 percent in 30 minutes with the 30 W adapter.",
        "The battery does not support fast charging.",
        "The battery can be replaced by the user in under a minute.",
    ),
    (
        ["Sofia Reyes was elected mayor of Puerto Alto in 2022 with 54 percent of the vote. "
         "She previously served as the city's finance director."],
        "Sofia Reyes was elected mayor of Puerto Alto in 2022.",
        "She previously served as the city's finance director.",
        "In 2022 the voters of Puerto Alto elected Sofia Reyes as mayor.",
        "Sofia Reyes was elected with 64 percent of the vote.",
        "Sofia Reyes previously served as the city's police chief.",
        "Sofia Reyes was not elected mayor of Puerto Alto.",
        "She is the youngest mayor in the country's history.",
    ),
    (
        ["The software licence permits installation on up to 3 devices per user. Commercial "
         "use requires a separate business licence."],
        "The licence permits installation on up to 3 devices per user.",
        "Commercial use requires a separate business licence.",
        "Each user may install the software on at most three devices.",
        "The licence permits installation on up to 5 devices per user.",
        "Commercial use requires a separate educational licence.",
        "Commercial use does not require a separate licence.",
        "The licence includes free upgrades for life.",
    ),
]  # fmt: skip


def _case(cid: str, passages: list[dict[str, str]], claims: list[tuple[str, int]]) -> dict:
    answer = " ".join(text for text, _ in claims)
    return {
        "id": cid,
        "source": "handwritten",
        "passages": passages,
        "answer": answer,
        "label": int(all(label for _, label in claims)),
        "claims": [{"text": text, "label": label} for text, label in claims],
    }


def build() -> list[dict]:
    """Every case, in a fixed order."""
    cases = []
    for number, scenario in enumerate(SCENARIOS, start=1):
        texts, one, two, paraphrase, figure, name, negated, added = scenario
        passages = [{"id": f"doc-{i}", "text": t} for i, t in enumerate(texts, start=1)]
        cid = f"hw-{number:02d}"
        cases += [
            _case(f"{cid}-supported", passages, [(one, 1), (two, 1)]),
            _case(f"{cid}-paraphrase", passages, [(paraphrase, 1), (two, 1)]),
            _case(f"{cid}-figure", passages, [(one, 1), (figure, 0)]),
            _case(f"{cid}-name", passages, [(one, 1), (name, 0)]),
            _case(f"{cid}-negation", passages, [(negated, 0), (two, 1)]),
            _case(f"{cid}-addition", passages, [(one, 1), (two, 1), (added, 0)]),
        ]
    return cases


if __name__ == "__main__":
    target = Path(__file__).with_name("handwritten.jsonl")
    with target.open("w", encoding="utf-8") as out:
        for case in build():
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
