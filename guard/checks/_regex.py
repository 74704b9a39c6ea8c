"""User regexes on RE2, a linear-time engine, and how wide their matches can be.

Python's ``re`` backtracks: ``(\\w+\\s?)+:\\s*secret`` on 25 characters took 2.7 s on
the event loop (core-review D13). RE2 runs any pattern it accepts in time linear in the
text, and refuses what it cannot run that way (look-around, back-references), which
then is a policy load error rather than a slow request.

Rules match folded text (guard.normalize: accents dropped, look-alikes folded, lower
case), so the non-ASCII characters of a pattern are folded the same way before it is
compiled (``contraseña`` matches ``contrasena``, ``CONTRASEÑA`` and ``contrasen\u0303a``).

RE2 differences a rule author meets: ``\\w \\d \\b`` are ASCII-only (folded Latin
text is ASCII; for other scripts use ``\\p{L}``, and a ``\\b`` next to a non-ASCII letter
is refused at load because it could never match), ``\\Z`` is spelled ``\\z``, counted
repetition stops at 1000. Matching is case-insensitive.
"""

from __future__ import annotations

import re
from typing import Any

import re2

from guard.normalize import normalize

#: Match widths at or above this count as unbounded (``+``, ``*``, ``{n,}``).
_UNBOUNDED = 1 << 20


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    # Compile errors are reported as a policy error; do not also print them to stderr.
    options.log_errors = False
    return options


_OPTIONS = _options()


def re2_subject(text: str) -> str | bytes:
    """What RE2 reads: ASCII text as bytes (same offsets), which spares the wrapper's
    character-offset conversion (~3x faster per search); other text as it is."""
    return text.encode("ascii") if text.isascii() else text


def fold_pattern(pattern: str) -> str:
    """``pattern`` as it must be to match folded text: each non-ASCII character (regex
    syntax is ASCII, so it is a literal or a class member) replaced by its fold."""
    if pattern.isascii():
        return pattern
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if char.isascii():
            if not escaped and char == "[" and not in_class:
                in_class = True
            elif not escaped and char == "]" and in_class:
                in_class = False
            escaped = not escaped and char == "\\"
            out.append(char)
            continue
        if escaped:
            out.pop()  # "\\é" is the literal é: its fold replaces both characters
            escaped = False
        folded = normalize(char).text
        if in_class or len(folded) == 1:
            out.append(re.escape(folded))
        else:
            # Dropped (a mark) or expanded (æ -> ae): a group keeps a quantifier's reach.
            out.append(f"(?:{re.escape(folded)})")
    return "".join(out)


def compile_regex(pattern: str) -> Any:
    """Compile a rule's regex (already folded, see :func:`fold_pattern`) with RE2,
    case-insensitive.

    Raises ``ValueError`` with a one-sentence reason when RE2 cannot run the pattern.
    """
    _refuse_ascii_boundary_next_to_other_letters(pattern)
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        kind = _error_kind(exc)
    if _python_compiles(pattern):
        if kind in _LOOK_AROUND_OR_BACK_REFERENCE:
            raise ValueError(
                f"regex uses syntax the linear-time engine RE2 cannot run ({kind}):"
                " look-around and back-references are not supported; rewrite the pattern"
                " without them"
            )
        raise ValueError(
            f"regex uses syntax the linear-time engine RE2 cannot run ({kind}); rewrite"
            " that part of the pattern"
        )
    raise ValueError(f"regex does not compile ({kind})")


#: RE2's errors for ``(?=`` ``(?<=`` ``(?!`` and for ``\1``.
_LOOK_AROUND_OR_BACK_REFERENCE = ("invalid perl operator", "invalid escape sequence")


def _error_kind(exc: Exception) -> str:
    """RE2's reason without the part of the pattern it quotes after ``: `` (a pattern
    may hold a secret; the error already names the rule, file and line)."""
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return str(detail).split(":", 1)[0].strip() or "rejected by RE2"


def _python_compiles(pattern: str) -> bool:
    import re

    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def match_width(pattern: str) -> int | None:
    """The most folded characters a match of ``pattern`` can span; ``None`` when
    unbounded or when the pattern uses RE2-only syntax (``\\p{L}``, ``\\z``) that
    Python's parser, which measures it, does not know."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        widest = int(_parser.parse(pattern).getwidth()[1])
    except Exception:
        return None
    return widest if widest < _UNBOUNDED else None


def _refuse_ascii_boundary_next_to_other_letters(pattern: str) -> None:
    """RE2's ``\\b`` only knows ASCII word characters: next to ``п`` it never holds."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def letter(item: Any) -> str | None:
        op, argument = item
        if op is c.LITERAL and not chr(argument).isascii() and chr(argument).isalnum():
            return str(chr(argument))
        return None

    def walk(items: list[Any]) -> None:
        for position, (op, argument) in enumerate(items):
            if op is c.AT and argument in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY):
                neighbours = (
                    items[max(0, position - 1) : position] + items[position + 1 : position + 2]
                )
                found = next((ch for ch in map(letter, neighbours) if ch), None)
                if found is not None:
                    raise ValueError(
                        f"\\b next to the letter '{found}' never matches: RE2's word"
                        " boundaries are ASCII-only; use a keyword rule, or"
                        " (?:^|[^\\p{L}\\p{N}_]) around the word"
                    )
            elif op is c.SUBPATTERN:
                walk(list(argument[-1]))
            elif op is c.BRANCH:
                for branch in argument[1]:
                    walk(list(branch))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                walk(list(argument[2]))

    try:
        parsed = list(_parser.parse(pattern))
    except Exception:
        return  # RE2-only syntax: RE2 itself judges it
    walk(parsed)
