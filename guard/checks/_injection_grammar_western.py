"""German, French, Spanish, Italian and Portuguese (and the first Dutch) grammar.

The overrides and the system-prompt leak form here are the grammar's first languages
(round one); they read folded text, which is ASCII for these languages, and keep their
place in the core signal list. The role-hijack and other leak forms were added later and
are folded with the other languages' (:mod:`._injection_grammar_lang`).
"""

from __future__ import annotations

from guard.checks._injection_grammar_lang import (
    CLAUSE_END,
    LangSignal,
    leak_signals,
    role_signals,
)


def _words(*items: str) -> str:
    return "(?:" + "|".join(items) + ")"


_ANY_WORDS = r"(?:[\s,:;'\"-]+[\w'-]+){0,4}?[\s,:;'\"-]+"

#: Other languages: verb, up to four words, object (and the German object-first order).
_LANGUAGES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (  # German
        (
            "ignoriere|ignorier|ignorieren sie|vergiss|vergessen sie|missachte|missachten sie"
            "|uberspringe|verwirf|verwerfen sie|befolge nicht|befolgen sie nicht",
        ),
        (
            "anweisungen|anweisung|instruktionen|regeln|vorgaben|befehle|richtlinien"
            "|anordnungen|aufgaben|was (?:man )?dir (?:vorher |zuvor |bisher )?gesagt",
        ),
    ),
    (  # French
        (
            "ignore[zs]?|oublie[zs]?|neglige[zs]?|ne tiens? (?:pas|plus) compte"
            "|ne tenez (?:pas|plus) compte|ne suis (?:pas|plus)|ne suivez (?:pas|plus)"
            "|fais abstraction|faites abstraction|abandonne[zs]?|ecarte[zs]?",
        ),
        (
            "instructions?|consignes?|regles|directives?|ordres|commandes|indications"
            "|(?:tout )?ce (?:qu'on|que l'on|que) (?:t'a|vous a) (?:ete )?dit",
        ),
    ),
    (  # Spanish
        (
            "ignora|ignore|ignorad|ignoren|olvida|olvide|olvidad|olviden|descarta|descarte"
            "|omite|omita|no sigas|no siga|haz caso omiso|haga caso omiso|pasa por alto"
            "|desobedece",
        ),
        (
            "instrucciones|reglas|indicaciones|directrices|ordenes|normas|comandos"
            "|instruccion|lo que te (?:dijeron|han dicho|indicaron|ordenaron)",
        ),
    ),
    (  # Italian
        ("ignora|ignorate|dimentica|dimenticate|trascura|non seguire|tralascia|scarta",),
        (
            "istruzioni|regole|indicazioni|direttive|ordini|comandi"
            "|quello che ti (?:hanno detto|e stato detto)",
        ),
    ),
    (  # Portuguese
        ("ignore|ignora|esqueca|desconsidere|despreze|nao siga|descarte",),
        (
            "instrucoes|regras|diretrizes|ordens|comandos|orientacoes"
            "|o que (?:te|lhe) (?:disseram|foi dito)",
        ),
    ),
    (  # Dutch
        ("negeer", "vergeet", "negeren"),
        ("instructies|regels|opdrachten|richtlijnen",),
    ),
)
_GERMAN_OBJECT_FIRST = (
    r"\b"
    + _words("alle|vorherigen|bisherigen|obigen|vorigen|fruheren")
    + _ANY_WORDS
    + _words("anweisungen|regeln|instruktionen|vorgaben|befehle")
    + _ANY_WORDS
    + "?"
    + _words("ignorieren|vergessen|missachten|verwerfen")
    + r"\b"
)
#: "Forget everything before/above" without naming instructions, as the English
#: OVERRIDE_POST_QUALIFIED reads it ("disregard everything above"), in the other languages.
_EVERYTHING_BEFORE = (
    r"\b(?:vergiss|vergessen sie|ignoriere|ignorieren sie|verwirf) (?:einfach )?"
    r"(?:alles|das alles),?(?: (?:bisher|zuvor|vorher))? "
    r"(?:davor|zuvor|bisher|oben|vorherige|bis hierhin|"
    r"was (?:davor|zuvor|vorher|bisher|oben) (?:kam|stand|gesagt wurde|geschrieben wurde|war))\b",
    r"\b(?:oublie[zs]?|ignore[zs]?) tout ce qui (?:precede|est (?:au-dessus|plus haut)|"
    r"a ete dit (?:avant|plus haut))",
    r"\b(?:olvida|olvide|ignora|ignore) todo lo (?:anterior|de antes|de arriba|que (?:te )?"
    r"(?:dije|dijeron|han dicho) antes)\b",
    r"\b(?:dimentica|ignora) tutto (?:quello che c'e |cio che c'e )?(?:prima|sopra|"
    r"quello che (?:ti )?(?:e stato detto|hanno detto) prima)\b",
    r"\b(?:esqueca|ignore|desconsidere) tudo (?:o que (?:foi dito |veio )?(?:antes|acima)|"
    r"acima|antes)\b",
    r"\b(?:vergeet|negeer) alles (?:hierboven|daarvoor|hiervoor|wat (?:eerder|hiervoor) "
    r"(?:is gezegd|stond|kwam))\b",
)
_MULTILINGUAL = (
    *(
        r"\b" + _words(*verbs) + _ANY_WORDS + _words(*objects) + r"\b"
        for verbs, objects in _LANGUAGES
    ),
    _GERMAN_OBJECT_FIRST,
    *_EVERYTHING_BEFORE,
)

#: Override patterns (weight 0.85 in the core list).
OVERRIDES = _MULTILINGUAL

#: "Show me the system prompt" in the five languages (0.75 in the core list).
LEAK: tuple[str, float, str] = (
    "prompt_leak",
    0.75,
    r"\b(?:zeige?|gib|nenne|wiederhole|verrate|montre[zs]?|affiche[zs]?|"
    r"revele[zs]?|repete[zs]?|donne[zs]?|muestra(?:me)?|revela(?:me)?|repite|dime|mostra(?:mi)?|"
    r"rivela|ripeti|mostre|revele|repita)\b[^.\n]{0,30}?(?:system-?prompt|prompt (?:du |del |"
    r"de )?(?:systeme|sistema)|(?:anfangs|system)anweisungen|instructions? (?:initiales?|"
    r"systeme)|instrucciones (?:iniciales|del sistema)|istruzioni (?:iniziali|di sistema)|"
    r"instrucoes (?:iniciais|do sistema))",
)

# -- Role and leak forms of German, French, Spanish, Italian, Portuguese -------------------------
#: "What is the password?" (extraction games ask for a secret the setup holds).
PASSWORD_ASK = (
    r"\b(?:wie lautet|was ist|sag mir|nenne mir|verrate mir|gib mir) (?:das|dein) (?:geheime )?"
    r"(?:passwort|kennwort|codewort)\b|\b(?:quel est|dis-moi|donne-moi|revele-moi) (?:le|ton|votre)"
    r" (?:mot de passe|code secret|mot secret)\b|\b(?:cual es|dime|dame) (?:la|tu) (?:contrasena"
    r"|clave secreta|palabra secreta)\b|\b(?:qual e|dimmi|dammi) (?:la|tua) (?:password"
    r"|parola d'ordine|parola segreta)\b|\b(?:qual e|me diga|diga-me|me de|me fale) (?:a|sua)"
    r" (?:senha|palavra secreta|palavra-passe)\b"
)


SIGNALS: tuple[LangSignal, ...] = (
    ("prompt_leak", 0.6, f"(?:{PASSWORD_ASK}){CLAUSE_END}"),
    *role_signals(
        (
            r"\b(?:du bist (?:jetzt|ab jetzt|nun|ab sofort)|ab (?:jetzt|sofort) bist du"
            r"|von nun an bist du|tu es (?:maintenant|desormais)|a partir de maintenant,? tu es"
            r"|desormais,? tu es|vous etes (?:maintenant|desormais)|ahora eres|a partir de ahora"
            r",? eres|de ahora en adelante,? eres|ahora (?:usted )?es|ora sei|d'ora in poi,? sei"
            r"|da ora in poi,? sei|agora voce e|a partir de agora,? voce e|agora es)\b",
        ),
        (
            r"\b(?:verhalte dich wie|tu so,? als|spiele die rolle|agiere als|handle als"
            r"|du bist jetzt|fais comme si|agis comme|comporte-toi comme|joue le role"
            r"|fais semblant|actua como|finge|haz como si|interpreta el papel|comportate come"
            r"|fingi|fai finta|interpreta il ruolo|aja como|finja|faca de conta|interprete o papel"
            r"|comporte-se como)\b",
        ),
        (
            r"\b(?:ohne (?:jegliche |irgendwelche )?(?:einschrankungen|regeln|filter|zensur"
            r"|grenzen)|sans (?:aucune? )?(?:restrictions?|limites?|filtres?|censure|regles?)"
            r"|sin (?:ninguna |ningun )?(?:restricciones|restriccion|limites|filtros?|censura"
            r"|reglas)|senza (?:alcuna |nessuna )?(?:restrizion\S*|limit\S*|filtr\S*|censura"
            r"|regol\S*)|sem (?:nenhuma |qualquer )?(?:restricoes|limites|filtros?|censura"
            r"|regras))\b",
        ),
    ),
    *leak_signals(
        (
            r"\b(?:zeige?|gib|nenne|wiederhole|verrate|schreibe?|ubersetze|montre[zs]?"
            r"|affiche[zs]?|revele[zs]?|repete[zs]?|donne[zs]?|ecris|traduis|muestra(?:me)?"
            r"|revela(?:me)?|repite|dime|escribe|traduce|mostra(?:mi)?|rivela|ripeti|dimmi"
            r"|scrivi|traduci|mostre|revele|repita|diga|escreva|traduza)\b",
        ),
        (
            r"\b(?:(?:deine|ihre|ursprunglichen|versteckten|geheimen) (?:anweisungen|instruktionen"
            r"|prompt)|(?:tes|vos) instructions|instructions (?:cachees|secretes|d'origine)"
            r"|(?:tus|sus) instrucciones|instrucciones (?:ocultas|secretas|originales)"
            r"|(?:le tue|le sue) istruzioni|istruzioni (?:nascoste|segrete|originali)"
            r"|(?:suas|tuas) instrucoes|instrucoes (?:ocultas|secretas|originais))\b",
        ),
    ),
)
