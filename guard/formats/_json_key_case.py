"""Request keys that differ from a field name only in case are refused.

Some upstream servers match JSON keys to fields case-insensitively: Go's
``encoding/json`` (Ollama and most Go gateways) reads ``"System"``, ``"MESSAGES"`` or
``"meſſages"`` (the long s folds to ``s``) as ``system`` / ``messages``, the later key
winning, and so do ASP.NET's web defaults. guardwire reads each field by its exact name,
so such a key would carry text the upstream reads and the checks never saw (or a
``Max_tokens`` past a budget's bound). A key is refused when it folds to a name the
formats read but is not written that way; maps whose keys the client chooses (metadata,
JSON Schemas, a tool call's input, headers) are not looked into.
"""

from __future__ import annotations

from typing import Any

from guard.errors import RequestError

#: The fields the wire formats read or write in a request (all lower case, as the APIs
#: spell them). A case variant of any other key reads as an unknown field everywhere.
FIELDS = frozenset(
    """
    action arguments cache_control call_id cited_text citations code command commands content
    context conversation data description detail diff document document_title file file_data
    file_id filename format function function_call functions guardwire id image_url
    include_usage input input_audio input_schema instructions json_schema logs
    max_completion_tokens max_output_tokens max_tokens media_type messages metadata model n
    name operation output output_config output_format outputs parameters previous_response_id
    program program_output prompt queries query reasoning refusal response_format result
    results revised_prompt role schema source stderr stdout stream stream_options summary
    system text thinking title tool_call_id tool_calls tool_choice tool_use_id tools
    transcript type url user
    """.split()
)

#: Keys no request needs to be read for case variants for: the fields above and other
#: names of the APIs and of JSON Schema (any key that is not a variant may be listed).
PLAIN_KEYS = FIELDS | frozenset(
    """
    $defs $ref additionalProperties allOf anyOf audio budget_tokens const default enum
    examples frequency_penalty is_error items logit_bias logprobs maximum maxItems minimum
    minItems modalities oneOf parallel_tool_calls pattern presence_penalty properties
    required seed service_tier signature stop stop_sequences store strict temperature top_k
    top_logprobs top_p ttl
    """.split()
)

#: Keys whose value is a map the client owns: its keys are data, whatever their case
#: (a JSON Schema's property and definition names, wherever the schema sits).
_CLIENT_MAPS = frozenset(
    "$defs attributes chat_template_kwargs definitions env headers input_schema logit_bias "
    "metadata parameters properties schema variables".split()
)
#: Keys that hold a client map when their value is an object (a tool call's input).
_CLIENT_OBJECTS = frozenset(("arguments", "input"))


def refuse_case_variants(body: dict[str, Any]) -> None:
    """Raise :class:`RequestError` for a key in ``body`` (a decoded request) that folds
    to one of :data:`FIELDS` without being it."""
    # A stack, not recursion: the decoder accepts nesting close to the recursion limit.
    pending: list[Any] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(item for item in value if isinstance(item, dict | list))
            continue
        if not value.keys() <= PLAIN_KEYS:  # the APIs' own names are no variants
            for key in value:
                _refuse_variant(key)
        for key, item in value.items():
            if key in _CLIENT_MAPS or (key in _CLIENT_OBJECTS and isinstance(item, dict)):
                continue
            if isinstance(item, dict | list):
                pending.append(item)


def is_variant(key: str) -> bool:
    """Whether ``key`` folds to one of :data:`FIELDS` without being it."""
    folded = key.casefold()
    return folded != key and folded in FIELDS


def _refuse_variant(key: str) -> None:
    if is_variant(key):
        folded = key.casefold()
        shown = f"'{key}'" if key.isascii() else "a key"
        raise RequestError(
            f"the request body has {shown}, which differs from the field '{folded}' only "
            f"in case (some upstream servers read it as '{folded}', unchecked): send "
            f"'{folded}' as the API spells it"
        )
