"""Does a negation on one side deny what the other side states?

A claim and its best sentence disagree on negation when one negates and the other does
not. That alone flags many faithful answers: a passage sentence may negate in a clause
the claim does not repeat ("Winter is the coldest season (it does not occur in the
tropics)"), a dialogue answer may open with "no, but ...". The negation counts only when
what it negates — the first content words after it — is stated on the other side:
"The museum is not open on Mondays" against "The museum is open on Mondays".

Only asked when the two sides disagree (the scorer's slow path).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from guard.grounding.text import NEGATIONS, term

#: Content words after a negation that make up what it negates.
SCOPE = 3
#: Words read past a negation while looking for them.
_REACH = 6
#: Words that open a new clause: a negation closing its clause ("water is allowed, but
#: coffee and tea are not") negates what stands between them and it.
_CLAUSE_OPENERS = frozenset("but while whereas although though yet".split())


def negated_terms(sentence: Sequence[str]) -> list[str]:
    """The stems a sentence's negations apply to: up to :data:`SCOPE` content stems
    within :data:`_REACH` words after each negation."""
    out: list[str] = []
    for at, word in enumerate(sentence):
        if word in NEGATIONS or word.endswith("n't"):
            found = 0
            for after in sentence[at + 1 : at + 1 + _REACH]:
                stem = term(after)
                if stem:
                    out.append(stem)
                    found += 1
                    if found == SCOPE:
                        break
            if not found:
                # Nothing follows it: the predicate is elided, the clause's subject is
                # what it denies.
                for before in reversed(sentence[max(at - _REACH, 0) : at]):
                    if before in _CLAUSE_OPENERS:
                        break
                    stem = term(before)
                    if stem:
                        out.append(stem)
    return out


def denies(negating: Sequence[str], other_terms: Collection[str]) -> bool:
    """Whether the negations of the word list ``negating`` apply to something the other
    side states (one of ``other_terms``, its content stems)."""
    return any(stem in other_terms for stem in negated_terms(negating))
