"""What the ``agent`` check keeps per session in the state store, and the tool-call facts
it derives from a reply: only hashes and counts, never a tool's arguments or a session id.

Keys are ``agent:<digest>:<field>`` where the digest hashes the check name, the tenant
and the session the caller named. Every update is one atomic store operation (``incr``,
``set_if_absent``, ``push_recent``), so concurrent calls of one session never both see
room that only one of them has: 50 parallel calls against ``max_steps: 20`` get the
counter values 1..50 and exactly the first 20 pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from guard.checks._agent_config import AgentConfig, ArgumentRule, matches
from guard.patches import KeepTools
from guard.restore import Restorer
from guard.types import Call, Caller, Reply

#: Store fields of one session.
STEPS, TOOL_CALLS, FIRST_SEEN, RECENT, STOPPED = "steps", "tools", "first", "recent", "stopped"


def session_prefix(check: str, caller: Caller) -> str | None:
    """The store key prefix of the caller's session; ``None`` when it names none."""
    if not caller.session:
        return None
    material = "\0".join((check, caller.tenant or "", caller.session))
    return "agent:" + hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ToolUse:
    """One tool call of a reply: its name, its decoded arguments and their digest."""

    name: str
    arguments: Any
    #: sha256 of the tool name and the canonical JSON of the arguments (the loop window).
    digest: str
    #: The tool name and the arguments as canonical JSON (sorted keys, no spaces): what
    #: the audit's keyed arguments hash covers. Never stored, never logged.
    canonical: str = ""
    #: (position in ``reply.choices``, position in its ``tool_calls``): what ``strip`` removes.
    position: tuple[int, int] = (0, 0)


def tool_uses(reply: Reply, restores: Mapping[str, str] | None = None) -> list[ToolUse]:
    """The reply's tool calls in order (every choice). The arguments the rules read have
    the placeholders an input check issued (``restores``) put back: the rules judge the
    call the application runs. The digest and the canonical form (the store's loop
    window and approvals, the audit's hash) stay on the arguments as the model wrote
    them, so no hash of a pseudonymised value is kept."""
    restorer = Restorer(dict(restores)) if restores else None
    uses: list[ToolUse] = []
    for choice_at, choice in enumerate(reply.choices):
        for call_at, call in enumerate(choice.tool_calls):
            arguments = decode_arguments(call.arguments)
            canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
            named = f"{call.name}\0{canonical}"
            digest = hashlib.sha256(named.encode()).hexdigest()[:32]
            if restorer is not None:
                arguments = restored(arguments, restorer)
            uses.append(ToolUse(call.name, arguments, digest, named, (choice_at, call_at)))
    return uses


def restored(value: Any, restorer: Restorer) -> Any:
    """``value`` (decoded arguments) with placeholders restored in its strings and keys."""
    if isinstance(value, str):
        return restorer.text(value)
    if isinstance(value, list):
        return [restored(item, restorer) for item in value]
    if isinstance(value, dict):
        return {restorer.text(k): restored(v, restorer) for k, v in value.items()}
    return value


def decode_arguments(text: str) -> Any:
    """The arguments as JSON; text that is not JSON stays a string (still checked)."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text


def at_pointer(document: Any, pointer: str) -> tuple[bool, Any]:
    """``(found, value)`` at the RFC 6901 JSON Pointer ``pointer`` in ``document``."""
    if pointer == "":
        return True, document
    node = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


def as_text(value: Any) -> str:
    """An argument value as the text a rule matches (non-strings as compact JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def offered_tool_names(tools: list[dict[str, Any]]) -> list[str]:
    """Names of the tools a request offers (as the formats parsed them)."""
    return [t["name"] for t in tools if isinstance(t.get("name"), str)]


def host_allowed(arguments: Any, rule: ArgumentRule) -> bool:
    """Whether the URL at the rule's pointer names a host the rule allows."""
    present, value = at_pointer(arguments, rule.pointer)
    if not present:
        return True  # nothing to check: a missing URL is the schema check's business
    try:
        host = urlsplit(as_text(value).strip()).hostname
    except ValueError:
        return False
    allowed = tuple(h.lower() for h in rule.allow_hosts or ())
    return host is not None and matches(host.rstrip("."), allowed)


async def ensure_open(store: Any) -> None:
    """Open a store given as a URL on first use (shared with the budgets' ledger)."""
    from guard.checks._budget_ledger import Ledger

    await Ledger(store).ensure_open()


def offered_patch(config: AgentConfig, call: Call) -> tuple[KeepTools, ...]:
    """``filter_offered``: a request patch keeping only the offered tools the policy
    allows (the wire format writes it; the check never edits a body)."""
    if not config.filter_offered or not call.tools:
        return ()
    offered = offered_tool_names(call.tools)
    kept = frozenset(name for name in offered if config.tool_allowed(name))
    return () if len(kept) == len(set(offered)) else (KeepTools(kept),)
