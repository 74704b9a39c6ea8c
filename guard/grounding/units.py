"""The vocabulary of figures: scale words, units and number words.

Units are compared by dimension: ``5 km`` = ``5,000 m`` = ``5 kilometres``, ``8%`` =
``8 percent``; ``5 km`` is not ``5 miles``. Unit and scale words are read as part of
their figure, so they are no evidence as words (see :func:`guard.grounding.text.term`).
"""

from __future__ import annotations

#: Scale words after a figure (``1.5 million``, ``$5M``, ``3bn``).
SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mio": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip

#: Unit -> (dimension, factor to the dimension's base unit).
UNITS = {
    "percent": ("percent", 1.0),
    "km": ("length", 1000.0), "m": ("length", 1.0), "cm": ("length", 0.01),
    "mm": ("length", 0.001), "mile": ("length", 1609.344), "ft": ("length", 0.3048),
    "kg": ("mass", 1000.0), "g": ("mass", 1.0), "tonne": ("mass", 1e6),
    "lb": ("mass", 453.59237),
    "l": ("volume", 1.0), "ml": ("volume", 0.001),
}  # fmt: skip

#: How units are written -> the unit (``%`` and the words; ``m`` alone is metres only
#: after a space: ``5m`` is five million).
UNIT_SPELLINGS = {
    "%": "percent", "percent": "percent", "per cent": "percent", "pct": "percent",
    "km": "km", "kilometre": "km", "kilometres": "km", "kilometer": "km", "kilometers": "km",
    "metre": "m", "metres": "m", "meter": "m", "meters": "m",
    "cm": "cm", "centimetre": "cm", "centimetres": "cm", "centimeter": "cm",
    "centimeters": "cm", "mm": "mm", "millimetre": "mm", "millimetres": "mm",
    "millimeter": "mm", "millimeters": "mm", "mile": "mile", "miles": "mile", "mi": "mile",
    "ft": "ft", "foot": "ft", "feet": "ft",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "kilo": "kg", "kilos": "kg",
    "gram": "g", "grams": "g", "tonne": "tonne", "tonnes": "tonne",
    "lb": "lb", "lbs": "lb", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "milliliter": "ml",
    "milliliters": "ml",
}  # fmt: skip

#: Words that are scale or unit words: compared within figures, not as evidence.
UNIT_WORDS = frozenset(SCALES) | {s for s in UNIT_SPELLINGS if s.isalpha()} | {"per", "cent"}

#: "one" is left out: it is a pronoun far more often than a count.
NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
