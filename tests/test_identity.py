"""Identity: the principal from authentication, client assertions only below it."""

from __future__ import annotations

import hashlib

import pytest

from guard.errors import RequestError
from guard.identity import ANONYMOUS, KEY_ID_LENGTH, Principal, bind_caller, nested_tenant
from guard.types import Caller

TEAM_A = Principal.from_digest(hashlib.sha256(b"team-a-key").hexdigest(), "team-a")


def test_principal_keeps_a_short_digest_prefix_never_the_key() -> None:
    digest = hashlib.sha256(b"team-a-key").hexdigest()
    assert TEAM_A.key_id == digest[:KEY_ID_LENGTH] and TEAM_A.authenticated
    assert "team-a-key" not in repr(TEAM_A)
    assert not ANONYMOUS.authenticated


@pytest.mark.parametrize(
    ("principal", "asserted", "tenant"),
    [
        (TEAM_A, None, "team-a"),
        (TEAM_A, "sub", "team-a/sub"),
        (TEAM_A, "team-b", "team-a/team-b"),  # nested, never a replacement
        (ANONYMOUS, "sub", "sub"),  # no keys: nothing above the assertion
        (ANONYMOUS, None, None),
    ],
)
def test_asserted_tenant_is_nested_below_the_principal(
    principal: Principal, asserted: str | None, tenant: str | None
) -> None:
    assert nested_tenant(principal, asserted) == tenant


@pytest.mark.parametrize("asserted", ["../team-b", "/team-b", "", "a/b", "x" * 65, "é"])
def test_asserted_tenant_cannot_escape_its_level(asserted: str) -> None:
    with pytest.raises(RequestError) as caught:
        nested_tenant(TEAM_A, asserted)
    assert caught.value.status == 400
    assert not asserted or asserted not in str(caught.value)


def test_bound_caller_carries_key_id_tenant_and_session() -> None:
    caller = bind_caller(TEAM_A, Caller(key_id="forged", tenant="sub", session="s" * 500))
    assert caller.key_id == TEAM_A.key_id  # a client cannot assert a key id
    assert caller.tenant == "team-a/sub"
    assert caller.session == "s" * 128
