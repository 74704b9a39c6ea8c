"""The shipped secrets catalogue: ``secrets: all`` (or a list of names) in a rules entry.

Each entry is a regex over folded text (guard.normalize: lower case, look-alikes and
invisible characters folded), so patterns are written in lower case and match
case-insensitively. Every pattern is bounded (no ``+``/``*``), so the stream hold-back
guarantee holds without a ``max_length``. A rules entry ``{name: secrets, secrets:
all, action: redact}`` becomes one regex rule per entry, named ``secrets.<entry>``,
each redacted to ``[<ENTRY>]`` unless the entry sets ``replacement``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise
from typing import Any

#: name -> regex (folded text). Sources: the providers' documented key formats.
CATALOGUE: dict[str, str] = {
    "aws-access-key": r"\b(?:akia|asia|abia|acca)[0-9a-z]{16}\b",
    "aws-secret-key": (
        r"\baws[\w.-]{0,20}(?:secret|private)[\w.-]{0,20}['\"]?\s{0,3}[=:]\s{0,3}['\"]?"
        r"[0-9a-z/+]{40}\b"
    ),
    "google-api-key": r"\baiza[0-9a-z_-]{35}\b",
    "gcp-service-account": r"\"type\"\s{0,3}:\s{0,3}\"service_account\"",
    "azure-storage-key": r"\baccountkey=[0-9a-z+/]{86}==",
    "openai-key": r"\bsk-(?:proj-|svcacct-|admin-)?[0-9a-z_-]{20,200}",
    "anthropic-key": r"\bsk-ant-(?:api|admin)[0-9]{2}-[0-9a-z_-]{80,120}",
    "huggingface-token": r"\bhf_[a-z]{34}\b",
    "github-token": r"\bgh[pousr]_[0-9a-z]{36}\b",
    "github-fine-grained-token": r"\bgithub_pat_[0-9a-z_]{82}\b",
    "gitlab-token": r"\bglpat-[0-9a-z_-]{20}\b",
    "slack-token": r"\bxox[abposr]-[0-9a-z-]{10,100}",
    "slack-webhook": r"hooks\.slack\.com/services/t[0-9a-z]{8,12}/b[0-9a-z]{8,12}/[0-9a-z]{24}",
    "stripe-key": r"\b(?:sk|rk|pk)_(?:live|test)_[0-9a-z]{24,99}\b",
    "twilio-key": r"\bsk[0-9a-f]{32}\b",
    "sendgrid-key": r"\bsg\.[0-9a-z_-]{22}\.[0-9a-z_-]{43}\b",
    "npm-token": r"\bnpm_[0-9a-z]{36}\b",
    "pypi-token": r"\bpypi-ageichlwas5vcmc[0-9a-z_-]{50,200}",
    "jwt": r"\beyj[0-9a-z_-]{8,600}\.eyj[0-9a-z_-]{8,1000}\.[0-9a-z_-]{8,600}",
    "private-key": (
        r"-----begin (?:rsa |ec |dsa |openssh |pgp |encrypted )?private key(?: block)?-----"
    ),
    "connection-string-password": (
        r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|"
        r"sqlserver|jdbc:[a-z]{2,12})://[^\s:/@]{1,64}:[^\s@/]{1,128}@"
    ),
    # Candidates only: a match counts when its entropy is high (see high_entropy below).
    "high-entropy": r"\b[0-9a-z][0-9a-z+/_-]{19,127}={0,2}",
    "credential-assignment": (
        r"\b(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token)['\"]?\s{0,3}"
        r"[=:]\s{0,3}['\"][^'\"\s]{8,128}['\"]"
    ),
}


#: Catalogue entries that are candidates, kept only when :func:`high_entropy` agrees:
#: the share of the most entropy a string of the match's length and alphabet can have.
MIN_ENTROPY = {"high-entropy": 0.75}

_HEX = frozenset("0123456789abcdef")
#: Words just before a hex token that say it is a digest or an id, not a secret.
_HASH_CONTEXT = re.compile(
    r"(?:sha\d*|md5|hash|digest|checksum|commit|revision|\brev|etag|integrity|fingerprint|"
    r"object|blob|tree|\bid|uuid|git|sum)\W{0,3}(?:[\w-]{0,12}\W{1,3}){0,2}$"
)
#: Right before a token: a base64 image or file (data URI), an SSH public key, a
#: ``\u00f6`` escape, an SRI ``sha384-`` hash (part of the token).
_BENIGN_PREFIX = re.compile(r"(?:base64,|ssh-(?:rsa|ed25519|dss) |ecdsa-[\w-]+ |\\)$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SRI = ("sha256-", "sha384-", "sha512-")


def high_entropy(text: str, start: int, end: int, min_share: float) -> bool:
    """Whether ``text[start:end]`` (folded: lower case) looks like a random secret.

    Shannon entropy alone cannot tell a 24-character token from an identifier, so a
    match must also mix letters and digits often (random base64 switches between them
    about every fourth character; ``get_user_balance_v2`` once), and must not be a UUID,
    a hex digest named as such (``sha256:``, ``commit``, ``etag``...), a data URI, an
    SSH public key or a ``\\u00f6`` escape. Calibrated on random base64/hex tokens
    (20 characters: ~80-95 % caught; 32 and longer: over 92 %) against code (0.02 % of
    the lines of the installed Python packages flagged, mostly real random ids).
    """
    token = text[start:end].rstrip("=")
    if token.startswith(_SRI) or _UUID.fullmatch(token):
        return False
    letters = sum(c.isalpha() for c in token)
    if letters == 0 or letters == len(token):
        return False
    switches = sum(
        a.isdigit() != b.isdigit() and (a.isalnum() and b.isalnum()) for a, b in pairwise(token)
    )
    if switches < max(3, len(token) * 0.12):
        return False
    before = text[max(0, start - 40) : start]
    if _BENIGN_PREFIX.search(before):
        return False
    hexadecimal = set(token) <= _HEX
    if hexadecimal and _HASH_CONTEXT.search(before):
        return False
    counts = Counter(token).values()
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts)
    most = math.log2(min(len(token), 16 if hexadecimal else 38))
    return entropy >= min_share * most


def expand(entries: Any) -> Any:
    """Replace each raw rules entry with a ``secrets`` key by one regex rule per
    catalogue entry; other entries pass unchanged (validation happens after)."""
    if not isinstance(entries, list):
        return entries
    out: list[Any] = []
    for entry in entries:
        if not isinstance(entry, dict) or "secrets" not in entry:
            out.append(entry)
            continue
        rule = dict(entry)
        wanted = rule.pop("secrets")
        name = rule.pop("name", "secrets")
        if wanted == "all":
            names = list(CATALOGUE)
        elif isinstance(wanted, list) and wanted and all(isinstance(n, str) for n in wanted):
            unknown = sorted(set(wanted) - set(CATALOGUE))
            if unknown:
                raise ValueError(
                    f"rule '{name}': unknown secrets {', '.join(unknown)}; the catalogue has "
                    f"{', '.join(CATALOGUE)} (or write secrets: all)"
                )
            names = list(dict.fromkeys(wanted))
        else:
            raise ValueError(f"rule '{name}': 'secrets' must be 'all' or a list of catalogue names")
        replacement = rule.pop("replacement", None)
        for secret in names:
            expanded = {
                **rule,
                "name": f"{name}.{secret}",
                "regex": CATALOGUE[secret],
                "replacement": replacement or f"[{secret.upper().replace('-', '_')}]",
            }
            if secret in MIN_ENTROPY:
                expanded.setdefault("min_entropy", MIN_ENTROPY[secret])
            out.append(expanded)
    return out
