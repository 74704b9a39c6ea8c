"""Stop and ask: a tool call that needs approval is refused with an id; after
``guardwire approve ID`` the same call passes once; other arguments ask again; an id
nobody decides expires at its TTL."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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


def test_pending_approvals_are_listed_with_names_and_hashes_only(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(f"sqlite://{tmp_path / 'state.db'}", clock=clock)
    rules = {"approval": [{"tools": ["send_email"], "ttl": 900}, {"tools": ["pay"], "ttl": 60}]}
    built = engine(store, clock, **rules)
    offered = [{"type": "function", "function": {"name": "send_email", "parameters": {}}}]
    email = ("send_email", {"to": "boss@example.com", "body": "quarterly numbers"})
    first = approval_id(run_call(built, chat("mail-1", tools=offered), email))
    clock.advance(5)
    second = approval_id(run_call(built, chat("mail-2", tenant="other"), ("pay", {"amount": 9})))
    listed = asyncio.run(approvals.pending(store))
    assert [p.id for p in listed] == [first, second]  # oldest first
    one = listed[0]
    assert (one.tool, one.tenant) == ("send_email", "acme")
    assert (one.created, one.expires) == (clock.now - 5, clock.now - 5 + 900)
    assert one.session.startswith("sha256:") and one.arguments_hash.startswith("sha256:")
    # The audit line's finding names the same tool call with the same hashes.
    finding = agent_verdict(run_call(built, chat("mail-1", tools=offered), email)).findings[0]
    assert (finding.tool, finding.arguments_hash) == ("send_email", one.arguments_hash)
    assert "boss" not in str([p.as_record() for p in listed])
    # The store holds names and hashes for the listing: never arguments or session ids.
    dump = "\n".join(sqlite3.connect(tmp_path / "state.db").iterdump())
    for text in ("boss", "quarterly", "mail-1", "mail-2", '"amount"'):
        assert text not in dump
    clock.advance(60)  # the pay approval expired: not listed
    assert [p.id for p in asyncio.run(approvals.pending(store))] == [first]
    decided = asyncio.run(approvals.decide(store, first, approve=False))
    assert decided is not None and decided.about.tool == "send_email"
    assert asyncio.run(approvals.pending(store)) == []
    asyncio.run(store.close())


def test_cli_lists_pending_approvals_and_audits_its_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'state.db'}"
    audit = tmp_path / "audit.jsonl"
    config = tmp_path / "guardwire.yaml"
    config.write_text(f"store: '{url}'\naudit_log: '{audit}'\n")
    store = open_store(url)
    ident = approval_id(
        run_call(engine(store, **APPROVAL), chat(), ("payments_send", {"iban": "DE89"}))
    )
    asyncio.run(store.close())
    capsys.readouterr()
    assert main(["approve", "--list", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert ident in table and "payments_send" in table and "DE89" not in table
    assert main(["approve", "--list", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["approvals"][0]["id"] == ident
    assert main(["approve", ident, "--deny", "--config", str(config)]) == 0
    (line,) = [json.loads(x) for x in audit.read_text().splitlines()]
    assert line["event"] == "approval" and line["decision"] == "deny"
    assert line["approval_id"] == ident and line["arguments_hash"].startswith("sha256:")
    assert "dropped" not in line and "DE89" not in audit.read_text()
    assert main(["approve", "--list", "--config", str(config)]) == 0
    assert "no pending approvals" in capsys.readouterr().out
    assert main(["approve", "--config", str(config)]) == 2  # neither an id nor --list


def test_pending_approvals_are_listed_from_redis_too() -> None:
    from tests.redis_server import fresh_url

    clock, url = FakeClock(), fresh_url()
    built = engine(
        open_store(url, clock=clock), clock, approval=[{"tools": ["send_email"], "ttl": 60}]
    )
    ident = approval_id(run_call(built, chat(), ("send_email", {"to": "boss@example.com"})))

    async def listing() -> list[approvals.Pending]:
        store = open_store(url, clock=clock)  # another process's view, as the CLI's
        await store.open()
        try:
            return await approvals.pending(store)
        finally:
            await store.close()

    (listed,) = asyncio.run(listing())
    assert (listed.id, listed.tool, listed.expires) == (ident, "send_email", clock.now + 60)
    clock.advance(60)
    assert asyncio.run(listing()) == []


def test_a_decision_knows_the_entry_that_asked_also_for_records_without_it() -> None:
    store = MemoryStore(FakeClock())

    async def decided(about: approvals.About | None, written: str | None) -> approvals.About:
        await store.open()
        approval = await approvals.ask(store, "p", "d" * 8, 60, about or approvals.About())
        if written is not None:  # a record of an older version: tool|hash|session
            await store.take(f"approval:{approval}:about")
            await store.set_if_absent(f"approval:{approval}:about", written, 60)
        result = await approvals.decide(store, approval, True)
        assert result is not None
        return result.about

    named = approvals.About("send_email", "sha256:ab", "sha256:cd", "team", "mail-agent")
    assert asyncio.run(decided(named, None)) == named
    old = asyncio.run(decided(None, "send_email|sha256:ab|sha256:cd"))
    assert (old.tool, old.check) == ("send_email", "agent")
