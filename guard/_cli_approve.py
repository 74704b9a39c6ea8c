"""``guardwire approve``: list the tool calls that wait for a person's yes (the agent
check's ``approval``) and approve or deny one.

- ``guardwire approve --list [--limit N] [--json]``: the pending approvals (id, tool,
  arguments hash, session hash, tenant, created, expires) — never arguments.
- ``guardwire approve ID [--deny]``: decide one.

By default the CLI works on the store the proxy uses (``--config``), and writes an
``approval`` line to the proxy's audit log; such decisions are not in the proxy's
``/metrics`` (the CLI is another process). With ``--proxy URL`` it asks the running
proxy instead (``GET``/``POST /guardwire/v1/approvals``, with the operator key from
``GUARDWIRE_OPERATOR_KEY``): the proxy then counts and audits the decision.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

EXIT_DECIDED, EXIT_UNKNOWN, EXIT_FAILED = 0, 1, 2
#: Where ``--proxy`` finds the operator key (never a command-line argument: ``ps`` shows those).
OPERATOR_KEY_ENV = "GUARDWIRE_OPERATOR_KEY"
_UNKNOWN = (
    "guardwire: no pending approval with this id (unknown, already decided or expired); "
    "repeat the agent's call to get a new one"
)


def add_parser(commands: Any) -> None:
    """Register ``approve`` on the CLI's sub-command parser."""
    approve = commands.add_parser(
        "approve",
        help="list, approve or deny tool calls an agent policy stopped for approval",
        description="Approve the tool call behind an approval id from an 'approval_required' "
        "error: the same call with the same arguments in the same session then passes once, "
        "within the rule's ttl. With --deny the id is dropped and the call stays refused. "
        "With --list, show the pending approvals (names and hashes, never arguments).",
    )
    approve.add_argument("id", metavar="ID", nargs="?", help="the approval id from the error")
    approve.add_argument("--deny", action="store_true", help="deny instead of approve")
    approve.add_argument("--list", action="store_true", help="list the pending approvals")
    approve.add_argument("--limit", type=int, default=100, help="most approvals --list shows")
    approve.add_argument("--json", action="store_true", help="--list as JSON")
    approve.add_argument(
        "--config", metavar="FILE", help="server config YAML (env GUARDWIRE_CONFIG)"
    )
    approve.add_argument(
        "--proxy",
        metavar="URL",
        help=f"ask the running proxy at URL (operator key in {OPERATOR_KEY_ENV}), so the "
        "decision is in its metrics and audit log",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``guardwire approve``: 0 when decided or listed, 1 when the id is unknown or
    expired, 2 when the proxy or the store cannot be asked."""
    if args.list == (args.id is not None):
        print("guardwire: give an approval ID to decide, or --list to see the pending ones")
        return EXIT_FAILED
    if args.proxy:
        return _through_proxy(args)
    from guard.proxy.config import load_config
    from guard.stores import open_store

    config = load_config(args.config)
    store = open_store(config.store)
    if args.list:
        _show(asyncio.run(_pending(store, args.limit)), args.json)
        return EXIT_DECIDED
    decided = asyncio.run(_decide(store, args.id, not args.deny))
    if decided is None:
        print(_UNKNOWN)
        return EXIT_UNKNOWN
    if config.audit_log:
        _audit(config.audit_log, decided)
    print("approved: the same tool call passes once" if not args.deny else "denied")
    return EXIT_DECIDED


async def _decide(store: Any, approval_id: str, approve: bool) -> Any:
    from guard.checks._agent_approvals import decide

    await store.open()
    try:
        return await decide(store, approval_id, approve)
    finally:
        await store.close()


async def _pending(store: Any, limit: int) -> list[dict[str, Any]]:
    from guard.checks._agent_approvals import pending

    await store.open()
    try:
        return [p.as_record() for p in await pending(store, limit)]
    finally:
        await store.close()


def _audit(path: str, decided: Any) -> None:
    """Append the decision's line to the proxy's audit log (one short ``O_APPEND`` write,
    so it does not interleave with the proxy's lines)."""
    from guard.audit import AuditLog
    from guard.proxy.approvals import decision_line

    log = AuditLog(path)
    try:
        log.record_event(decision_line(decided, None))
    finally:
        log.close()


def _show(listed: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"approvals": listed}, indent=2))
        return
    if not listed:
        print("no pending approvals")
        return
    print(f"{'ID':16}  {'TOOL':24}  {'ARGUMENTS':23}  {'SESSION':23}  {'TENANT':16}  EXPIRES")
    for item in listed:
        expires = item["expires"]
        left = f"in {max(0, int(expires - time.time()))} s" if expires is not None else "never"
        print(f"{item['id']:16}  {item['tool'][:24]:24}  {item['arguments_hash']:23}  "
              f"{item['session']:23}  {(item['tenant'] or '-')[:16]:16}  {left}")  # fmt: skip


def _through_proxy(args: argparse.Namespace) -> int:
    import httpx

    key = os.environ.get(OPERATOR_KEY_ENV, "")
    if not key:
        print(f"guardwire: --proxy needs the operator key in the environment ({OPERATOR_KEY_ENV})")
        return EXIT_FAILED
    base = args.proxy.rstrip("/") + "/guardwire/v1/approvals"
    headers = {"authorization": f"Bearer {key}"}
    try:
        if args.list:
            answer = httpx.get(base, params={"limit": args.limit}, headers=headers, timeout=10)
        else:
            decision = {"decision": "deny" if args.deny else "approve"}
            answer = httpx.post(f"{base}/{args.id}", json=decision, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        print(f"guardwire: the proxy at --proxy did not answer ({type(exc).__name__})")
        return EXIT_FAILED
    if answer.status_code == 404 and not args.list:
        print(_UNKNOWN)
        return EXIT_UNKNOWN
    if answer.status_code != 200:
        print(f"guardwire: the proxy refused ({answer.status_code}); check the operator key")
        return EXIT_FAILED
    if args.list:
        _show(answer.json().get("approvals", []), args.json)
    else:
        print("approved: the same tool call passes once" if not args.deny else "denied")
    return EXIT_DECIDED
