"""Which policy a call runs: key > tenant > route > model > default (issue 22)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from guard.errors import ConfigError
from guard.proxy.config import ROUTE_NAMES, load_config
from tests.e2e.fixtures import ProxyServer


def policy_file(directory: Path, name: str) -> str:
    path = directory / f"{name}.yaml"
    path.write_text(f"extends: default\nname: {name}\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def mapped(start_proxy: Callable[..., ProxyServer], tmp_path: Path) -> ProxyServer:
    names = ("p-key", "p-tenant", "p-route", "p-model", "p-default")
    files = {name: policy_file(tmp_path, name) for name in names}
    return start_proxy(
        policy=files["p-default"],
        policies={"keyed": files["p-key"], "tenanted": files["p-tenant"]},
        keys=[
            {"key": "pinned-key", "tenant": "acme", "policy": "keyed"},
            {"key": "acme-key", "tenant": "acme"},
            {"key": "other-key", "tenant": "other"},
        ],
        tenant_policies={"acme": "tenanted"},
        route_policies={"anthropic": files["p-route"]},
        model_policies={"gpt-4o*": files["p-model"], "*": files["p-default"]},
    )


def policy_of(server: ProxyServer, key: str, *, anthropic: bool = False, model: str = "m") -> str:
    if anthropic:
        path, body = "/v1/messages", {"model": model, "max_tokens": 5}
    else:
        path, body = "/v1/chat/completions", {"model": model}
    body["messages"] = [{"role": "user", "content": "hi"}]
    response = httpx.post(
        server.url + path,
        headers={"authorization": f"Bearer {key}", "x-guardwire-tenant": "acme"},
        json=body,
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.headers["x-guardwire-policy"].partition("@")[0]


def test_a_keys_own_policy_outranks_everything(mapped: ProxyServer) -> None:
    assert policy_of(mapped, "pinned-key", anthropic=True, model="gpt-4o") == "p-key"


def test_the_keys_tenant_outranks_route_and_model(mapped: ProxyServer) -> None:
    assert policy_of(mapped, "acme-key", anthropic=True, model="gpt-4o") == "p-tenant"


def test_the_route_outranks_the_model(mapped: ProxyServer) -> None:
    assert policy_of(mapped, "other-key", anthropic=True, model="gpt-4o") == "p-route"


def test_the_model_pattern_outranks_the_default(mapped: ProxyServer) -> None:
    assert policy_of(mapped, "other-key", model="gpt-4o-mini") == "p-model"
    assert policy_of(mapped, "other-key", model="llama") == "p-default"


def test_an_asserted_tenant_never_selects_a_policy(mapped: ProxyServer) -> None:
    # other-key's client says "x-guardwire-tenant: acme" (in policy_of): still not acme's.
    assert policy_of(mapped, "other-key") == "p-default"


def test_unknown_route_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown route 'openai\.embeddings'"):
        load_config(None, env={}, overrides={"route_policies": {"openai.embeddings": "default"}})


def test_route_names_are_the_guarded_formats() -> None:
    from guard import formats

    for name in ROUTE_NAMES:
        assert formats.get(name).name == name


def test_a_broken_mapped_policy_fails_at_start(tmp_path: Path) -> None:
    from guard.errors import PolicyError
    from guard.proxy.app import ProxyApp

    broken = tmp_path / "broken.yaml"
    broken.write_text("mode: enforced\n", encoding="utf-8")
    config = load_config(None, env={}, overrides={"model_policies": {"x*": str(broken)}})
    with pytest.raises(PolicyError, match="line 1"):
        ProxyApp(config)
