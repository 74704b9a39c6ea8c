"""The model routes read the same Content-Types the check endpoint does: JSON with or
without parameters and ``application/*+json`` types are read, anything else declared
(``application/jsonp`` too, which a prefix test let through) is a 415."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer

BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello there"}]})


def _post(server: ProxyServer, content_type: str | None) -> httpx.Response:
    headers = {} if content_type is None else {"content-type": content_type}
    return httpx.post(
        server.url + "/v1/chat/completions", content=BODY.encode(), headers=headers, timeout=5
    )


@pytest.mark.parametrize(
    "content_type", ["application/jsonp", "application/json-seq", "text/plain"]
)
def test_a_body_not_declared_json_is_a_415(demo_proxy: ProxyServer, content_type: str) -> None:
    response = _post(demo_proxy, content_type)
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "hello" not in response.text


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON ;charset=UTF-8", "application/vnd.api+json", None],
)
def test_json_with_parameters_or_a_json_suffix_is_read(
    demo_proxy: ProxyServer, content_type: str | None
) -> None:
    response = _post(demo_proxy, content_type)
    assert response.status_code == 200, response.text
