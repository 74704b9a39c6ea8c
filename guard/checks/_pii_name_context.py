"""The words around a name that the PERSON / LOCATION recognizer reads as context
(:mod:`guard.checks._pii_names`): openers, titles' kin, record fields, roles, context
phrases, place prepositions, function words and organisation words."""

from __future__ import annotations

#: Capitalised words before a name that say a person follows (``Dear Ann``).
PERSON_OPENERS = frozenset(
    """dear hi hello hey thanks signed regards sincerely cheers attn president
    bonjour hola beste gentile liebe lieber patientin
    minister senator governor mayor chancellor ambassador premier pope king queen prince
    princess sheikh judge coach""".split()
)
#: Field names of records (``"first_name": "Emma"``, ``name: Emma``): a person follows.
NAME_FIELDS = ("name:", "name =", "name=", "name,", "first_name:", "last_name:",
                "full_name:", "firstname:", "lastname:", "surname:")  # fmt: skip
#: Roles and relations before a name (``striker Igor``, ``my wife Anna``): a known
#: name after them is a person.
ROLES = (
    "striker", "goalkeeper", "defender", "midfielder", "spokesman", "spokeswoman",
    "chairman", "ceo", "director", "manager", "officer", "professor", "captain", "leader",
    "secretary", "author", "actor", "actress", "singer", "player", "colleague", "friend",
    "wife", "husband", "son", "daughter", "brother", "sister", "mother", "father", "uncle",
    "aunt", "cousin", "boss", "teacher", "student", "customer", "client", "employee",
    "president", "minister", "senator", "governor", "mayor", "chancellor", "judge", "coach",
)  # fmt: skip
#: What the words before a run end with when a person follows (lower case).
PERSON_CONTEXT = (
    "name is", "name's", "named", "called", "dear", "hi", "hello", "hey", "thanks",
    "thank you", "signed", "regards,", "sincerely,", "cheers,", "name:", "patient",
    "patient:", "i am", "i'm", "this is", "from:", "to:", "cc:", "attn:", "contact",
    "ask", "tell", "by", "with", "mr", "mrs", "ms", "dr", *ROLES,
)  # fmt: skip
#: Context that makes any capitalised run after it a person (not just a known name).
#: (Not ``called`` or ``named``: ``a function called Parse``.)
STRONG_CONTEXT = ("my name is", "my name's", "his name is", "her name is", "dear",
                   "signed", "name:", "patient:", "regards,", "sincerely,", "attn:",
                   "president", "minister", "senator", "governor", "mayor", "chancellor",
                   "judge", "coach",
                   # Sign-offs, greetings and record lines of other languages and forms.
                   "holder is", "ship to:",
                   "bill to:", "deliver to:", "cordialement,", "cordiali saluti,",
                   "met vriendelijke groet,", "mit freundlichen grüßen", "un saludo,",
                   "saludos,", "atentamente,", "il paziente", "la paziente", "cliente:",
                   "klant", "applicant", "contact:", "contact person:",
                   "ansprechpartner:")  # fmt: skip
#: Context that makes any capitalised run after it a place (``living in Usquert``).
STRONG_PLACE = ("living in", "lives in", "live in", "based in", "born in", "located in",
                "relocating from", "relocating to", "relocated to", "moved to",
                "moving to", "residing in", "resident of", "wohnhaft in", "wohnt in",
                "residente a", "residente en", "residente in", "vive en", "vive a",
                "woont in", "habite à", "j'habite à", "domicilié à", "escribo desde",
                "l'agence de")  # fmt: skip
PLACE_CONTEXT = frozenset(
    """in from near at to visit visiting visited across around outside inside toward
    towards via between lives live living based born moved located address city
    town""".split()
)
#: Capitalised function words: never a name, whatever the lists say (``My``, ``In``).
NEVER = frozenset(
    """a an the in on at to from for of and or but if when while where what who why how
    my our your his her their its this that these those we you he she they it i is are
    was were be been am do does did not no yes so as by with about after before then
    there here all any some each every please thanks thank see note also just only
    can could would shall should might must monday tuesday wednesday thursday friday
    saturday sunday""".split()
)
#: Words that make a run an organisation, event or thing, not a person or a place
#: (``Johnson Controls Inc``, ``Hong Kong Open``, ``Cleveland Indians``).
NOT_PERSON = frozenset(
    """week studio studios expert store shop cafe restaurant hotel museum gallery theatre
    theater stadium arena mall market inc corp co ltd llc plc gmbh ag sa group company
    bank bancorp holdings partners
    university college school institute foundation association society council
    committee ministry department agency airlines airways motors motor pharmaceuticals
    technologies systems software labs club fc united city county rovers wanderers
    athletic open cup championship festival awards prize hospital church street
    road avenue park square bridge hall house center centre tower station airport
    times post journal news press standard herald tribune""".split()
)
#: What follows a person's name in a report (``Lebed said``): a known name before it
#: counts as a person.
SAID = (" said", " says", " told", " added", " asked", " replied", " wrote")
