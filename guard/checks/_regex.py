"""User regexes on RE2, a linear-time engine, and how wide their matches can be.

Python's ``re`` backtracks: ``(\\w+\\s?)+:\\s*secret`` on 25 characters took 2.7 s on
the event loop (core-review D13). RE2 runs any pattern it accepts in time linear in the
text, and refuses what it cannot run that way (look-around, back-references), which
then is a policy load error rather than a slow request.

RE2 differences a rule author meets: ``\\w \\d \\b`` are ASCII-only (folded text is
mostly ASCII: look-alikes and full-width letters are folded; use ``\\p{L}`` for other
scripts), ``\\Z`` is spelled ``\\z``, counted repetition stops at 1000. Matching is
case-insensitive, on folded (lower-case) text.
"""

from __future__ import annotations

from typing import Any

import re2

#: Match widths at or above this count as unbounded (``+``, ``*``, ``{n,}``).
_UNBOUNDED = 1 << 20


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    # Compile errors are reported as a policy error; do not also print them to stderr.
    options.log_errors = False
    return options


_OPTIONS = _options()


def compile_regex(pattern: str) -> Any:
    """Compile a rule's regex with RE2 (case-insensitive).

    Raises ``ValueError`` with a one-sentence reason when RE2 cannot run the pattern.
    """
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
    if _python_compiles(pattern):
        raise ValueError(
            f"regex uses syntax the linear-time engine RE2 cannot run ({detail}):"
            " look-around and back-references are not supported; rewrite the pattern"
            " without them"
        )
    raise ValueError(f"regex does not compile ({detail})")


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
