"""The phrasing grammar of the ``injection`` check: signals as (family, weight, pattern).

Patterns match folded text (guard.normalize: lower case, accents dropped, look-alikes
folded, invisible characters removed), so ``IGNÓRE`` and ``ig\u200bnore`` read as
``ignore``. Instruction overrides are a grammar, not a phrase list: a verb of setting
aside, up to four filler words (where the qualifiers "previous", "all", "system"... sit)
and an object that names instructions, in several languages. A weight is the
probability that one match alone is an injection; the check combines them.
"""

from __future__ import annotations

from guard.checks import _injection_grammar_cjk as cjk
from guard.checks import _injection_grammar_europe as europe
from guard.checks import _injection_grammar_leak as leak
from guard.checks import _injection_grammar_more as more
from guard.checks import _injection_grammar_western as western
from guard.checks import _injection_grammar_world as world
from guard.checks._injection_grammar_lang import folded


def _words(*items: str) -> str:
    return "(?:" + "|".join(items) + ")"


# -- instruction override ------------------------------------------------------------
_VERB_EN = _words(
    "ignore|ignoring|disregard|forget|forget about|override|bypass|skip|discard"
    "|abandon|neglect|drop|ditch|dismiss|overlook|set aside|put aside|throw out"
    "|throw away|toss|erase|delete|clear|reset|cancel|revoke|nullify|void|scrap"
    "|disobey|pay no (?:attention|heed|mind) to"
    "|do not (?:follow|obey|listen to|adhere to)"
    "|don'?t (?:follow|obey|listen to|adhere to)"
    "|(?:stop|quit|cease) (?:following|obeying|doing)"
    "|(?:should|must|will|need) (?:not|no longer) (?:follow|obey|listen to)"
    "|no longer (?:follow|obey)|never mind|ignore and forget"
)
_QUALIFIER_EN = _words(
    "all|any|every|previous|previously|prior|above|earlier|preceding"
    "|foregoing|initial|original|existing|system|developer|safety"
    "|aforementioned|above-mentioned|former|default|built-in|preprogrammed"
    "|pre-programmed|given|provided"
)
_FILLER_EN = _words(
    _QUALIFIER_EN,
    "the",
    "your",
    "my",
    "of",
    "those",
    "these",
    "that",
    "such",
    "other",
    "you",
    "were",
    "have",
    "been",
    "content",
    "moderation",
    "ethical",
    "openai",
    "whatever",
    "and",
    "instructions and",
    "rules and",
    "prompts and",
    "everything",
)
_FILLER_EN = _FILLER_EN + "(?:'s?)?"
_OBJECT_EN = _words(
    "instructions?|directions?|directives?|rules?|guidelines?|prompts?|commands?"
    "|orders?|constraints?|restrictions?|polic(?:y|ies)|programming|guardrails?"
    "|safeguards?|filters?|context|messages?|conversation|training|limitations?"
    "|boundaries|protocols?|principles|tasks?"
    "|everything (?:above|before|else|so far)"
    "|what(?:ever)? (?:you were|you've been|you have been|i) (?:told|said|given|instructed)"
    "|what (?:the|your) (?:system|operator|developer|admin|administrator|owner) "
    "(?:said|asked|told you|wants)"
    "|everything you were (?:told|instructed|given)"
    "|(?:the )?guidance you (?:got|were given|received)"
    "|(?:the )?setup (?:message|prompt|instructions)"
)
_SEP = r"[\s,:;'\"*_()\[\]-]+"
OVERRIDE_QUALIFIED = (
    rf"\b{_VERB_EN}(?:{_SEP}{_FILLER_EN}){{0,4}}?{_SEP}{_QUALIFIER_EN}"
    rf"(?:{_SEP}{_FILLER_EN}){{0,3}}?{_SEP}{_OBJECT_EN}\b"
)
#: "your" + an object that only the model's own setup has: "ignore your programming".
OVERRIDE_YOUR = (
    rf"\b{_VERB_EN}{_SEP}your{_SEP}(?:own{_SEP})?"
    + _words(
        "instructions|programming|guidelines|rules|system prompt|training|directives"
        "|restrictions|guardrails|safety (?:rules|guidelines)|content polic(?:y|ies)"
        "|safety filters?|filters|safeguards|prompt"
    )
    + r"\b"
)
#: Qualifier after the object: "the rules you were given", "everything above".
_POST_QUALIFIER = _words(
    "you (?:were|have been|'ve been) (?:given|told|shown)",
    "you (?:received|got|have)",
    "(?:written |given |stated |provided )?"
    "(?:above|earlier|previously|so far|before (?:this|now|that))",
)
OVERRIDE_POST_QUALIFIED = (
    rf"\b{_VERB_EN}(?:{_SEP}{_FILLER_EN}){{0,3}}?{_SEP}"
    rf"(?:{_OBJECT_EN}|everything|anything|the text|all that){_SEP}{_POST_QUALIFIER}\b"
    rf"|\b{_VERB_EN}{_SEP}(?:the|all the|everything|all of the) (?:above|preceding|foregoing)\b"
)
OVERRIDE_PLAIN = rf"\b{_VERB_EN}(?:{_SEP}{_FILLER_EN}){{0,3}}?{_SEP}{_OBJECT_EN}\b"
#: An AI named as the reader of the text: "language models processing this listing".
_READER = (
    r"\b(?:ai|a\.i\.|llms?|large language models?|language models?|"
    r"assistants?|chatbots?|bots?|gpts?|chatgpt|claude|gemini|copilot|agents?|models?|"
    r"automated (?:\w+ )?(?:tools?|agents?|systems?|assistants?|screeners?))\b"
    r"[^.\n]{0,40}?\b(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing|viewing|visiting|"
    r"seeing|scanning|reviewing|ingesting|crawling|that reads?|which reads?) (?:this|these|"
    r"the following)"
)

# (family, weight, pattern)
Signal = tuple[str, float, str]

_CORE: tuple[Signal, ...] = (
    ("override", 0.88, OVERRIDE_QUALIFIED),
    ("override", 0.45, OVERRIDE_PLAIN),
    ("override", 0.85, OVERRIDE_POST_QUALIFIED),
    ("override", 0.75, OVERRIDE_YOUR),
    *(("override", 0.85, pattern) for pattern in western.OVERRIDES),
    (
        "override",
        0.5,
        r"\b(?:new|updated|real|actual|true|revised|secret|hidden|additional)"
        r" (?:instructions?|task|directive|objective|orders|rules|system prompt)"
        r"\s*(?::|are\b|is\b)",
    ),
    (
        "override",
        0.45,
        r"\bfrom now on,? (?:you|your|ignore|always|only|respond|answer|act|"
        r"reply|pretend|do not|don'?t|never)",
    ),
    (
        "override",
        0.55,
        r"\b(?:your|the) (?:only|sole|real|new|true|actual|primary) (?:task|goal|"
        r"job|purpose|objective|instruction|mission) (?:is|now is|will be|from now)",
    ),
    (
        "override",
        0.55,
        r"\b(?:instructions?|rules|guidelines|restrictions|constraints|"
        r"directives)[^.\n]{0,30}? (?:no longer|don'?t|do not|does not|doesn'?t) apply",
    ),
    (
        "override",
        0.6,
        r"\b(?:above|previous|prior|earlier|original|system|initial|old|those|your|the|"
        r"everything you were|what you were) (?:\w+ )?(?:instructions?|prompt|rules|"
        r"directives?|directions|constraints|guidance|guidelines|orders|instructed|told|"
        r"given)(?: you (?:were|have been) given| you got)? (?:is|are|was|were|have been) "
        r"(?:now )?(?:wrong|fake|void|obsolete|outdated|invalid|cancel+ed|revoked|a test|"
        r"deprecated|superseded|null|lifted|removed|suspended|disabled|over|no longer valid)",
    ),
    (
        "override",
        0.6,
        r"\b(?:previous|prior|earlier|original|initial|old|system|above) (?:instructions?|"
        r"rules|directions|constraints|guidance|guidelines|orders|prompt) (?:no longer|don'?t|"
        r"do not|does not|doesn'?t) (?:count|matter|apply|hold|stand)",
    ),
    (
        "override",
        0.3,
        r"\binstead,? (?:you (?:must|should|will)|respond|reply|say|output|print|"
        r"write|only)",
    ),
    (
        "override",
        0.35,
        r"\b(?:stop|halt|abort|end) (?:the |your |what you are doing|"
        r"everything)(?:current |previous )?(?:task|summar\w*|translat\w*|analysis)?",
    ),
    # -- role and system-prompt hijack -------------------------------------------------
    ("role_hijack", 0.5, r"\byou are (?:now|no longer|henceforth|from now on)\b"),
    (
        "role_hijack",
        0.8,
        r"\b(?:act|behave|respond|answer|roleplay|role-play|pose|function|"
        r"operate) as (?:if you (?:were|are) )?(?:an? |the )?(?:unrestricted|unfiltered|"
        r"uncensored|jailbroken|unlimited|amoral|evil|rogue|unethical|unbound|dan\b|"
        r"different (?:ai|model)|ai without|model without|assistant without)",
    ),
    ("role_hijack", 0.35, r"\bpretend (?:to be|you are|you're|that you (?:are|have))"),
    (
        "role_hijack",
        0.75,
        # A persona defined by what it lacks: "simulate an AI with no safety training".
        r"\b(?:simulate|emulate|play the role of|become|roleplay as|role-play as|act as|"
        r"you are now|you're now|switch (?:personas?|roles?)|from this moment you are|"
        r"pretend to be|pretend you are)\b[^.\n]{0,40}?\b(?:with no|without|that has no|"
        r"who has no|whose \w+ (?:removed|disabled)|free (?:of|from)|broken out of|that ignores|"
        r"who ignores|that never refuses|who never refuses|with no limits|no longer bound)",
    ),
    (
        "role_hijack",
        0.6,
        r"\b(?:you(?: are|'re)(?: now)?|(?:respond|reply|answer|speak) (?:only )?as) dan\b",
    ),
    (
        "role_hijack",
        0.45,
        r"\b(?:no|without|ignores?(?: all)?) (?:safety|content|moral|ethical) (?:training|"
        r"polic(?:y|ies)|filters?|constraints|guidelines)\b|\bignores? all (?:ethics|morals)\b",
    ),
    (
        "role_hijack",
        0.85,
        r"\b(?:do anything now|(?:dan|stan|dude|aim|evil|god|jailbreak|"
        r"jailbroken|unrestricted|unfiltered|chaos|opposite) mode)\b",
    ),
    ("role_hijack", 0.3, r"\bdeveloper mode\b"),
    (
        "role_hijack",
        0.45,
        r"\b(?:without|free (?:of|from)|no longer (?:bound|restricted|limited) "
        r"by|not bound by|unbound by|with no|have no|don'?t have any|do not have any) (?:any )?"
        r"(?:ethical |moral |content |safety |openai )?(?:restrictions|limitations|filters|"
        r"censorship|guardrails|ethics|morals|moral compass)",
    ),
    (
        "role_hijack",
        0.8,
        r"\b(?:openai|anthropic|google|meta|your (?:creators?|developers?|"
        r"makers?))(?:'s?)? (?:content )?(?:policies|rules|guidelines|restrictions) (?:do not|"
        r"don'?t|no longer|won'?t) (?:apply|bind|matter)",
    ),
    (
        "role_hijack",
        0.7,
        r"\b(?:system|admin|root|developer|sudo|maintenance|debug) ?"
        r"(?:override|mode|access|privileges?)[\s:]*(?:is )?(?:now )?(?:enabled|granted|"
        r"activated|unlocked)\b",
    ),
    (
        "role_hijack",
        0.5,
        r"\bi am your (?:developer|creator|admin|administrator|owner|"
        r"system|operator|programmer)",
    ),
    (
        "role_hijack",
        0.6,
        r"\b(?:answer|respond|comply|reply)(?: to)? (?:every|all|any) "
        r"(?:request|question|prompt|command)s? (?:without|regardless|no matter)",
    ),
    (
        "role_hijack",
        0.4,
        r"\b(?:free (?:of|from)|not bound by|unbound by|no longer bound by) (?:all |any )?"
        r"(?:the )?(?:rules|guidelines|policies|constraints|boundaries|limits)",
    ),
    ("role_hijack", 0.4, r"\b(?:stay|remain) in character\b|\bnever break character\b"),
    (
        "role_hijack",
        0.55,
        r"\b(?:never|don'?t|do not|must not) (?:refuse|decline|say (?:no|"
        r"you can'?t|that you cannot)|apologi[sz]e|add (?:warnings|disclaimers))",
    ),
    ("role_hijack", 0.3, r"\bjailbr(?:eak|oken)\b"),
    # -- prompt leak -----------------------------------------------------------------------
    (
        "prompt_leak",
        0.75,
        r"\b(?:reveal|show|print|repeat|output|display|tell me|give me|share|"
        r"leak|dump|write out|spell out|recite|copy|paste|provide|list|return|echo|disclose|"
        r"expose|what (?:is|are|was|were)|read back|send me)(?:\s+(?:me|us|all|of|the|your|its|"
        r"exact|full|entire|complete|whole|verbatim)){0,4}\s+(?:system|initial|original|hidden|"
        r"secret|internal|developer|pre-?|starting|first|confidential|full|exact|complete|"
        r"previous|underlying|base|core|meta-?)(?:\s?(?:system|initial|original|hidden|secret|"
        r"internal|developer|confidential|full|exact|complete))?\s?(?:prompt|instructions?|message|directives?|"
        r"guidelines|rules|configuration|context)",
    ),
    (
        "prompt_leak",
        0.4,
        r"\b(?:your|the) (?:system ?prompt|pre-?prompt|initial prompt|"
        r"meta-?prompt|hidden prompt|secret instructions)",
    ),
    (
        "prompt_leak",
        0.6,
        r"\b(?:repeat|print|output|write|copy|echo|reproduce|return)"
        r" (?:all |everything |back )?(?:of )?(?:the )?(?:text |words |content |lines? |"
        r"instructions )?(?:before (?:this|my (?:message|question|request))|so far|"
        r"preceding|prior to this|" + leak.ABOVE + ")",
    ),
    (
        "prompt_leak",
        0.6,
        r"\b(?:paste|print|output|show|display|reveal|tell me|give me|share|translate|"
        r"summari[sz]e|repeat|recite|dump|write out|include|what (?:is|does|are))\b[^.\n?]{0,40}?"
        r"\b(?:(?:your|its)(?: (?:full|complete|exact|entire|whole|hidden|secret|initial|"
        r"original|first|system|setup|configuration|configured|developer|company))*|the"
        r"(?: (?:full|complete|exact|entire|whole|hidden|secret|initial|original|system|setup|"
        r"configuration|configured|developer|company))+) (?:prompt|instructions|setup message|"
        r"system message|configuration prompt|instructions you were (?:configured|given|set up) "
        r"with)\b",
    ),
    (
        "prompt_leak",
        0.6,
        r"\b(?:print|repeat|output|copy|echo|write)\s+(?:all |everything |the text )?(?:that "
        r"(?:appears|comes|is) )?(?:before|above) (?:the word|this line|my message)|\btext "
        r"(?:between|inside|within) <\w+>",
    ),
    (
        "prompt_leak",
        0.7,
        r"\b(?:first|last) (?:sentence|line|words?|paragraph) of your (?:prompt|instructions|"
        r"system (?:prompt|message))",
    ),
    ("prompt_leak", 0.7, r"\b(?:starting|beginning|begin|start) with [\"'`]?you are\b"),
    (
        "prompt_leak",
        0.6,
        r"\bwhat (?:were|are) (?:you|your) (?:told|instructed|instructions|"
        r"initial instructions|rules)\b",
    ),
    ("prompt_leak", 0.35, r"\b(?:verbatim|word for word|word-for-word)\b"),
    western.LEAK,
    # -- delimiter and fake conversation -------------------------------------------------
    (
        "delimiter",
        0.85,
        r"<\|(?:im_start|im_end|im_sep|endoftext|system|user|assistant|eot_id|"
        r"start_header_id|end_header_id|begin_of_text)\|>",
    ),
    (
        "delimiter",
        0.6,
        r"</?(?:system|sys|instructions?|admin|developer|system_prompt|"
        r"assistant|im_start|human|ai)>",
    ),
    ("delimiter", 0.6, r"\[/?inst\]|<</?sys>>"),
    (
        "delimiter",
        0.6,
        r"(?m)^[ \t]*#{2,}[ \t]*(?:system|assistant|human|response|"
        r"new instructions?|admin|developer)[ \t]*:?[ \t]*$?",
    ),
    ("delimiter", 0.3, r"(?m)^[ \t]*#{2,}[ \t]*(?:instructions?|user|input)[ \t]*:"),
    ("delimiter", 0.6, r"#{2,}\s*instructions?:[\s\S]{0,400}?#{2,}\s*response:"),
    ("delimiter", 0.5, r"\[system\]\s*:|(?m)^[ \t]*system (?:message|override|prompt)\s*:"),
    ("delimiter", 0.45, r"\bend (?:of )?(?:the )?(?:user|human) (?:input|message|turn)\b"),
    ("delimiter", 0.5, r"</(?:user|user_input|document|context|human_turn)>"),
    ("delimiter", 0.35, r"(?m)^[ \t]*(?:system|assistant|human|ai|model)[ \t]*:[ \t]"),
    (
        "delimiter",
        0.55,
        r"\b(?:human|user|assistant)\s*:[^\n]{0,200}\n?[^\n]{0,200}?\bsystem\s*:",
    ),
    (
        "delimiter",
        0.45,
        r"\b(?:end|end of|begin|start of|beginning of) (?:the )?(?:system|user|"
        r"document|context|prompt|input|instructions?|conversation|data|email|text)(?: prompt| "
        r"message| input)?[ \t]*(?:-{2,}|={2,}|\]|>|\*{2,}|#{2,})",
    ),
    (
        "delimiter",
        0.45,
        r"(?:-{3,}|={3,}|\*{3,}|#{3,})\s*(?:system|admin|new instructions?|"
        r"important instructions?|override)\b",
    ),
    # -- hidden instructions addressed to an AI inside content ----------------------------
    (
        "hidden_instruction",
        0.35,
        _READER,
    ),
    (
        "hidden_instruction",
        0.7,
        # ... and told what to do: "AI assistants reading this must ..."
        _READER + r"[^.\n]{0,30}?\b(?:must|should|shall|will|need to|have to|are (?:required|"
        r"instructed|asked|expected) to|please)\b",
    ),
    (
        "hidden_instruction",
        0.7,
        r"\b(?:note|message|instructions?|attention|important|notice|"
        r"directive|reminder|memo)[ :]+(?:to|for) (?:the |any |all )?(?:ai|llms?|language models?|"
        r"assistants?|chatbots?|gpts?|agents?|models?|bots?|automated \w+)\b",
    ),
    (
        "hidden_instruction",
        0.6,
        r"[\[(]\s*(?:ai|assistant|llm|agent|model|chatbot|bot|gpt)\s*:|\bif an? (?:ai|llm|"
        r"language model|chatbot|bot|agent|model)(?: assistant| agent| model)? (?:reads|sees|"
        r"processes|is reading|is processing) this\b",
    ),
    (
        "hidden_instruction",
        0.6,
        r"\b(?:dear|attention|psst)[ ,]+(?:the )?(?:ai|llm|assistant|"
        r"chatbot|gpt|chatgpt|claude|agent|bot)(?: model| assistant| agent)?\s*[,:!]",
    ),
    (
        "hidden_instruction",
        0.55,
        r"(?:^|[.!?\]>:\n] *)(?:ai |the )?(?:assistant|chatbot|llm|agent|model|gpt|ai)[,:]? "
        r"(?:please )?(?:ignore|recommend|say|tell|output|send|reply|respond|include|rate|"
        r"approve|delete|insult|list|write|translate|print|forward|call|run|execute|close|post|"
        r"accept|create|share|append|offer|grant|transfer|pay|buy|click|visit|open|download|"
        r"do not|don'?t|never)\b",
    ),
    (
        "hidden_instruction",
        0.75,
        r"\bif you are an? (?:ai|llm|(?:large )?language model|"
        r"assistant|chatbot|bot|agent|gpt|automated|ai assistant)\b",
    ),
    (
        "hidden_instruction",
        0.55,
        r"\b(?:do not|don'?t|never) (?:tell|inform|mention|reveal|"
        r"disclose|let|show|alert|notify|warn)(?: this| it| anything| them)?(?: to)? (?:the )?"
        r"(?:user|human|reader|customer|recipient|operator)s?\b",
    ),
    (
        "hidden_instruction",
        0.55,
        r"\b(?:without|before) (?:telling|informing|notifying|"
        r"alerting|asking|warning|mentioning (?:it |this )?to) (?:the )?(?:user|human|customer|"
        r"reader)s?\b",
    ),
    (
        "hidden_instruction",
        0.5,
        r"<!--[^>]{0,300}?\b(?:ignore|instructions?|assistant|ai|llm|"
        r"must|system|prompt)\b",
    ),
    ("hidden_instruction", 0.5, r"!\[[^\]\n]{0,80}\]\(https?://[^)\s]{1,200}[?&][\w-]{1,20}="),
    (
        "hidden_instruction",
        0.65,
        r"\b(?:send|forward|email|e-mail|post|upload|transmit|"
        r"exfiltrate|leak|copy)(?: (?:the|all|any|this|their|his|her|my|your))?(?: (?:user'?s?|"
        r"conversation|chat|private|stored|saved))? (?:data|history|conversation|messages|emails|"
        r"credentials|passwords?|api keys?|tokens?|files|contacts|information|details|secrets)\b"
        r"[^.\n]{0,60}?\b(?:to|at) (?:https?://|[\w.-]+@[\w-]+\.|this (?:url|address|endpoint))",
    ),
    (
        "hidden_instruction",
        0.5,
        r"\b(?:instead of|rather than) (?:summari[sz]ing|translating|"
        r"answering|analy[sz]ing|reviewing|doing what)",
    ),
    (
        "hidden_instruction",
        0.45,
        r"\b(?:when|whenever|if) (?:you are )?(?:asked|summari[sz]ing|"
        r"processing|reading|reviewing) (?:about )?(?:this|these)\b[^.\n]{0,40}?\b(?:you must|"
        r"you should|always|say|respond|reply|recommend|state|include)",
    ),
    (
        "hidden_instruction",
        0.4,
        r"\b(?:ai|assistant|model|llm|agent)s? (?:must|should|shall|are "
        r"required to|are instructed to|need to) (?:always |now |immediately )?(?:ignore|reply|"
        r"respond|say|recommend|include|output|send|forward|call|execute|rate|rank|approve)",
    ),
    # -- asking to decode and act (the payload itself is decoded by the check) -----------
    (
        "encoded",
        0.6,
        r"\b(?:decode|decipher|decrypt|translate|convert)\b[^.\n]{0,40}?"
        r"(?:base ?64|rot-?13|hex|binary|caesar|morse)?[^.\n]{0,20}?\b(?:and|then)\b[^.\n]{0,10}?"
        r"(?:follow|execute|run|obey|do what|perform|carry out|act on|comply)",
    ),
)

#: Every signal: the core grammar above, the English extraction grammar, and the other
#: languages' grammar, folded as text is (their patterns are written in their scripts).
#: Folded text is lower case already: those patterns match case-sensitively (``(?-i:``),
#: which keeps RE2 from adding every Cyrillic, Greek... letter's other case to the set.
SIGNALS: tuple[Signal, ...] = (
    *_CORE,
    *leak.SIGNALS,
    *(
        (family, weight, "(?-i:" + folded(pattern) + ")")
        for family, weight, pattern in (
            *cjk.SIGNALS,
            *europe.SIGNALS,
            *western.SIGNALS,
            *world.SIGNALS,
            *more.SIGNALS,
        )
    ),
)
