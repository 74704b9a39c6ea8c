"""The shipped secrets catalogue: ``secrets: all`` (or a list of names) in a rules entry.

Each entry is a regex over folded text (guard.normalize: lower case, look-alikes and
invisible characters folded), so patterns are written in lower case and match
case-insensitively. Every pattern is bounded (no ``+``/``*``), so the stream hold-back
guarantee holds without a ``max_length``. A rules entry ``{name: secrets, secrets:
all, action: redact}`` becomes one regex rule per entry, named ``secrets.<entry>``,
each redacted to ``[<ENTRY>]`` unless the entry sets ``replacement``.
"""

from __future__ import annotations

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
    "credential-assignment": (
        r"\b(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token)['\"]?\s{0,3}"
        r"[=:]\s{0,3}['\"][^'\"\s]{8,128}['\"]"
    ),
}


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
            out.append(
                {
                    **rule,
                    "name": f"{name}.{secret}",
                    "regex": CATALOGUE[secret],
                    "replacement": replacement or f"[{secret.upper().replace('-', '_')}]",
                }
            )
    return out
