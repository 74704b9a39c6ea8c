"""What the ``pii`` check writes instead of an entity, and the pseudonym vaults.

* ``redact``: ``<EMAIL_ADDRESS>``.
* ``mask``: the shape stays — ``****@****.com``; a number keeps its separators and
  last four characters (``**** **** **** 4242``); anything else has its letters and
  digits starred.
* ``hash``: ``<EMAIL_ADDRESS:3f2a9c1d>``, the first 8 hex digits of
  HMAC-SHA256(deployment key, entity + canonical value): stable across calls and
  processes of one deployment (analytics can join on it), useless without the key.
* ``pseudonymise``: ``<EMAIL_ADDRESS_1>``, numbered per entity; the same value gets
  the same placeholder within a call (or a session), and the reply gets the original
  back through the lifecycle's restores.

A vault holds originals only in memory, for the call or the session: never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from guard.checks._pii_recognizers import NUMBER_ENTITIES

if TYPE_CHECKING:
    from guard.checks.base import CheckContext

_KEEP_LAST = 4


def redacted(entity: str) -> str:
    """The ``redact`` replacement."""
    return f"<{entity}>"


def masked(entity: str, original: str) -> str:
    """The ``mask`` replacement of ``original`` (the characters the caller sent)."""
    if entity == "EMAIL_ADDRESS" and "@" in original:
        domain = original.rsplit("@", 1)[1]
        suffix = domain.rsplit(".", 1)[1] if "." in domain else ""
        return f"****@****.{suffix}" if suffix else "****@****"
    alnum = [i for i, c in enumerate(original) if c.isalnum()]
    keep = set(alnum[-_KEEP_LAST:]) if entity in NUMBER_ENTITIES and len(alnum) >= 8 else set()
    return "".join(
        c if (not c.isalnum() or i in keep) else "*"
        for i, c in enumerate(original)
        if c.isprintable() and c != "\u00ad"
    )


def hashed(key: bytes, entity: str, value: str) -> str:
    """The ``hash`` replacement: keyed, stable for one deployment key."""
    digest = hmac.new(key, f"{entity}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"<{entity}:{digest[:8]}>"


class Vault:
    """Placeholders issued for one call or one session: value -> placeholder -> original."""

    __slots__ = ("_counts", "_issued", "_placeholders", "limit")

    def __init__(self, limit: int = 1000) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}
        self._issued: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self.limit = limit

    def placeholder(self, entity: str, value: str, original: str) -> str | None:
        """The placeholder of ``value`` (a new one the first time); ``None`` when the
        vault is full (the caller then redacts: a value is never sent in the clear)."""
        key = (entity, value)
        found = self._placeholders.get(key)
        if found is not None:
            return found
        if len(self._issued) >= self.limit:
            return None
        number = self._counts.get(entity, 0) + 1
        self._counts[entity] = number
        found = self._placeholders[key] = f"<{entity}_{number}>"
        self._issued[found] = original
        return found

    def issued(self) -> dict[str, str]:
        """Placeholder -> original, for the restores of a call."""
        return dict(self._issued)


class SessionVaults(Protocol):
    """Where session-scoped vaults live (in memory here; a state store may replace it)."""

    def vault(self, key: tuple[str, ...]) -> Vault:
        """The vault of session ``key`` (created when new)."""
        ...


class MemorySessionVaults:
    """Session vaults in memory: each expires ``ttl`` seconds after its last use, and
    at most ``max_sessions`` are kept (the least recently used goes first)."""

    def __init__(
        self,
        *,
        ttl: float,
        max_sessions: int,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._max, self._entries = ttl, max_sessions, max_entries
        self._clock = clock
        self._vaults: OrderedDict[tuple[str, ...], tuple[float, Vault]] = OrderedDict()
        self._lock = threading.Lock()

    def vault(self, key: tuple[str, ...]) -> Vault:
        now = self._clock()
        with self._lock:
            found = self._vaults.pop(key, None)
            vault = found[1] if found is not None and now - found[0] < self._ttl else None
            if vault is None:
                vault = Vault(self._entries)
            self._vaults[key] = (now, vault)
            while len(self._vaults) > self._max:
                self._vaults.popitem(last=False)
            # Expired sessions at the old end go too (bounded work per call).
            for _ in range(8):
                oldest = next(iter(self._vaults.items()), None)
                if oldest is None or now - oldest[1][0] < self._ttl:
                    break
                self._vaults.popitem(last=False)
            return vault

    def __len__(self) -> int:
        return len(self._vaults)


def call_vault(ctx: CheckContext, name: str) -> Vault:
    """The vault of the call ``ctx`` belongs to, for the check ``name`` (made on use)."""
    area = ctx.private(name)
    vault = area.get("vault")
    if vault is None:
        vault = area["vault"] = Vault()
    assert isinstance(vault, Vault)
    return vault


def session_vault(sessions: SessionVaults | None, ctx: CheckContext, name: str) -> Vault | None:
    """The vault of the caller's session for the check ``name``, when it keeps them."""
    caller = ctx.caller
    if sessions is None or not caller.session:
        return None
    # The session id is the caller's; tenant and key keep two callers who pick the
    # same id from ever seeing each other's values.
    return sessions.vault((name, caller.tenant or "", caller.key_id or "", caller.session))
