"""Stop and ask: a tool call that needs approval is refused with an id; after
``guardwire approve ID`` the same call passes once; other arguments ask again; an id
nobody decides expires at its TTL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from guard.checks import _agent_approvals as approvals
from guard.cli import main
from guard.stores import MemoryStore, open_store
from guard.types import Action
from tests.checks.test_agent import agent_verdict, chat, engine, kinds, run_call
from tests.stores.conftest import FakeClock

APPROVAL = {"approval": [{"tools": ["send_email", "payments_*"], "ttl": 900}]}


def approval_id(decision: object) -> str:
    verdict = agent_verdict(decision)
    assert (verdict.status, verdict.code) == (403, "approval_required")
    found = re.search(r"approval id ([0-9a-f]{16})", verdict.reason)
    assert found is not None, verdict.reason
    return found.group(1)


def test_approved_call_passes_once_and_other_arguments_ask_again(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'state.db'}"
    config = tmp_path / "guardwire.yaml"
    config.write_text(f"store: '{url}'\n")
    store = open_store(url)
    built = engine(store, **APPROVAL)
    email = ("send_email", {"to": "boss@example.com", "body": "quarterly numbers"})

    refused = run_call(built, chat(), email)
    assert refused.action is Action.BLOCK and kinds(refused) == ["agent.approval_required"]
    ident = approval_id(refused)
    assert "boss" not in agent_verdict(refused).reason
    assert approval_id(run_call(built, chat(), email)) == ident  # pending: the same id

    assert main(["approve", ident, "--config", str(config)]) == 0
    assert main(["approve", ident, "--config", str(config)]) == 1  # decided already

    assert run_call(built, chat(), email).action is Action.ALLOW  # once
    assert kinds(run_call(built, chat(), email)) == ["agent.approval_required"]
    other = ("send_email", {"to": "boss@example.com", "body": "something else"})
    assert kinds(run_call(built, chat(), other)) == ["agent.approval_required"]
    # Another session does not get this session's approval.
    assert kinds(run_call(built, chat("s2"), email)) == ["agent.approval_required"]
    asyncio.run(store.close())


def test_denied_id_keeps_the_call_refused_with_a_new_id() -> None:
    store = MemoryStore()
    built = engine(store, **APPROVAL)
    first = approval_id(run_call(built, chat(), ("payments_send", {"amount": 5})))
    assert asyncio.run(approvals.decide(store, first, approve=False))
    second = approval_id(run_call(built, chat(), ("payments_send", {"amount": 5})))
    assert second != first


def test_an_undecided_id_expires_at_its_ttl() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    built = engine(store, clock, approval=[{"tools": ["send_email"], "ttl": 60}])
    ident = approval_id(run_call(built, chat(), ("send_email", {})))
    clock.advance(61)
    assert not asyncio.run(approvals.decide(store, ident, approve=True))


def test_without_a_session_an_approval_cannot_be_given() -> None:
    decision = run_call(engine(**APPROVAL), chat(None), ("send_email", {}))
    assert kinds(decision) == ["agent.approval_required"]
    assert "x-guardwire-session" in agent_verdict(decision).reason


@pytest.mark.parametrize("bad", ["", "../../x", "A" * 16, "0" * 200])
def test_decide_refuses_ids_of_another_shape(bad: str) -> None:
    assert not asyncio.run(approvals.decide(MemoryStore(), bad, approve=True))
