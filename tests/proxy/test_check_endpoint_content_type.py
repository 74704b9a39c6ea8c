"""``POST /guardwire/v1/check`` reads only JSON bodies: any other declared Content-Type
is a 415 in the endpoint's error shape, never parsed as JSON anyway."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.fixtures import ProxyServer

BODY = json.dumps({"text": "hello there"}).encode()


def _post(
    server: ProxyServer, content_type: str | None, client: httpx.Client | None = None
) -> httpx.Response:
    headers = {} if content_type is None else {"content-type": content_type}
    post = client.post if client is not None else httpx.post
    return post(server.url + "/guardwire/v1/check", content=BODY, headers=headers, timeout=5)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",  # curl -d without -H
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/xml",
        "json",
    ],
)
def test_a_body_that_is_not_declared_json_is_a_415(
    demo_proxy: ProxyServer, content_type: str
) -> None:
    with httpx.Client() as client:
        response = _post(demo_proxy, content_type, client)
        # The connection stays usable: the next request on it is answered.
        assert _post(demo_proxy, "application/json", client).status_code == 200
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["type"] == "invalid_request_error"
    assert "application/json" in error["message"] and "Content-Type" in error["message"]
    assert "hello" not in response.text


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON ;charset=UTF-8",
        "application/vnd.api+json",
        None,  # no Content-Type at all: read as JSON, as before
    ],
)
def test_json_with_parameters_or_a_json_suffix_is_read(
    demo_proxy: ProxyServer, content_type: str | None
) -> None:
    response = _post(demo_proxy, content_type)
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "allow"
