"""Keys that differ from a field name only in case: refused in requests, and an upstream
fault in replies.

Some upstream servers match JSON keys to fields case-insensitively: Go's
``encoding/json`` (Ollama and most Go gateways) reads ``"System"``, ``"MESSAGES"`` or
``"meſſages"`` (the long s folds to ``s``) as ``system`` / ``messages``, the later key
winning, and so do ASP.NET's web defaults. guardwire reads each field by its exact name,
so such a key would carry text the upstream reads and the checks never saw (or a
``Max_tokens`` past a budget's bound). A key is refused when it folds to a name the
formats read but is not written that way; maps whose keys the client chooses (metadata,
JSON Schemas, a tool call's input, headers) are not looked into.

Replies are read the same way from the other side: a client in Go or ASP.NET may read
``"Content"`` where the guard checked ``content``, so a reply (complete, or a stream's
event) with such a key is not passed on (:data:`REPLY_FIELDS`).
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

#: The fields the wire formats read in a reply or a stream's events (with the request's).
REPLY_FIELDS = FIELDS | frozenset(
    """
    annotation annotations cache_creation_input_tokens cache_read_input_tokens choice_text
    choices completion_tokens content_block delta error finish_reason incomplete_details
    index input_tokens input_tokens_details item message output_tokens part partial_json
    prompt_tokens prompt_tokens_details reason response status stop_reason tool usage
    """.split()
)

#: Reply keys no reply needs to be read for case variants for (see :data:`PLAIN_KEYS`).
REPLY_PLAIN_KEYS = (
    PLAIN_KEYS
    | REPLY_FIELDS
    | frozenset(
        """
    annotation_index bytes call_id citation completed_at content_index created created_at
    item_id object output_index param refusal sequence_number stop_sequence
    summary_index system_fingerprint token total_tokens
    """.split()
    )
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
    key = variant_key(body, PLAIN_KEYS, FIELDS)
    if key is not None:
        folded = key.casefold()
        raise RequestError(
            f"the request body has {shown_key(key)}, which differs from the field '{folded}' "
            f"only in case (some upstream servers read it as '{folded}', unchecked): send "
            f"'{folded}' as the API spells it"
        )


def variant_key(
    body: dict[str, Any],
    plain: frozenset[str] = REPLY_PLAIN_KEYS,
    fields: frozenset[str] = REPLY_FIELDS,
) -> str | None:
    """The first key of ``body`` (outside the client's own maps) that folds to one of
    ``fields`` without being it; ``None`` when there is none."""
    # A stack, not recursion: the decoder accepts nesting close to the recursion limit.
    pending: list[Any] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(item for item in value if isinstance(item, dict | list))
            continue
        if not value.keys() <= plain:  # the APIs' own names are no variants
            for key in value:
                if is_variant(key, fields):
                    return key  # type: ignore[no-any-return]
        for key, item in value.items():
            if key in _CLIENT_MAPS or (key in _CLIENT_OBJECTS and isinstance(item, dict)):
                continue
            if isinstance(item, dict | list):
                pending.append(item)
    return None


def is_variant(key: str, fields: frozenset[str] = FIELDS) -> bool:
    """Whether ``key`` folds to one of ``fields`` without being it."""
    folded = key.casefold()
    return folded != key and folded in fields


def shown_key(key: str) -> str:
    """How an error names a key: quoted when ASCII (key names are protocol), else not."""
    return f"'{key}'" if key.isascii() else "a key"
