"""The shipped secrets catalogue (``secrets: all`` in a rules entry)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guard import Action, Guard
from guard.checks._secrets import CATALOGUE
from guard.errors import PolicyError

POLICY = """\
name: t
input:
  - check: rules
    rules:
      - {name: secrets, secrets: all, action: redact}
"""

A36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
#: One made-up value per catalogue entry (formats only; none is a real credential).
SAMPLES = {
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "aws-secret-key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "google-api-key": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "gcp-service-account": '{"type": "service_account", "project_id": "x"}',
    "azure-storage-key": "AccountKey=" + "A" * 86 + "==",
    "openai-key": "sk-proj-" + A36,
    "anthropic-key": "sk-ant-api03-" + "x" * 90,
    "huggingface-token": "hf_" + "abcdefghij" * 3 + "abcd",
    "github-token": "ghp_" + A36,
    "github-fine-grained-token": "github_pat_" + "a" * 82,
    "gitlab-token": "glpat-" + "a1b2c3d4e5f6g7h8i9j0",
    "slack-token": "xoxb-1234567890-abcdefghij",
    "slack-webhook": "https://hooks.slack.com/services/T12345678/B12345678/" + "a" * 24,
    "stripe-key": "sk_live_" + "a1b2c3d4e5f6g7h8i9j0k1l2",
    "twilio-key": "SK" + "0123456789abcdef" * 2,
    "sendgrid-key": "SG." + "a" * 22 + "." + "b" * 43,
    "npm-token": "npm_" + A36,
    "pypi-token": "pypi-AgEIcHlwaS5vcmc" + "x" * 60,
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "private-key": "-----BEGIN RSA PRIVATE KEY-----",
    "connection-string-password": "postgres://app:s3cr3t-pass@db.internal:5432/app",
    "credential-assignment": 'password = "correct-horse-battery"',
    "high-entropy": "token 7hQ2vX9kLm4Pz8Rt1Wb6Nc3Yd5Fg0Js2",
}


def test_every_catalogue_entry_has_a_sample() -> None:
    assert set(SAMPLES) == set(CATALOGUE)


@pytest.mark.parametrize(("entry", "value"), sorted(SAMPLES.items()))
def test_each_secret_is_found_and_redacted(
    make_guard: Callable[..., Guard], entry: str, value: str
) -> None:
    g = make_guard(POLICY)
    decision = g.check_input(f"config: {value} end")
    rules = {f.rule for f in decision.findings}
    assert f"secrets.{entry}" in rules
    assert decision.text is not None and value not in decision.text
    assert decision.action is Action.REDACT


def test_clean_text_has_no_findings(make_guard: Callable[..., Guard]) -> None:
    g = make_guard(POLICY)
    text = "The password policy requires 12 characters. See https://example.com/docs?id=42."
    assert not g.check_input(text).findings


def test_a_list_selects_entries_and_unknown_names_are_load_errors(
    make_guard: Callable[..., Guard],
) -> None:
    g = make_guard(POLICY.replace("secrets: all", "secrets: [github-token]"))
    assert g.check_input("ghp_" + A36).action is Action.REDACT
    assert g.check_input("AKIAIOSFODNN7EXAMPLE").action is Action.ALLOW
    with pytest.raises(PolicyError, match="unknown secrets nope"):
        make_guard(POLICY.replace("secrets: all", "secrets: [nope]"))


def test_catalogue_is_streamable(make_guard: Callable[..., Guard]) -> None:
    # Every entry is bounded: a progressive stream needs no max_length.
    make_guard(POLICY.replace("input:", "output:"))
