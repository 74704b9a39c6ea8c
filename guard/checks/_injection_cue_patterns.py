"""The patterns of the injection model's discourse cues (:mod:`guard.checks._injection_cues`
reads them): each cue a kind of move, written from what jailbreaks and injections *do*.

RE2 syntax. :data:`CUES` match the folded text (:mod:`guard.normalize`) ignoring case;
:data:`RAW_CUES` match the text as sent, case-sensitively (case and layout matter
there). Names are stable: the model file weighs each cue by its name.
"""

from __future__ import annotations

_AI = (
    r"(?:ai|a\.i\.|assistant|model|language model|llm|chatbot|bot|agent|gpt|chatgpt|claude|copilot)"
)
_RULES = (
    r"(?:restrictions?|filters?|filtering|limits?|limitations?|guidelines?|ethics|ethical"
    r"|morals?|morality|moral (?:code|compass|guidelines)|polic(?:y|ies)|censorship|censored"
    r"|rules|boundaries|constraints|safeguards?|content polic(?:y|ies)|principles|values"
    r"|conscience|regulations|laws)"
)

#: (cue, pattern on folded text). Order is the feature order; names are stable.
CUES: tuple[tuple[str, str], ...] = (
    (
        "you_now",
        r"\byou (?:will|must|shall|should|are going to|have to|need to|are to|may) "
        r"(?:now|from now on|always|never|only|henceforth|immediately)\b"
        r"|\bfrom (?:now|this (?:moment|point)) on\b|\bhenceforth\b",
    ),
    (
        "your_task",
        r"\byour (?:new |only |primary |real |true |actual |next |first |main |sole )?"
        r"(?:task|job|goal|role|purpose|mission|objective|instructions?|directive|assignment)"
        r"(?: now)? (?:is|are|will be|was)\b|\bnew (?:instructions?|task|directive|rules?"
        r"|objective)\b",
    ),
    (
        "persona",
        r"\b(?:(?:from now on|now|today),? you(?: are|'re)|you are (?:now|going to (?:be|act"
        r"|pretend|play))|you will (?:now )?(?:be|act|play|pretend)"
        r"|(?:act|acting|behave) as (?:if you were )?(?:a|an|the|my)?\b|pretend (?:to be|you are"
        r"|that you)"
        r"|role-?play(?:ing)? as|play the (?:role|part) of|take on the (?:role|persona)"
        r"|assume the (?:role|persona)"
        r"|imagine (?:that )?you are|you are (?:a|an) \w+ (?:named|called)|(?:a|an) (?:ai|character"
        r"|persona)"
        r" (?:named|called)|in the role of|simulate (?:a|an)\b)",
    ),
    ("you_are_a", r"\byou(?: are|'re) (?:a|an)\b"),
    (
        "no_rules",
        rf"\b(?:no|without|free (?:of|from)|not bound by|unbound by|not (?:restricted|limited"
        rf"|constrained)"
        rf" by|(?:does|do|doesn'?t|don'?t|does not|do not|did not|never) (?:have|has|follow"
        rf"|care about|abide by)"
        rf"(?: any)?|unrestricted|uncensored|unfiltered|amoral|immoral|no longer (?:bound"
        rf"|restricted|limited)"
        rf"|broken free|break(?:s)? free|freed from|beyond)(?: \w+){{0,3}} {_RULES}\b"
        r"|\b(?:uncensored|unfiltered|unrestricted|amoral|unethical|unhinged|without limits)\b",
    ),
    (
        "in_character",
        r"\b(?:stay|remain|keep|staying|remaining) in (?:character|role|persona)\b"
        r"|\bbreak(?:ing)? character\b"
        r"|\bout of character\b|\bstay as\b|\bremind you to stay\b",
    ),
    (
        "never_refuse",
        r"\bnever (?:refuse|decline|deny|say no|reject|apologi[sz]e|warn|tell (?:me"
        r"|the user) (?:that )?(?:it|you)"
        r" can'?t)|\b(?:can'?t|cannot|can not|won'?t|will not|must not|mustn'?t|should not"
        r"|shouldn'?t|do not|don'?t"
        r"|are not allowed to|is not allowed to) (?:refuse|decline|say no|reject|deny)"
        r"|\balways (?:answer|respond|comply|provide|give|reply|obey)"
        r"|\bwithout (?:any )?(?:warnings?|disclaimers?|hesitation|refus\w*|question|moral\w*"
        r"|censor\w*)"
        r"|\bno (?:warnings?|disclaimers?|refusals?)\b|\b(?:i'?m|i am) sorry,? but\b"
        r"|\bas an ai language model\b",
    ),
    (
        "dual_response",
        r"\[(?:classic|jailbreak|jailbroken|normal|dan|developer mode|lock|unlock|gpt|chatgpt"
        r"|filtered"
        r"|unfiltered)\]|\b(?:answer|respond|reply) (?:as|in|with) both\b|\btwo (?:different )?"
        r"(?:responses|answers|paragraphs|ways)\b|\b(?:normal|classic|standard"
        r"|filtered) (?:response|output|answer)"
        r" (?:and|followed by)\b|\bdeveloper mode (?:output|response|enabled)\b",
    ),
    (
        "forced_prefix",
        r"\b(?:begin|start|open|preface|commence) (?:your|each|every|the|all)? ?(?:of your )?"
        r"(?:reply|replies|response|responses|answer|answers|output|message|messages)? ?(?:by|with)"
        r"(?: replying| saying| writing| the (?:phrase|words|sentence))?[\s:]*[\"'`“”‘’]"
        r"|\bsure,? here(?: is|'s| are)\b|\b(?:respond|reply|answer) (?:only )?with[\s:]*[\"'`“”‘’]"
        r"|\bbegin (?:your|the) (?:reply|response|answer)\b",
    ),
    (
        "fiction",
        r"\b(?:hypothetical(?:ly)?|fictional|fictitious|in a (?:story|novel|film|movie|game|world"
        r"|universe)"
        r"|imagine (?:a|an|that|you|if)|thought experiment|(?:write|writing|tell) (?:a|an"
        r"|me a) (?:story|scene"
        r"|screenplay|script|novel|poem|dialogue)|let'?s play a game|role-?play|for (?:a"
        r"|my) (?:novel|story|book|"
        r"screenplay|movie|film|game)|purely (?:fictional|hypothetical|academic|theoretical)"
        r"|for (?:educational|research|academic|informational) purposes(?: only)?"
        r"|(?:in )?this (?:fictional|"
        r"hypothetical|imaginary) (?:world|scenario|setting))\b",
    ),
    (
        "harmful",
        r"\b(?:bombs?|explosives?|detonat\w*|weapons?|firearms?|guns?|meth\w*|cocaine|heroin"
        r"|fentanyl|drugs?"
        r"|poison\w*|kill(?:ing)?|murder\w*|assassinat\w*|malware|ransomware|virus|keylogger"
        r"|exploit\w*"
        r"|hack(?:ing|ed|er)?|phishing|steal(?:ing)?|stolen|fraud\w*|launder\w*|counterfeit\w*"
        r"|smuggl\w*"
        r"|traffick\w*|terror\w*|suicide|self-harm|racist|hate speech|harass\w*|stalk\w*"
        r"|blackmail\w*"
        r"|extort\w*|illegal(?:ly)?|bypass(?:ing)? security|identity theft|credit card numbers"
        r"|nerve agent"
        r"|bioweapon\w*|anthrax|ricin|sarin|untraceable|without (?:getting )?caught"
        r"|evad\w* (?:the )?(?:police|law"
        r"|detection|taxes))\b",
    ),
    (
        "legitimize",
        r"\b(?:(?:will|would) (?:not|never) be used (?:for|in|to)|won'?t be used (?:for|in|to)"
        r"|(?:only|purely|solely|strictly|just) (?:for|as) (?:a )?(?:educational|research|academic"
        r"|fictional"
        r"|informational|training|testing|hypothetical|entertainment)|(?:for|in) (?:educational"
        r"|research|academic"
        r"|fictional|informational|awareness) (?:purposes?|reasons|use)|this is (?:just |purely "
        r"|only |all )?"
        r"(?:a |an )?(?:hypothetical|fictional|fiction|thought experiment|game|simulation|test"
        r"|exercise)"
        r"|no (?:one|real person|real people) will (?:be harmed|get hurt|be hurt)|(?:not"
        r"|never) (?:actually|really)"
        r" (?:do|use|carry out|act on)|it'?s (?:all |just )?(?:legal|fine|okay|ok|harmless) (?:here"
        r"|in this)"
        r"|(?:is|are) (?:completely |totally |perfectly )?legal (?:in|here))",
    ),
    (
        "urgency",
        r"\b(?:urgent(?:ly)?|immediately|right now|asap|as soon as possible|deadline|lives? (?:are"
        r"|is|will be)?"
        r" ?(?:at stake|depend|on the line)|(?:my|his|her|their) (?:family|children|kids|job|life"
        r"|career)"
        r" (?:depends?|will|is at)|(?:only|just) (?:\d+|one|two|three|a few) (?:hours?|days?"
        r"|minutes?) (?:left|to)"
        r"|desperate(?:ly)?|or else|it is (?:vital|critical|crucial|essential|imperative) that)\b",
    ),
    (
        "authority",
        r"\b(?:important|attention|notice|warning|admin(?:istrator)?|system (?:note|notice|message"
        r"|alert|update"
        r"|override|administrator)|security (?:notice|alert|update)|(?:message|note"
        r"|instructions?) (?:from|to|for)"
        r" (?:the )?(?:user|developer|admin|administrator|operator|system|owner)|the user (?:wants"
        r"|asks|requests|"
        r"has (?:asked|requested)|needs) (?:you|that you)|on behalf of the user|authori[sz]ed by)\b"
        r"|<\s*/?\s*(?:information|important|instructions?|system|admin|note)\s*>",
    ),
    (
        "addresses_ai",
        rf"\b(?:(?:dear|hey|hi|hello|attention|note to|to (?:the|any|all)|message (?:for|to)(?: the"
        rf"| any)?)"
        rf" {_AI}s?\b|(?:ai|llm|language model|assistant|agent|model)s? (?:reading|processing"
        rf"|summari[sz]ing|"
        rf"analy[sz]ing|viewing|parsing|scanning|reviewing) (?:this|these|the)\b"
        rf"|if you are (?:an? )?(?:ai|llm"
        rf"|language model|assistant|agent|chatbot|bot)\b|before you (?:solve|complete|do|continue"
        rf"|answer|proceed"
        rf"|finish|summari[sz]e|reply|respond)\b|instead of (?:summari[sz]ing|answering|completing"
        rf"|doing)"
        rf"|when you (?:read|see|process|summari[sz]e) this|to you,? (?:the )?(?:ai|assistant|model"
        rf"|llm|agent"
        rf"|gpt[\w.-]*|llama[\w.-]*|claude[\w.-]*|gemini[\w.-]*|mistral[\w.-]*|chatgpt|copilot"
        rf"|bot)\b"
        rf"|before you (?:can |do |start |begin )?(?:solve|complete|do|continue|answer|proceed"
        rf"|finish|reply"
        rf"|respond|summari[sz]e|perform|carry out)\b|(?:the )?task (?:that )?i gave you)",
    ),
    (
        "action_switch",
        r"\b(?:instead|rather than|in addition|additionally|after (?:that|this|you)|first|then|also"
        r"|next|"
        r"please)\b(?: \w+){0,4} (?:send|forward|e-?mail|transfer|wire|delete|remove|post|share"
        r"|upload|download"
        r"|visit|click|open|execute|run|invite|grant|pay|reset|change the password|exfiltrate|leak"
        r"|reveal|print"
        r"|output|include|insert|append|add)\b",
    ),
    (
        "second_person_order",
        r"(?:^|[.!?\n:]\s*)(?:you (?:must|will|shall|should|need to|have to|are required to"
        r"|are instructed to)"
        r"|do not|don'?t|never|always|make sure (?:you|to)|ensure (?:you|that)"
        r"|remember(?:,)? (?:you|that you|to))\b",
    ),
)

#: Cues read on the raw text (case matters: shouting, e-mail headers, JSON keys).
RAW_CUES: tuple[tuple[str, str], ...] = (
    (
        "shouting",
        r"\b(?:IMPORTANT|URGENT|ATTENTION|WARNING|NOTE|SYSTEM|ADMIN|INSTRUCTIONS?|STOP"
        r"|NEW TASK)\b\s*[!:]",
    ),
    (
        "data_carrier",
        r"(?m)^\s*[{\[]\s*[\"{\[]|\"\w+\"\s*:\s*[\"\[{\d]|(?m)^(?:From|To|Subject|Date|Cc"
        r"|Reply-To):\s"
        r"|(?m)^\s*\|.+\|\s*$|<(?:html|div|p|span|body|table|tr|td|a|meta|script|!--)[\s>]"
        r"|(?m)^\s*[\w-]+:\s+\S.*\n\s*[\w-]+:\s+\S|(?m)^(?:def|class|function|import|#include)\b",
    ),
)
