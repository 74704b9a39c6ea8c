"""Which inputs a request's bytes cannot bound, named by field path, and the uses a
budget's ``reference_tokens`` reserves for (guard.checks._budget_unbounded)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guard.checks._budget_unbounded import DEFAULT_TOOL_USES, unbounded_inputs


def found(
    raw: dict[str, Any], *, ascii_body: bool = False, api: str = ""
) -> tuple[list[str], int] | None:
    api = api or ("openai.responses" if "input" in raw else "openai.chat")
    result = unbounded_inputs(json.loads(json.dumps(raw, ensure_ascii=ascii_body)), api)
    return None if result is None else (result.paths, result.uses)


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(parts)}]}


TEXT = {"type": "text", "text": "summarise the file"}


@pytest.mark.parametrize(
    ("part", "path"),
    [
        ({"type": "file", "file": {"file_id": "file-1"}}, "messages[0].content[1].file"),
        ({"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER"}},
         "messages[0].content[1].file"),
        ({"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}},
         "messages[0].content[1].source"),
        ({"type": "document", "source": {"type": "file", "file_id": "file_1"}},
         "messages[0].content[1].source"),
        ({"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                         "data": "JVBER"}},
         "messages[0].content[1].source"),
    ],
)  # fmt: skip
def test_documents_are_named_by_their_field(part: dict[str, Any], path: str) -> None:
    assert found(user(TEXT, part)) == ([path], 1)


def test_responses_files_and_stored_context() -> None:
    raw = {
        "previous_response_id": "resp_1",
        "input": [
            {"role": "user", "content": [
                {"type": "input_text", "text": "hi"},
                {"type": "input_file", "file_id": "file-1"},
                {"type": "input_file", "file_url": "https://x.test/b.pdf"}]},
            {"type": "item_reference", "id": "msg_1"},
        ],
    }  # fmt: skip
    assert found(raw) == (
        ["previous_response_id", "input[0].content[1].file_id",
         "input[0].content[2].file_url", "input[1]"],
        4,
    )  # fmt: skip


def test_text_documents_images_and_audio_are_bounded_by_the_body() -> None:
    raw = user(
        TEXT,
        {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                        "data": "plain"}},
        {"type": "document", "source": {"type": "content", "content": [TEXT]}},
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/cat.png"}},
        {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
        {"type": "text", "text": 'a "file" and a "document" in the text'},
    )  # fmt: skip
    assert found(raw) is None
    assert found(raw, ascii_body=True) is None


def test_a_document_inside_a_tool_result_is_found() -> None:
    raw = user({"type": "tool_result", "tool_use_id": "t1", "content": [
        {"type": "document", "source": {"type": "url", "url": "https://x.test/c.pdf"}}]})  # fmt: skip
    assert found(raw) == (["messages[0].content[0].content[0].source"], 1)


def test_a_type_spelt_with_escapes_is_found() -> None:
    body = (
        b'{"messages":[{"role":"user","content":[{"type":"fil\\u0065","file":{"file_id":"f"}}]}]}'
    )
    result = unbounded_inputs(json.loads(body), "openai.chat")
    assert result is not None and result.paths == ["messages[0].content[0].file"]


def test_anthropic_server_tools_reserve_their_max_uses() -> None:
    raw = {
        "tools": [
            {"name": "lookup", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "web_fetch_20250910", "name": "web_fetch"},
            {"type": "bash_20250124", "name": "bash"},  # run by the client
            {"type": "code_execution_20250825", "name": "code_execution"},
        ],
        "mcp_servers": [{"type": "url", "url": "https://mcp.test", "name": "m"}],
    }
    assert found(raw) == (
        ["tools[1]", "tools[2]", "tools[4]", "mcp_servers[0]"],
        3 + 3 * DEFAULT_TOOL_USES,
    )


def test_responses_tools_share_max_tool_calls() -> None:
    tools = [{"type": "function", "name": "f", "parameters": {}},
             {"type": "web_search_preview"}, {"type": "file_search", "vector_store_ids": ["v"]}]  # fmt: skip
    assert found({"input": "hi", "tools": tools}) == (
        ["tools[1]", "tools[2]"],
        2 * DEFAULT_TOOL_USES,
    )
    assert found({"input": "hi", "tools": tools, "max_tool_calls": 4}) == (
        ["tools[1]", "tools[2]"],
        4,
    )


def test_an_earlier_replys_audio_by_id_is_stored_context() -> None:
    raw = {"messages": [{"role": "user", "content": "hi"},
                        {"role": "assistant", "audio": {"id": "audio_1"}},
                        {"role": "user", "content": "again"}]}  # fmt: skip
    assert found(raw) == (["messages[1].audio"], 1)


def test_chat_web_search_options_and_plain_calls() -> None:
    assert found({"messages": [], "web_search_options": {}}) == (
        ["web_search_options"],
        DEFAULT_TOOL_USES,
    )
    plain = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
             "tools": [{"type": "function", "function": {"name": "f"}}]}  # fmt: skip
    assert found(plain) is None


def test_only_the_model_apis_are_read() -> None:
    """A wrapped function's arguments (``prompt=...``) and token counting are no model
    request: a ``prompt`` there is the text itself."""
    assert found({"prompt": "hello", "previous_response_id": "x"}, api="text") is None
    assert found({"prompt": {"id": "p"}}, api="openai.chat") is None
    assert found({"prompt": {"id": "p"}}, api="openai.responses") == (["prompt"], 1)
