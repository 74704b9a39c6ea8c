"""Per-process budget leases (guard/checks/_budget_leases.py): the ceiling stays exact
with several processes leasing from one store, spend reaches the store on every flush
and at shutdown, idle room goes back, and near the limit calls reserve exactly."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from guard.checks import _budget_demand as demand
from guard.checks import _budget_leases as leases
from guard.checks._budget_leases import Carved, LeaseBook
from guard.stores import Reservation, Store, StoreError, open_store

KEY = "gw:budget:b:-:all:usd"
LIMIT = 100_000
HOLD = 900.0


@pytest.fixture(autouse=True)
def steady_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's demand is remembered for the whole test (not 0.1 s of a loaded machine's
    time): a key made busy keeps leasing."""
    monkeypatch.setattr(demand, "DEMAND_SECONDS", 60.0)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    url = "memory://" if request.param == "memory" else f"sqlite://{tmp_path / 'state.db'}"
    opened = open_store(url)
    await opened.open()
    return opened


async def _busy(book: LeaseBook, key: str = KEY, room: int = 16_000) -> None:
    """Make ``key`` busy: it asked for ``room`` (one exact reservation, given back), so
    its next calls lease about as much room again (16 calls of 100, or the share cap)."""
    first = await book.reserve(key, room, LIMIT, None, HOLD)
    assert isinstance(first, Reservation)
    await book.store.release(first)


async def _settle(book: LeaseBook, store: Store, held: Carved | Reservation, actual: int) -> None:
    if isinstance(held, Carved):
        await book.settle(held, actual)
    else:
        await store.settle(held, actual)


async def test_calls_carve_from_one_lease_without_store_writes(store: Store) -> None:
    book = LeaseBook(store)
    await _busy(book)
    first = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(first, Carved)
    # The store holds the lease (16 calls' room), not the call.
    assert await store.reserved(KEY) == 100 * leases.LEASE_CALLS
    for _ in range(leases.LEASE_CALLS - 1):
        assert isinstance(await book.reserve(KEY, 100, LIMIT, None, HOLD), Carved)
    assert await store.reserved(KEY) == 100 * leases.LEASE_CALLS  # no new lease yet
    await book.settle(first, 60)
    assert await store.get(KEY) == 0  # written at the next flush
    await book.flush()
    assert await store.get(KEY) == 60
    await book.close()


async def test_a_lease_is_capped_at_a_share_of_the_limit(store: Store) -> None:
    book = LeaseBook(store)
    await _busy(book)
    held = await book.reserve(KEY, 1_000, LIMIT, None, HOLD)
    assert isinstance(held, Carved)
    assert await store.reserved(KEY) == LIMIT // leases.LEASE_SHARE
    # A call bigger than the share reserves exactly, in the store.
    exact = await book.reserve(KEY, LIMIT // 4, LIMIT, None, HOLD)
    assert isinstance(exact, Reservation) and exact.amount == LIMIT // 4
    await book.close()


async def test_close_writes_the_spend_and_gives_back_every_unused_room(store: Store) -> None:
    book = LeaseBook(store)
    await _busy(book)
    held = [await book.reserve(KEY, 100, LIMIT, None, HOLD) for _ in range(5)]
    for number, one in enumerate(held):
        assert isinstance(one, Carved)
        await book.settle(one, 10 * number)
    await book.close()
    assert await store.get(KEY) == 100 and await store.reserved(KEY) == 0
    # After close a book reserves exactly (a call that outlived the shutdown).
    late = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(late, Reservation)


async def test_an_idle_lease_gives_its_room_back_at_the_next_flush(store: Store) -> None:
    book = LeaseBook(store)
    await _busy(book)
    running = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(running, Carved)
    await book.flush()  # carved since the last flush: still lending
    assert await store.reserved(KEY) == 100 * leases.LEASE_CALLS
    await book.flush()  # idle: only the running call's room stays held
    assert await store.reserved(KEY) == 100
    await book.settle(running, 70)
    await book.flush()
    assert await store.get(KEY) == 70 and await store.reserved(KEY) == 0
    await book.close()


async def test_near_the_limit_a_book_gives_back_its_room_and_reserves_exactly(
    store: Store,
) -> None:
    # Another process spent most of the budget: no lease of 16 calls fits any more.
    await store.incr(KEY, LIMIT - 1_000)
    book = LeaseBook(store)
    granted: list[Carved | Reservation] = []
    while (held := await book.reserve(KEY, 100, LIMIT, None, HOLD)) is not None:
        granted.append(held)
    # Every unit of the limit was usable: leases never strand room a call needs.
    assert len(granted) == 10
    assert await store.reserved(KEY) == 1_000
    for held in granted:
        await _settle(book, store, held, 100)
    await book.close()
    assert await store.get(KEY) == LIMIT and await store.reserved(KEY) == 0


async def test_the_ceiling_holds_with_two_processes_leasing_concurrently(
    store: Store,
) -> None:
    """Property: two books (two worker processes) serve random calls concurrently; the
    store's counter plus holds never passes the limit, nothing dangles at the end, and
    the written spend is exactly what the granted calls used."""
    rng = random.Random(18)
    books = [LeaseBook(store), LeaseBook(store)]
    spent = granted = live = 0
    peaks: list[int] = []
    promised: list[int] = []  # spent + every granted call's room: what the books promised

    async def one_call(number: int) -> None:
        nonlocal spent, granted, live
        book = books[number % 2]
        amount = rng.randint(50, 2_000)
        held = await book.reserve(KEY, amount, LIMIT, None, HOLD)
        peaks.append(await store.get(KEY) + await store.reserved(KEY))
        if held is None:
            return
        granted += amount
        live += amount
        promised.append(spent + live)
        await asyncio.sleep(rng.random() * 0.01)
        live -= amount
        if number % 7 == 0:
            release = book.release if isinstance(held, Carved) else None
            if release is not None:
                release(held)  # type: ignore[arg-type]
            else:
                await store.release(held)  # type: ignore[arg-type]
            return
        actual = rng.randint(0, amount)
        spent += actual
        await _settle(book, store, held, actual)
        if number % 5 == 0:
            await book.flush()

    await asyncio.gather(*(one_call(n) for n in range(400)))
    for book in books:
        await book.close()
    assert max(peaks) <= LIMIT and max(promised) <= LIMIT
    assert await store.reserved(KEY) == 0
    assert await store.get(KEY) == spent
    # The budget was really lent out, not refused away by room stranded in leases.
    assert granted > LIMIT * 3 // 4


async def test_a_failed_flush_keeps_the_spend_for_the_next_one(store: Store) -> None:
    book = LeaseBook(store)
    await _busy(book)
    held = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(held, Carved)
    await book.settle(held, 40)
    await store.close()
    with pytest.raises(StoreError):
        await book.flush()
    await store.open()
    await book.flush()
    assert await store.get(KEY) == 40
    await book.close()
    assert await store.get(KEY) == 40 and await store.reserved(KEY) == 0


async def test_the_budgets_cli_shows_leased_room_as_reserved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from prometheus_client import CollectorRegistry

    import guard
    from guard.cli import main
    from guard.policy import Policy
    from tests.checks.test_budget import chat, reply_for

    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(
        "name: p\nbudgets:\n  - {name: team-daily, scope: tenant, window: day, limit_usd: 1.0}\n"
    )
    url = f"sqlite://{tmp_path / 'state.db'}"
    config = tmp_path / "guardwire.yaml"
    config.write_text(
        f"policy: {policy_path}\nstore: {url}\nkeys:\n  - {{key: sk-a, tenant: team-a}}\n"
    )
    monkeypatch.delenv("GUARDWIRE_CONFIG", raising=False)
    store = open_store(url)
    await store.open()
    leases.enable_leases(store)  # as the proxy does
    engine = guard.Guard(Policy.load(policy_path), store=store, registry=CollectorRegistry())
    for _ in range(2):  # the first call in a while reserves exactly, the second leases
        call = chat(tenant="team-a", max_tokens=100)
        lifecycle = engine.open(call, frontend="check")
        sent = await lifecycle.astart()
        assert sent is not None
        await lifecycle.adeliver(reply_for(sent, 100))
        await lifecycle.afinish()

    def usd_row() -> dict[str, float]:
        assert main(["budgets", "--config", str(config), "--json", "show", "team-daily"]) == 0
        rows = json.loads(capsys.readouterr().out)["budgets"]
        row: dict[str, float] = next(
            r for r in rows if r["unit"] == "usd" and r["value"] == "team-a"
        )
        return row

    running = usd_row()
    assert running["reserved"] > 0  # the worker's lease: room nobody else may take
    assert running["remaining"] == pytest.approx(1.0 - running["spent"] - running["reserved"])
    await leases.close_leases(store)  # shutdown
    stopped = usd_row()
    assert stopped["reserved"] == 0
    assert stopped["spent"] == pytest.approx(2 * (10 * 150 + 100 * 600) / 1e9)
    await store.close()


async def test_a_store_outage_reaches_calls_once_their_lease_runs_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Room already leased was granted by the store, so calls may use it during an
    outage (the ceiling holds); after LEASE_SECONDS no lease lends and the outage is the
    check's error again (on_error decides)."""
    now = [1_000.0]
    monkeypatch.setattr(leases.time, "monotonic", lambda: now[0])
    book = LeaseBook(store)
    await _busy(book)
    assert isinstance(await book.reserve(KEY, 100, LIMIT, None, HOLD), Carved)
    await store.close()
    assert isinstance(await book.reserve(KEY, 100, LIMIT, None, HOLD), Carved)
    now[0] += leases.LEASE_SECONDS
    with pytest.raises(StoreError):
        await book.reserve(KEY, 100, LIMIT, None, HOLD)


async def test_the_proxy_state_leases_on_shared_stores_and_writes_them_at_shutdown(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    from guard.proxy.state import ProxyState

    url = f"sqlite://{tmp_path / 'state.db'}"
    state = ProxyState(url)
    state.use(SimpleNamespace(needs_state=True, policy=SimpleNamespace(budgets=[])))
    await state.open()
    book = leases.leases_for(state.store)
    assert book is not None
    await _busy(book)
    held = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(held, Carved)
    await book.settle(held, 55)
    await state.close()  # at once: before any periodic flush
    after = open_store(url)
    await after.open()
    assert await after.get(KEY) == 55 and await after.reserved(KEY) == 0
    await after.close()
    memory = ProxyState("memory://")
    memory.use(SimpleNamespace(needs_state=True, policy=SimpleNamespace(budgets=[])))
    await memory.open()
    assert leases.leases_for(memory.store) is None  # nothing to save in memory
    await memory.close()


async def test_leases_follow_the_keys_demand(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key's first call in a while reserves exactly (a session with one call would pay
    three store writes for a lease); calls soon after lease room for about as many calls
    as the key asked for (a burst: as many again); a key steady at N calls per interval
    leases the room of the N calls still to come, so a killed worker's lease holds
    little that no call carries."""
    now = [1_000.0]
    monkeypatch.setattr(leases.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(demand, "DEMAND_SECONDS", 0.1)
    book = LeaseBook(store)
    first = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(first, Reservation)
    await store.settle(first, 50)
    assert isinstance(await book.reserve(KEY, 100, LIMIT, None, HOLD), Carved)
    assert await store.reserved(KEY) == 200  # two calls asked: room for two
    other = "gw:budget:b:session-2:all:usd"
    for _ in range(2):
        exact = await book.reserve(other, 100, LIMIT, None, HOLD)
        assert isinstance(exact, Reservation)
        await store.release(exact)
        now[0] += 2 * demand.DEMAND_SECONDS  # an interval with no call: forgotten
    await book.close()
    # Steady: five calls an interval; then the next interval's first call leases five.
    steady = LeaseBook(store)
    for _ in range(5):
        held = await steady.reserve(other, 100, LIMIT, None, HOLD)
        assert held is not None
    now[0] += demand.DEMAND_SECONDS
    await steady.flush()
    await steady._give_back(other)  # its leases stop lending: the next call takes one
    before = await store.reserved(other)
    assert before == 500  # the five calls running
    assert isinstance(await steady.reserve(other, 100, LIMIT, None, HOLD), Carved)
    assert await store.reserved(other) - before == 500
    await steady.close()


async def test_a_failed_background_write_is_counted_and_said_once(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "FLUSH_SECONDS", 0.01)
    book = LeaseBook(store)
    errors: list[str] = []
    book.on_store_error = lambda: errors.append("store")
    await _busy(book)
    held = await book.reserve(KEY, 100, LIMIT, None, HOLD)
    assert isinstance(held, Carved)
    await book.settle(held, 30)
    await store.close()
    await asyncio.sleep(0.1)  # about ten flushes, all failing
    assert len(errors) >= 3
    said = [r for r in caplog.records if "budget spend not written" in r.getMessage()]
    assert len(said) == 1
    await store.open()
    await book.close()
    assert await store.get(KEY) == 30
