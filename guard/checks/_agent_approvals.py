"""Stop and ask: tool calls that need a person's yes (the agent check's ``approval``).

A reply whose tool call matches an ``approval`` rule is refused (403,
``approval_required``) with an approval id. A person lists the pending ids
(``GET /guardwire/v1/approvals``, ``guardwire approve --list``) and approves or denies
one (``guardwire approve ID [--deny]``); after a yes, the same tool call with the same
arguments in the same session passes **once** within the rule's TTL. An id nobody
decides expires at the TTL (and is no longer listed).

The store holds, per id, the session's key prefix (a hash), the tool call's digest (a
hash), the TTL and, for the listing, the tool's name as the policy or the request's
offered tools spell it (``other`` for any other name), a keyed hash of the arguments,
the session's audit hash and the tenant — never the tool's arguments, never the session
id the caller named.

Keys: ``approval:<id>`` -> ``<session prefix>|<digest>|<ttl>`` (taken by the decision),
``approval:<id>:about`` -> ``<tool>|<arguments hash>|<session hash>|<entry name>`` and
``approval:<id>:tenant`` (the listing), ``<session prefix>:pending:<digest>`` -> the id
(the same call asks with the same id while it is pending), ``<session
prefix>:granted:<digest>`` (taken by the call it lets through).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from guard.stores.base import MAX_ITEM_LENGTH, MAX_SCAN

#: Key prefix of every approval record.
PREFIX = "approval:"
#: The entry name of an agent check without a ``name`` (and of records without one).
CHECK = "agent"
#: Most pending approvals one listing returns.
MAX_LISTED = MAX_SCAN // 3


@dataclass(frozen=True, slots=True)
class About:
    """What an operator sees of a pending tool call: names and hashes only."""

    tool: str = "other"
    arguments_hash: str = ""
    #: The audit log's hash of the session id (``sha256:`` + 16 hex), to find its calls.
    session: str = ""
    tenant: str | None = None
    #: The policy entry that asked (its ``name``): the metric label of the decision.
    check: str = CHECK


@dataclass(frozen=True, slots=True)
class Pending:
    """One approval waiting for a decision, as listed."""

    id: str
    tool: str
    arguments_hash: str
    session: str
    tenant: str | None
    created: float
    expires: float | None

    def as_record(self) -> dict[str, Any]:
        """A JSON-safe summary (the listing's body and ``--json`` output)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Decided:
    """An approval id that was decided, with what the listing knew about it (for the
    audit line and the metric of the decision)."""

    id: str
    approved: bool
    about: About


def _approval_key(approval_id: str) -> str:
    return f"{PREFIX}{approval_id}"


async def granted(store: Any, prefix: str, digest: str) -> bool:
    """Whether a yes for this tool call is waiting; it is used up by asking."""
    return await store.take(f"{prefix}:granted:{digest}") is not None


async def ask(store: Any, prefix: str, digest: str, ttl: float, about: About = About()) -> str:
    """The approval id this tool call waits for (a new one, or the pending one)."""
    fresh = secrets.token_hex(8)
    pending = str(await store.set_if_absent(f"{prefix}:pending:{digest}", fresh, ttl))
    if pending == fresh:
        key = _approval_key(fresh)
        # The listing's records first: a listed id always has them.
        described = f"{about.tool}|{about.arguments_hash}|{about.session}|{about.check}"
        described = described[:MAX_ITEM_LENGTH]
        await store.set_if_absent(f"{key}:about", described, ttl)
        if about.tenant and len(about.tenant) <= MAX_ITEM_LENGTH:
            await store.set_if_absent(f"{key}:tenant", about.tenant, ttl)
        await store.set_if_absent(key, f"{prefix}|{digest}|{ttl:g}", ttl)
    return pending


def valid_id(approval_id: str) -> bool:
    """Whether ``approval_id`` has the shape of an id :func:`ask` hands out."""
    return len(approval_id) == 16 and all(c in "0123456789abcdef" for c in approval_id)


async def decide(store: Any, approval_id: str, approve: bool) -> Decided | None:
    """Approve or deny a pending id; ``None`` when it is unknown, decided or expired."""
    if not valid_id(approval_id):
        return None
    key = _approval_key(approval_id)
    value = await store.take(key)
    if not isinstance(value, str) or value.count("|") != 2:
        return None
    prefix, digest, ttl = value.split("|")
    await store.take(f"{prefix}:pending:{digest}")
    if approve:
        await store.set_if_absent(f"{prefix}:granted:{digest}", 1, float(ttl))
    about = _about(await store.take(f"{key}:about"), await store.take(f"{key}:tenant"))
    return Decided(approval_id, approve, about)


async def pending(store: Any, limit: int = 100) -> list[Pending]:
    """The approvals waiting for a decision, oldest first, at most ``limit`` (bounded by
    :data:`MAX_LISTED`). Expired ones are not listed."""
    limit = max(1, min(limit, MAX_LISTED))
    records: dict[str, dict[str, Any]] = {}
    for stored in await store.scan_values(PREFIX, limit * 3):
        approval_id, _, field = stored.key[len(PREFIX) :].partition(":")
        records.setdefault(approval_id, {})[field or "main"] = stored
    listed: list[Pending] = []
    for approval_id, fields in records.items():
        main = fields.get("main")
        if main is None or not valid_id(approval_id) or not isinstance(main.value, str):
            continue
        ttl = float(main.value.rpartition("|")[2] or 0)
        about_record, tenant_record = fields.get("about"), fields.get("tenant")
        about = _about(
            about_record.value if about_record else None,
            tenant_record.value if tenant_record else None,
        )
        expires = main.expires_at
        created = (expires - ttl) if expires is not None else 0.0
        listed.append(Pending(approval_id, about.tool, about.arguments_hash, about.session,
                              about.tenant, created, expires))  # fmt: skip
    listed.sort(key=lambda p: (p.created, p.id))
    return listed[:limit]


def _about(described: Any, tenant: Any) -> About:
    parts = described.split("|") if isinstance(described, str) else []
    tenant = tenant if isinstance(tenant, str) else None
    if len(parts) == 3:  # written before the entry's name was kept
        parts.append(CHECK)
    if len(parts) != 4:
        return About(tenant=tenant)
    tool, arguments_hash, session, check = parts
    return About(tool, arguments_hash, session, tenant, check or CHECK)
