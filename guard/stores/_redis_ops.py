"""The Redis store's operations as script calls: argument checks, key layout, results.

Each method returns ``(script name, keys, args, convert)``; the async and the sync face
of :mod:`guard.stores.redis` run it on their own connections.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from guard.stores import _redis_lua as lua
from guard.stores.base import (
    REPLAY_SECONDS,
    Clock,
    Reservation,
    Scalar,
    StoredValue,
    StoreError,
    check_amounts,
    check_item,
    check_key,
    check_scan,
    check_settle,
)

Spec = tuple[str, list[str], list[Any], Any]


def split_url(url: str) -> tuple[str, str]:
    """The connection URL without guardwire's ``prefix`` option, and the prefix."""
    parts = urlsplit(url)
    options = parse_qsl(parts.query)
    prefix = next((v for k, v in options if k == "prefix"), "guardwire:")
    query = urlencode([(k, v) for k, v in options if k != "prefix"])
    return urlunsplit(parts._replace(query=query)), prefix


def _typed(value: Scalar) -> str:
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, float):
        return f"f:{value!r}"
    return f"s:{value}"


def _untyped(stored: bytes | str) -> Scalar:
    text = stored.decode() if isinstance(stored, bytes) else stored
    kind, value = text[:2], text[2:]
    if kind == "i:":
        return int(value)
    if kind == "f:":
        return float(value)
    return value


def _ttl(ttl: float | None) -> str:
    return "" if ttl is None else repr(float(ttl))


class Operations:
    """Argument checks and key layout shared by both faces; ``run`` executes a script."""

    def __init__(self, prefix: str, clock: Clock) -> None:
        self.prefix = prefix
        self.clock = clock
        self.opened = False

    def k(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    def require_open(self) -> None:
        if not self.opened:
            raise StoreError("the redis state store is not open; open it at start-up")

    # Each returns (script name, keys, args, how to convert the result).
    def incr(self, key: str, amount: int, ttl: float | None) -> Spec:
        check_key(key)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError("a store amount must be an integer")
        check_amounts(0, ttl)
        return "incr", [self.k("c", key)], [self.clock(), amount, _ttl(ttl)], int

    def get(self, key: str) -> Spec:
        check_key(key)
        return "get", [self.k("c", key), self.k("h", key)], [self.clock()], int

    def reserved(self, key: str) -> Spec:
        check_key(key)
        return "reserved", [self.k("h", key), self.k("c", key)], [self.clock()], int

    def reserve(self, key: str, amount: int, limit: int, ttl: float | None, hold: float) -> Spec:
        check_key(key)
        check_amounts(amount, ttl, hold)

        def made(result: Any) -> Reservation | None:
            if not result:
                return None
            ident, expires = (x.decode() if isinstance(x, bytes) else x for x in result)
            return Reservation(key, ident, amount, float(expires), ttl)

        keys = [self.k("c", key), self.k("h", key), self.prefix + "ids"]
        args = [self.clock(), amount, limit, repr(float(hold)), _ttl(ttl)]
        return "reserve", keys, args, made

    def settle(
        self, reservation: Reservation, actual: int, keep: int = 0, spent_total: int | None = None
    ) -> Spec:
        check_settle(actual, keep, spent_total)
        key = reservation.key
        keys = [self.k("c", key), self.k("h", key)]
        args = [self.clock(), reservation.id, actual, _ttl(reservation.ttl), keep]
        if spent_total is None:
            args += [reservation.expires_at, reservation.amount]
            return "settle", keys, args, int
        keys.append(self.k("s", key))
        args += [spent_total, reservation.expires_at, REPLAY_SECONDS, reservation.amount]
        return "settle_total", keys, args, int

    def release(self, reservation: Reservation) -> Spec:
        return "release", [self.k("h", reservation.key)], [reservation.id], lambda _: None

    def set_if_absent(self, key: str, value: Scalar, ttl: float | None) -> Spec:
        check_key(key)
        check_item(value)
        check_amounts(0, ttl)
        args = [self.clock(), _typed(value), _ttl(ttl)]
        return "set_if_absent", [self.k("v", key)], args, _untyped

    def take(self, key: str) -> Spec:
        check_key(key)
        return "take", [self.k("v", key)], [self.clock()], lambda r: _untyped(r) if r else None

    def push_recent(self, key: str, item: str, keep: int, ttl: float | None) -> Spec:
        check_key(key)
        check_item(item)
        check_amounts(0, ttl)
        if keep < 1:
            raise ValueError("push_recent must keep at least one item")

        def items(result: Any) -> list[str]:
            return [x.decode() if isinstance(x, bytes) else x for x in result]

        keys = [self.k("r", key), self.k("rx", key)]
        return "push_recent", keys, [self.clock(), item, keep, _ttl(ttl)], items

    # scan_values is no script: SCAN walks the keyspace in pages, never in one call.
    def scan_pattern(self, prefix: str, limit: int) -> str:
        """The ``SCAN MATCH`` pattern of the value keys under ``prefix`` (taken literally)."""
        check_scan(prefix, limit)
        literal = "".join("\\" + c if c in "*?[]\\^-" else c for c in self.k("v", prefix))
        return literal + "*"

    def stored_values(
        self, keys: list[Any], fields: list[list[Any]], now: float
    ) -> list[StoredValue]:
        """The live values among ``keys`` and their ``HMGET t x`` answers."""
        start = len(self.k("v", ""))
        found: list[StoredValue] = []
        for raw_key, (typed, expires) in zip(keys, fields, strict=True):
            key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
            text = expires.decode() if isinstance(expires, bytes) else expires
            expires_at = float(text) if text else None
            if typed is None or (expires_at is not None and expires_at <= now):
                continue
            found.append(StoredValue(key[start:], _untyped(typed), expires_at))
        return found


#: Keys ``SCAN`` is asked to look at per page.
SCAN_PAGE = 1000


SCRIPTS = {
    "incr": lua.INCR, "get": lua.GET, "reserved": lua.RESERVED, "reserve": lua.RESERVE,
    "settle": lua.SETTLE, "settle_total": lua.SETTLE_TOTAL, "release": lua.RELEASE,
    "set_if_absent": lua.SET_IF_ABSENT, "take": lua.TAKE, "push_recent": lua.PUSH_RECENT,
}  # fmt: skip


def script_args(args: list[Any]) -> list[Any]:
    # Times go to Lua as exact decimal text (repr of a float round-trips).
    return [repr(a) if isinstance(a, float) else a for a in args]
