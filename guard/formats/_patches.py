"""Request patches written in each API's own shape (see :mod:`guard.patches`).

The engine never writes wire bodies: a patch says what to change, the function here for
the call's format says where that lives in its API. A patch an API cannot express is
reported as skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from guard.patches import (
    EnsureStreamUsage,
    KeepTools,
    Patch,
    Patched,
    PrependSystem,
    RouteModel,
    SetMaxTokens,
    SetResponseFormat,
)
from guard.types import Call

#: Where each API keeps the reply's length limit (the first present wins; else the last).
_MAX_TOKENS = {
    "openai.chat": ("max_completion_tokens", "max_tokens"),
    "openai.responses": ("max_output_tokens",),
    "anthropic.messages": ("max_tokens",),
}


def apply_patches(call: Call, patches: Sequence[Patch]) -> Patched:
    """Write ``patches`` into ``call.raw`` (the body is then re-serialised, except where
    the applier kept ``call.body`` in step itself)."""
    done = Patched()
    raw = call.raw
    for patch in patches:
        applier = _APPLIERS.get((call.format, type(patch))) if isinstance(raw, dict) else None
        if applier is None or not applier(call, raw, patch, done):
            done.skipped.append(patch)
            continue
        done.applied.append(patch)
        if applier not in _KEEPS_BODY:
            call.body = b""
    return done


def _max_tokens(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    fields = _MAX_TOKENS[call.format]
    # Every bound sent is clamped: upstreams differ on which one they read.
    present = [f for f in fields if isinstance(raw.get(f), int)] or [fields[0]]
    for name in present:
        current = raw.get(name)
        # A cap below 1 caps nothing (an upstream may read it as "no limit"): replaced.
        bounded = isinstance(current, int) and current >= 1
        tokens = min(current, patch.tokens) if bounded else patch.tokens
        if current == tokens:
            continue
        absent = name not in raw
        raw[name] = tokens
        # A budget's clamp on a body nothing else changed: the field goes in front of the
        # body as received, not a re-encode of it all (~15 % of a budgeted call's cost).
        # Only for a field the body lacks: an existing one may sit anywhere in it.
        brace = call.body.find(b"{") if absent and len(raw) > 1 else -1
        head = call.body[:brace]
        if brace >= 0 and not head.strip(b" \t\r\n"):
            field = f'{head.decode()}{{"{name}":{tokens},'.encode()
            call.body = field + call.body[brace + 1 :]
        else:
            call.body = b""
    call.max_tokens = max(raw[name] for name in present)
    return True


def _stream_usage(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    if not call.stream:
        return True  # a complete reply always reports usage
    options = raw.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return True
    raw["stream_options"] = {
        **(options if isinstance(options, dict) else {}),
        "include_usage": True,
    }
    done.strip_usage = True
    return True


def _always(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    return True  # Anthropic streams report usage in message_start / message_delta


def _response_format(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    raw["response_format"] = patch.response_format
    call.response_format = patch.response_format
    return True


def _text_format(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    """Responses keep the format under ``text.format``, flattened (no ``json_schema`` level)."""
    given = patch.response_format
    inner = given.get("json_schema") if given.get("type") == "json_schema" else None
    flat = {"type": "json_schema", **inner} if isinstance(inner, dict) else dict(given)
    text = raw.get("text")
    raw["text"] = {**(text if isinstance(text, dict) else {}), "format": flat}
    call.response_format = given
    return True


def _system_message(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    messages = raw.get("messages")
    if not isinstance(messages, list):
        return False
    messages.insert(0, {"role": "system", "content": patch.text})
    return True


def _anthropic_system(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    system = raw.get("system")
    if system is None:
        raw["system"] = patch.text
    elif isinstance(system, str):
        raw["system"] = f"{patch.text}\n\n{system}"
    elif isinstance(system, list):
        system.insert(0, {"type": "text", "text": patch.text})
    else:
        return False
    return True


def _instructions(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    current = raw.get("instructions")
    raw["instructions"] = f"{patch.text}\n\n{current}" if isinstance(current, str) else patch.text
    return True


def _model(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    raw["model"] = patch.model
    call.model = patch.model
    return True


def _tool_name(tool: Any, nested: bool) -> str | None:
    """A tool's name: OpenAI chat nests it (``function.name``, ``custom.name``)."""
    if not isinstance(tool, dict):
        return None
    spec = tool.get(tool.get("type", "function")) if nested else tool
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else None


def _keep_tools(call: Call, raw: dict[str, Any], patch: Any, done: Patched) -> bool:
    """Drop offered tools not in ``patch.names`` (and an OpenAI chat request's legacy
    ``functions``); built-in tools without a name stay."""
    nested = call.format == "openai.chat"
    extra = ("parallel_tool_calls",)
    changed = _keep_offered(raw, ("tools", "tool_choice", extra), nested, patch.names)
    if nested:
        changed |= _keep_offered(raw, ("functions", "function_call", ()), False, patch.names)
    if changed:
        call.tools = [t for t in call.tools if t.get("name") in patch.names]
    return True


def _keep_offered(
    raw: dict[str, Any], fields: tuple[str, str, tuple[str, ...]], nested: bool, names: Any
) -> bool:
    """Keep the entries of the list ``fields[0]`` named in ``names``; drop the choice
    ``fields[1]`` that forces one no longer offered. True if anything was dropped."""
    listed, choice_field, with_list = fields
    offered = raw.get(listed)
    if not isinstance(offered, list):
        return False  # nothing offered
    kept = [t for t in offered if _tool_name(t, nested) in names or _tool_name(t, nested) is None]
    if len(kept) == len(offered):
        return False
    raw[listed] = kept
    choice = raw.get(choice_field)
    forced = _tool_name(choice, nested) if isinstance(choice, dict) else None
    if forced is not None and forced not in names:
        del raw[choice_field]
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        _keep_allowed(raw, choice_field, nested, names)
    if not kept:  # an empty list is refused by the APIs; so is a choice without tools
        for field in (listed, choice_field, *with_list):
            raw.pop(field, None)
    return True


def _keep_allowed(raw: dict[str, Any], choice_field: str, nested: bool, names: Any) -> None:
    """An ``allowed_tools`` choice (chat nests its list under ``allowed_tools``) keeps
    only the tools still offered; a choice left with none is dropped."""
    choice = raw[choice_field]
    holder = choice.get("allowed_tools") if nested else choice
    listed = holder.get("tools") if isinstance(holder, dict) else None
    if not isinstance(listed, list):
        return
    holder["tools"] = [
        t for t in listed if _tool_name(t, nested) in names or _tool_name(t, nested) is None
    ]
    if not holder["tools"]:
        del raw[choice_field]


_Applier = Callable[[Call, dict[str, Any], Any, Patched], bool]
#: Appliers that keep ``call.body`` in step with ``call.raw`` themselves.
_KEEPS_BODY: frozenset[_Applier] = frozenset({_max_tokens})
_APPLIERS: dict[tuple[str, type], _Applier] = {
    ("openai.chat", SetMaxTokens): _max_tokens,
    ("openai.chat", EnsureStreamUsage): _stream_usage,
    ("openai.chat", SetResponseFormat): _response_format,
    ("openai.chat", PrependSystem): _system_message,
    ("openai.chat", RouteModel): _model,
    ("openai.chat", KeepTools): _keep_tools,
    ("anthropic.messages", KeepTools): _keep_tools,
    ("openai.responses", KeepTools): _keep_tools,
    ("anthropic.messages", SetMaxTokens): _max_tokens,
    ("anthropic.messages", EnsureStreamUsage): _always,
    ("anthropic.messages", PrependSystem): _anthropic_system,
    ("anthropic.messages", RouteModel): _model,
    ("openai.responses", SetMaxTokens): _max_tokens,
    ("openai.responses", EnsureStreamUsage): _always,  # response.completed carries usage
    ("openai.responses", SetResponseFormat): _text_format,
    ("openai.responses", PrependSystem): _instructions,
    ("openai.responses", RouteModel): _model,
}
