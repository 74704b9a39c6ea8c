"""The store cases every contract test runs against.

To add a backend (Redis), add a :class:`StoreCase` to :data:`CASES`: nothing in the
contract suite knows which backend it talks to. Its URL must give each test fresh data
(a Redis case: a key prefix or database per test, flushed after it), and the backend
must take time from the injected clock (see :mod:`guard.stores.base`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from guard.stores import Store, open_store
from tests.redis_server import fresh_url


class FakeClock:
    """A wall clock the test moves by hand, so TTLs expire without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class StoreCase:
    """How to reach one backend and what it promises beyond the common contract."""

    name: str
    #: A URL for a store shared by everything a test opens (same data).
    url: Callable[[Path], str]
    #: Data survives close() and a new store on the same URL (a restart).
    persistent: bool
    #: Several processes on the same URL share the data.
    shared_across_processes: bool


CASES = [
    StoreCase("memory", lambda tmp: "memory://", persistent=False, shared_across_processes=False),
    StoreCase(
        "sqlite",
        lambda tmp: f"sqlite://{tmp / 'state.db'}",
        persistent=True,
        shared_across_processes=True,
    ),
    # A real redis-server (tests/redis_server.py), a key prefix per test.
    StoreCase("redis", lambda tmp: fresh_url(), persistent=True, shared_across_processes=True),
]


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> StoreCase:
    """One backend."""
    param: StoreCase = request.param
    return param


@pytest.fixture
def clock() -> FakeClock:
    """The clock of every store a test opens."""
    return FakeClock()


@pytest.fixture
def store_url(case: StoreCase, tmp_path: Path) -> str:
    """The URL of this test's store."""
    return case.url(tmp_path)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """An open store on the fake clock, closed after the test."""
    opened = open_store(store_url, clock=clock)
    await opened.open()
    yield opened
    await opened.close()


class Api:
    """The store seen through its async methods or its sync facade, with one (async)
    calling convention, so every contract test checks both."""

    def __init__(self, store: Store, mode: str) -> None:
        self.store = store
        self.mode = mode

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if self.mode == "async":
            method: Callable[..., Awaitable[Any]] = getattr(self.store, name)
            return method
        blocking = getattr(self.store.sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return blocking(*args, **kwargs)

        return call


@pytest.fixture(params=["async", "sync"])
def api(store: Store, request: pytest.FixtureRequest) -> Api:
    """The store under test, through one of its two faces."""
    return Api(store, request.param)
