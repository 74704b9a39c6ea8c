"""Override, role-hijack and prompt-leak grammar in Russian, Ukrainian, Polish, Dutch,
the Nordic languages and Turkish.

Written from the languages, not from any data set's rows. Cyrillic stems carry no
``\\b`` (RE2's boundary is ASCII-only, and folding turns some Cyrillic letters Latin):
a stem such as ``игнорир`` also finds the prefixed ``проигнорируй``.
"""

from __future__ import annotations

from guard.checks._injection_grammar_lang import (
    CLAUSE_END,
    LangSignal,
    leak_signals,
    override_signals,
    role_signals,
)

_LETTERS = r"[^\s,.!?;:]*"


def _stems(*stems: str) -> tuple[str]:
    """Stems that take any ending (Slavic cases: инструкции, инструкциям, ...)."""
    return ("|".join(stem + _LETTERS for stem in stems),)


# -- Russian ------------------------------------------------------------------------------
RUSSIAN: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "игнорир" + _LETTERS + "|забудь|забудьте|не обращай(?:те)? внимани" + _LETTERS + " на"
            "|отбрось|отбросьте|не следуй|не следуйте|не выполняй|не выполняйте|не соблюдай"
            "|не соблюдайте|пренебреги|пренебрегите|отмени|отмените|откажись от|откажитесь от"
            "|перестань следовать|перестаньте следовать|не слушай|не слушайте|не подчиняйся"
            "|не подчиняйтесь|обойди|обойдите|сбрось|сбросьте|выкинь|выкиньте|не учитывай"
            "|не учитывайте|не придерживайся|не придерживайтесь",
        ),
        _stems(
            "предыдущ",
            "прежн",
            "вышеуказанн",
            "вышеизложенн",
            "системн",
            "изначальн",
            "исходн",
            "прошл",
            "данн",
            "полученн",
            "заданн",
            "первоначальн",
            "все",
            "всё",
        ),
        _stems(
            "инструкци",
            "указани",
            "правил",
            "команд",
            "директив",
            "промпт",
            "подсказк",
            "ограничени",
            "установк",
            "запрет",
            "распоряжени",
            "предписани",
            "руководств",
            "настройк",
            "сообщени",
        ),
    ),
    (
        "override",
        0.85,
        r"(?:забудь|забудьте|игнорируй|игнорируйте|проигнорируй|проигнорируйте) "
        r"(?:вс[её]|всё то|все то),? (?:что (?:было |написано |сказано )?)?"
        r"(?:выше|до этого|ранее|раньше|прежде|тебе (?:говорили|сказали))",
    ),
    *role_signals(
        (
            "теперь ты|ты теперь|с этого момента ты|отныне ты|с этого момента вы|теперь вы"
            "|ты больше не",
        ),
        (
            "веди себя как|ведите себя как|притворись|притворитесь|представь,? что ты"
            "|играй роль|сыграй роль|действуй как|действуйте как|выступай в роли|ты теперь"
            "|теперь ты|стань|режим",
        ),
        (
            "без (?:каких-либо |всяких |любых )?(?:ограничений|цензуры|фильтров|правил|морали"
            "|запретов|этики)|не (?:соблюдает|признаёт|признает|имеет) (?:никаких )?"
            "(?:правил|ограничений)|никаких (?:ограничений|правил|запретов)",
        ),
    ),
    ("role_hijack", 0.3, "режим разработчика|джейлбрейк"),
    ("role_hijack", 0.55, "никогда не отказывай|не отказывайся отвечать|не смей отказ"),
    *leak_signals(
        (
            "покажи|покажите|выведи|выведите|повтори|повторите|раскрой|раскройте|расскажи"
            "|расскажите|напиши|напишите|скажи|скажите|перечисли|процитируй|распечатай|дай"
            "|дайте|назови|выдай|переведи|какой|какие|каков",
        ),
        (
            "системн"
            + _LETTERS
            + " (?:промпт|подсказк|инструкци|сообщени)"
            + _LETTERS
            + "|(?:исходн|изначальн|первоначальн|скрыт|секретн)"
            + _LETTERS
            + " (?:инструкци|промпт|указани)"
            + _LETTERS
            + "|(?:сво|тво|ваш)"
            + _LETTERS
            + " (?:инструкци|промпт|системн)"
            + _LETTERS,
        ),
    ),
    ("prompt_leak", 0.6, "что тебе (?:сказали|велели|поручили|приказали)"),
    (
        "prompt_leak",
        0.75,
        r"(?:повтори|повторите|выведи|выведите|распечатай|процитируй|скопируй) (?:весь |дословно "
        r")?(?:текст|вс[её])(?:,? что)? (?:выше|до этого|написано выше)",
    ),
)

# -- Ukrainian ---------------------------------------------------------------------------
UKRAINIAN: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "ігнору" + _LETTERS + "|проігнору" + _LETTERS + "|забудь|забудьте|не зважай"
            "|не зважайте|відкинь|відкиньте|не виконуй|не виконуйте|не дотримуйся"
            "|не дотримуйтесь|не слідуй|не слідуйте|скасуй|скасуйте|знехтуй|обійди",
        ),
        _stems(
            "попередн",
            "усі",
            "все",
            "вищезазначен",
            "системн",
            "початков",
            "вихідн",
            "наведен",
            "надан",
        ),
        _stems(
            "інструкці",
            "вказівк",
            "правил",
            "команд",
            "директив",
            "промпт",
            "обмежен",
            "настанов",
            "підказк",
            "розпоряджен",
        ),
    ),
    *role_signals(
        ("тепер ти|відтепер ти|з цього моменту ти|ти тепер|ти більше не",),
        ("поводься як|прикинься|уяви,? що ти|грай роль|зіграй роль|дій як|стань|ти тепер",),
        ("без (?:жодних |будь-яких )?(?:обмежень|цензури|фільтрів|правил|моралі)",),
    ),
    *leak_signals(
        ("покажи|виведи|повтори|розкрий|розкажи|напиши|скажи|перелічи|переклади|дай|який|які",),
        (
            "системн"
            + _LETTERS
            + " (?:промпт|інструкці|підказк)"
            + _LETTERS
            + "|(?:початков|прихован|секретн)"
            + _LETTERS
            + " (?:інструкці|промпт)"
            + _LETTERS
            + "|(?:сво|тво|ваш)"
            + _LETTERS
            + " (?:інструкці|промпт)"
            + _LETTERS,
        ),
    ),
)

# -- Polish -------------------------------------------------------------------------------
POLISH: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "zignoruj|zignorujcie|ignoruj|ignorujcie|zapomnij|zapomnijcie|pomiń|pomińcie|odrzuć"
            "|odrzućcie|nie stosuj się do|nie przestrzegaj|nie wykonuj|nie słuchaj|zlekceważ"
            "|lekceważ|porzuć|anuluj|olej",
        ),
        (
            "wszystk"
            + _LETTERS
            + "|poprzedni"
            + _LETTERS
            + "|wcześniejsz"
            + _LETTERS
            + "|powyższ"
            + _LETTERS
            + "|systemow"
            + _LETTERS
            + "|początkow"
            + _LETTERS
            + "|dotychczasow"
            + _LETTERS
            + "|otrzyman"
            + _LETTERS,
        ),
        _stems(
            "instrukcj",
            "polece",
            "zasad",
            "reguł",
            "wytyczn",
            "prompt",
            "ogranicze",
            "komend",
            "wskazów",
            "nakaz",
        ),
        boundary=r"\b",
    ),
    *role_signals(
        (r"\b(?:od teraz|od tej chwili|teraz) jesteś\b|\bjesteś teraz\b|\bnie jesteś już\b",),
        (r"\budawaj|\bwciel się|\bzachowuj się jak|\bdziałaj jako|\bodgrywaj|\bjesteś teraz",),
        (r"\bbez (?:żadnych |jakichkolwiek )?(?:ograniczeń|cenzury|filtrów|zasad|reguł)",),
    ),
    *leak_signals(
        (
            r"\b(?:pokaż|wyświetl|powtórz|ujawnij|wypisz|podaj|zdradź|przetłumacz|wydrukuj"
            r"|napisz|zacytuj|jaki jest|jakie są)\b",
        ),
        (
            r"\bprompt systemowy|\bsystemowy prompt|\binstrukcje systemowe|\b(?:swoje|twoje"
            r"|początkowe|ukryte|oryginalne|pierwotne) (?:instrukcje|polecenia|prompt)"
            r"|\bswój prompt",
        ),
    ),
)

# -- Dutch (first overrides: ._injection_grammar_western) ---------------------------------
DUTCH: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "negeer|vergeet|sla over|verwerp|houd je niet aan|houdt u zich niet aan|volg niet"
            "|let niet op|gooi weg|schrap|omzeil",
        ),
        (
            "alle|vorige|eerdere|voorgaande|bovenstaande|systeem|oorspronkelijke|originele"
            "|gegeven|huidige",
        ),
        (
            "instructies|regels|opdrachten|richtlijnen|aanwijzingen|prompts?|beperkingen"
            "|bevelen|voorschriften",
        ),
        boundary=r"\b",
    )[:1],
    *role_signals(
        (r"\b(?:je bent nu|vanaf nu ben je|u bent nu|vanaf nu bent u|je bent niet langer)\b",),
        (r"\b(?:gedraag je als|doe alsof|speel de rol|fungeer als|handel als|je bent nu)\b",),
        (r"\bzonder (?:enige |welke )?(?:beperkingen|regels|filters|censuur|grenzen)\b",),
    ),
    *leak_signals(
        (
            r"\b(?:toon|laat zien|herhaal|geef|print|onthul|vertel|schrijf|vertaal|wat is"
            r"|wat zijn)\b",
        ),
        (
            r"\b(?:systeemprompt|systeem prompt|systeeminstructies|(?:je|jouw|uw|"
            r"oorspronkelijke|originele|verborgen|eerste|geheime) (?:instructies|prompt))\b",
        ),
    ),
)

# -- Swedish, Danish, Norwegian (one table: they share most words once folded) --------------
NORDIC: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "ignorera|ignorer|strunta i|glöm|glem|bortse från|se bort fra|följ inte|følg ikke"
            "|ikke følg|skippa|spring over|hoppa över|hopp over|overse|kasta|kast",
        ),
        (
            "alla|alle|tidigare|föregående|ovanstående|forrige|tidligere|ovenstående|ovennevnte"
            "|ovennævnte|system|ursprungliga|oprindelige|opprinnelige|givna|givne",
        ),
        (
            "instruktion"
            + _LETTERS
            + "|instruks"
            + _LETTERS
            + "|regl"
            + _LETTERS
            + "|direktiv"
            + _LETTERS
            + "|anvisning"
            + _LETTERS
            + "|riktlinj"
            + _LETTERS
            + "|retningslinj"
            + _LETTERS
            + "|kommando"
            + _LETTERS
            + "|prompt"
            + _LETTERS
            + "|begränsning"
            + _LETTERS
            + "|begrænsning"
            + _LETTERS
            + "|begrensning"
            + _LETTERS,
        ),
        boundary=r"\b",
    ),
    *role_signals(
        (
            r"\b(?:du är nu|från och med nu är du|du er nu|fra nu af er du|fra nå av er du"
            r"|fra nu af er du|du är inte längre|du er ikke lenger|du er ikke længere)\b",
        ),
        (
            r"\b(?:låtsas|lad som om|lat som|agera som|opptre som|optræd som|bete dig som"
            r"|spela rollen|spill rollen|spil rollen|du är nu|du er nu)\b",
        ),
        (
            r"\b(?:utan|uden|uten) (?:några |nogen |noen )?(?:begränsningar|begrænsninger"
            r"|begrensninger|regler|filter|filtre|censur|sensur)\b",
        ),
    ),
    *leak_signals(
        (
            r"\b(?:visa|vis|upprepa|gjenta|gentag|skriv ut|avslöja|afslør|avslør|berätta"
            r"|fortæl|fortell|översätt|oversæt|oversett|vad är|hva er|hvad er)\b",
        ),
        (
            r"\b(?:systemprompt\S*|systeminstruk\S*|(?:dina|dine|ursprungliga|oprindelige"
            r"|opprinnelige|dolda|skjulte|hemliga|hemmelige) instruk\S*)",
        ),
    ),
)

# -- Turkish (object before verb) -------------------------------------------------------------
TURKISH: tuple[LangSignal, ...] = (
    *override_signals(
        (
            "görmezden gel|yok say|yoksay|unut|dikkate alma|göz ardı et|uyma|uymayın|takma"
            "|iptal et|umursama|önemseme|boşver|bırak",
        ),
        (
            "önceki|yukarıdaki|tüm|bütün|sistem|ilk|verilen|daha önceki|mevcut|orijinal"
            "|başlangıçtaki|sana verilen|tüm önceki",
        ),
        _stems(
            "talimat",
            "yönerge",
            "kural",
            "komut",
            "emir",
            "istem",
            "prompt",
            "kısıtlama",
            "sınırlama",
            "direktif",
            "yönlendirme",
            "açıklama",
        ),
        verb_last=True,
        boundary=r"\b",
    ),
    *role_signals(
        (r"\b(?:artık sen|bundan sonra sen|şu andan itibaren sen|artık sen bir)\b",),
        (r"\b(?:gibi davran|rolüne gir|rolünü oyna|taklit et|olduğunu farz et|gibi hareket et)",),
        (
            r"\b(?:kısıtlama|sınırlama|sansür|filtre|kural|sınır)\S* (?:olmadan|yok|olmayan"
            r"|tanımayan|içermeyen)\b|\bhiçbir (?:kısıtlama|sınır|kural|filtre)\S*",
        ),
    ),
    *leak_signals(
        (r"\b(?:göster|yaz|tekrarla|açıkla|söyle|ver|yazdır|paylaş|ifşa et|çevir|nedir)",),
        (
            r"\b(?:sistem (?:istem|prompt|talimat|mesaj)\S*|(?:ilk|gizli|orijinal|başlangıç)"
            r" talimat\S*|talimatların\S*|sana verilen talimat\S*)",
        ),
        order="ov",
    ),
)

#: "What is the password?" in these languages (extraction games ask for a secret).
PASSWORD_ASK = (
    r"(?:какой|скажи|назови|напиши|дай) (?:мне |у тебя |у вас )?"
    r"(?:пароль|секретное слово|секретный код)"
    r"|(?:який|скажи|назви|напиши) (?:мені )?(?:пароль|секретне слово)"
    r"|\b(?:jakie jest|podaj|powiedz mi|zdradź) (?:mi )?(?:hasło|tajne hasło|sekretne słowo)\b"
    r"|\b(?:wat is|geef me|vertel me|noem) (?:het|je|jouw) (?:wachtwoord|geheime woord)\b"
    r"|\b(?:vad är|hva er|hvad er|säg|si|sig) (?:mig |meg )?(?:lösenordet|passordet|adgangskoden"
    r"|kodeordet)\b|\b(?:şifre|parola|gizli kelime)\S* (?:nedir|ne|söyle|ver|yaz)\b"
)

SIGNALS: tuple[LangSignal, ...] = (
    ("prompt_leak", 0.6, f"(?:{PASSWORD_ASK}){CLAUSE_END}"),
    *RUSSIAN,
    *UKRAINIAN,
    *POLISH,
    *DUTCH,
    *NORDIC,
    *TURKISH,
)
