"""High-entropy secrets (``secrets: [high-entropy]``): random tokens found, code left alone."""

from __future__ import annotations

import base64
import random
import string

import pytest

from guard import Action, Guard, Policy
from guard.checks._secrets import high_entropy

POLICY = """\
name: t
input:
  - check: rules
    name: secrets
    rules:
      - {name: secrets, secrets: [high-entropy], action: redact}
"""


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard(Policy.from_yaml(POLICY))


def random_tokens(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    tokens = []
    for number in range(count):
        kind = number % 4
        if kind == 0:
            tokens.append(base64.b64encode(rnd.randbytes(rnd.randint(24, 48))).decode())
        elif kind == 1:
            tokens.append(base64.urlsafe_b64encode(rnd.randbytes(24)).decode().rstrip("="))
        elif kind == 2:
            tokens.append(rnd.randbytes(rnd.randint(16, 32)).hex())
        else:
            alphabet = string.ascii_letters + string.digits
            tokens.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(32, 48))))
    return tokens


def test_random_tokens_of_32_characters_and_more_are_found(guard: Guard) -> None:
    tokens = random_tokens(400, seed=7)
    found = sum(
        any(f.rule == "secrets.high-entropy" for f in guard.check_input(f"key: {t}").findings)
        for t in tokens
    )
    assert found / len(tokens) >= 0.9, found


def test_a_found_token_is_redacted_whole(guard: Guard) -> None:
    decision = guard.check_input("export API_TOKEN=Zk3pQ9xW2mV7nB4cR8tY1uH6jL0aS5dF")
    assert decision.action is Action.REDACT
    assert decision.text == "export API_TOKEN=[HIGH_ENTROPY]"


#: Code-like benign text: identifiers, paths, URLs, versions, digests and ids in their
#: usual contexts. None of it may be flagged.
BENIGN = [
    "def get_user_account_balance_v2(session_id: int) -> Decimal:",
    "from guard.proxy.reload import PolicyReloader, ReloadSource",
    "/usr/local/lib/python3.11/site-packages/uvicorn/supervisors/multiprocess.py",
    "https://github.com/example/project/blob/main/docs/getting-started.md#install",
    "commit 3f9a1c2e4b5d6f7a8b9c0d1e2f3a4b5c6d7e8f90",
    "Merge pull request #1234 from feature/add-retry-backoff-2024",
    "sha256:9b2d8f7c6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c",
    "image: registry.example.com/team/service@sha256:4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4",
    'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"',
    "request_id=550e8400-e29b-41d4-a716-446655440000 status=200 duration_ms=12",
    "ETag: 5d41402abc4b2a76b9719d911017c592",
    "md5sum: d41d8cd98f00b204e9800998ecf8427e  empty.txt",
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">',
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
    "x86_64-linux-gnu/libssl.so.3 and aarch64-apple-darwin23.4.0",
    "test_policy_reload_under_load_with_two_workers_and_sighup",
    "2026-11-25T20:11:34.123456Z INFO guardwire.proxy: policies reloaded",
    "version = 'v1.2.3-rc.4+build.20241125'",
    "SELECT user_id, created_at FROM accounts WHERE tenant_id = 42 ORDER BY id",
    "const internationalizationConfiguration = loadLocaleSettings('de_DE');",
    "background: linear-gradient(90deg, #1a2b3c 0%, #4d5e6f 100%);",
    "\\u00f6rfelden-walldorf and \\u00d6stringen-odenheim",
    "node_modules/@types/react-dom/server.browser.d.ts",
    "my-service-account-2024-prod@project-id-123456.iam.gserviceaccount.com",
    "s3://analytics-bucket-eu-west-1/exports/2024/11/25/part-00001.parquet",
    "git checkout -b fix/issue-22-policies-as-code-hot-reload",
    "revision: a3c9e0f1b2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1",
    "objectId=64b7f3c2a9e1d8f4b6a2c0e9",
    "the quick brown fox jumps over the lazy dog 1234567890 times",
    "AbstractSingletonProxyFactoryBean2 extends BeanFactoryPostProcessor3",
]


@pytest.mark.parametrize("line", BENIGN)
def test_code_like_benign_text_is_not_flagged(guard: Guard, line: str) -> None:
    assert guard.check_input(line).findings == [], line


def test_the_threshold_is_a_share_of_the_most_entropy() -> None:
    token = "zk3pq9xw2mv7nb4cr8ty1uh6jl0as5dfzk3p"  # 36 characters, 32 distinct
    assert high_entropy(token, 0, len(token), 0.75)
    assert not high_entropy(token, 0, len(token), 1.0)


def test_a_rule_can_set_its_own_threshold() -> None:
    policy = POLICY.replace("action: redact}", "action: redact, min_entropy: 0.99}")
    strict = Guard(Policy.from_yaml(policy))
    assert not strict.check_input("Zk3pQ9xW2mV7nB4cR8tY1uH6jL0aS5dFzk3p").findings
    assert strict.check_input("Zk3pQ9xW2mV7nB4cR8tY1uH6jL0aS5dF").findings  # all distinct


def test_min_entropy_is_bounded() -> None:
    from guard.errors import PolicyError

    with pytest.raises(PolicyError, match="min_entropy"):
        Policy.from_yaml(POLICY.replace("action: redact}", "action: redact, min_entropy: 2}"))


@pytest.mark.parametrize("size", [1, 3, 5, 16])
def test_streamed_replies_redact_the_same_token(size: int) -> None:
    from guard.engine import text_call

    guard = Guard(Policy.from_yaml(POLICY.replace("input:", "output:")))
    text = "here: Zk3pQ9xW2mV7nB4cR8tY1uH6jL0aS5dF and get_user_account_balance_v2 after."
    whole = guard.check_output(text).text
    session = guard.stream(text_call("q"))
    released = [session.feed("t", text[i : i + size]) for i in range(0, len(text), size)]
    released.append(session.flush("t"))
    session.close()
    assert whole == "".join(released)
    assert whole == "here: [HIGH_ENTROPY] and get_user_account_balance_v2 after."
