"""Stop and ask: tool calls that need a person's yes (the agent check's ``approval``).

A reply whose tool call matches an ``approval`` rule is refused (403,
``approval_required``) with an approval id. A person approves or denies the id
(``guardwire approve ID [--deny]``); after a yes, the same tool call with the same
arguments in the same session passes **once** within the rule's TTL. An id nobody
decides expires at the TTL. The store holds, per id, only the session's key prefix (a
hash), the tool call's digest (a hash) and the TTL — never the tool's arguments.

Keys: ``approval:<id>`` -> ``<session prefix>|<digest>|<ttl>`` (taken by the decision),
``<session prefix>:pending:<digest>`` -> the id (the same call asks with the same id
while it is pending), ``<session prefix>:granted:<digest>`` (taken by the call it lets
through).
"""

from __future__ import annotations

import secrets
from typing import Any


def _approval_key(approval_id: str) -> str:
    return f"approval:{approval_id}"


async def granted(store: Any, prefix: str, digest: str) -> bool:
    """Whether a yes for this tool call is waiting; it is used up by asking."""
    return await store.take(f"{prefix}:granted:{digest}") is not None


async def ask(store: Any, prefix: str, digest: str, ttl: float) -> str:
    """The approval id this tool call waits for (a new one, or the pending one)."""
    fresh = secrets.token_hex(8)
    pending = str(await store.set_if_absent(f"{prefix}:pending:{digest}", fresh, ttl))
    if pending == fresh:
        await store.set_if_absent(_approval_key(fresh), f"{prefix}|{digest}|{ttl:g}", ttl)
    return pending


def valid_id(approval_id: str) -> bool:
    """Whether ``approval_id`` has the shape of an id :func:`ask` hands out."""
    return len(approval_id) == 16 and all(c in "0123456789abcdef" for c in approval_id)


async def decide(store: Any, approval_id: str, approve: bool) -> bool:
    """Approve or deny a pending id; ``False`` when it is unknown, decided or expired."""
    if not valid_id(approval_id):
        return False
    value = await store.take(_approval_key(approval_id))
    if not isinstance(value, str) or value.count("|") != 2:
        return False
    prefix, digest, ttl = value.split("|")
    await store.take(f"{prefix}:pending:{digest}")
    if approve:
        await store.set_if_absent(f"{prefix}:granted:{digest}", 1, float(ttl))
    return True
