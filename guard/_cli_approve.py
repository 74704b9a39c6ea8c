"""``guardwire approve ID [--deny] [--config FILE]``: decide a tool call that waits for a
person's yes (the agent check's ``approval``), in the store the proxy uses."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

EXIT_DECIDED, EXIT_UNKNOWN = 0, 1


def add_parser(commands: Any) -> None:
    """Register ``approve`` on the CLI's sub-command parser."""
    approve = commands.add_parser(
        "approve",
        help="approve (or deny) a tool call an agent policy stopped for approval",
        description="Approve the tool call behind an approval id from an 'approval_required' "
        "error: the same call with the same arguments in the same session then passes once, "
        "within the rule's ttl. With --deny the id is dropped and the call stays refused.",
    )
    approve.add_argument("id", metavar="ID", help="the approval id from the error message")
    approve.add_argument("--deny", action="store_true", help="deny instead of approve")
    approve.add_argument(
        "--config", metavar="FILE", help="server config YAML (env GUARDWIRE_CONFIG)"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``guardwire approve``: 0 when decided, 1 when the id is unknown or expired."""
    from guard.proxy.config import load_config
    from guard.stores import open_store

    config = load_config(args.config)
    decided = asyncio.run(_decide(open_store(config.store), args.id, not args.deny))
    if not decided:
        print(
            "guardwire: no pending approval with this id (unknown, already decided or expired); "
            "repeat the agent's call to get a new one"
        )
        return EXIT_UNKNOWN
    print("approved: the same tool call passes once" if not args.deny else "denied")
    return EXIT_DECIDED


async def _decide(store: Any, approval_id: str, approve: bool) -> bool:
    from guard.checks._agent_approvals import decide

    await store.open()
    try:
        return await decide(store, approval_id, approve) is not None
    finally:
        await store.close()
