"""The check endpoint finds a policy by the path written in ``guardwire.yaml``.

Relative paths in the config file are read from its directory (anchored), and the
engines are keyed by the anchored path: ``"policy": "policies/strict.yaml"`` (as written
in the config) no longer found the policy, only its name did. The path as written, the
anchored path and the name all find it; a path the config never names still does not.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from guard.proxy import server as server_module
from guard.proxy.app import ProxyApp
from guard.proxy.config import load_config
from guard.proxy.reload import SOURCE_VARIABLE
from tests.e2e.fixtures import ProxyServer
from tests.proxy.test_app_operations import run_serve

STRICT = """\
name: strictest
input:
  - check: rules
    rules:
      - {name: marker, action: block, keywords: [zebracornflake]}
"""


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProxyServer:
    directory = tmp_path / "etc"
    (directory / "policies").mkdir(parents=True)
    (directory / "policies" / "strict.yaml").write_text(STRICT)
    (directory / "guardwire.yaml").write_text(
        "model_policies: {'gpt-strict*': policies/strict.yaml}\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(directory / "guardwire.yaml", env={})
    started = ProxyServer(ProxyApp(config, registry=CollectorRegistry())).start()
    yield started  # type: ignore[misc]
    started.stop()


def _check(server: ProxyServer, policy: str) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": "zebracornflake"}], "policy": policy}
    return httpx.post(server.url + "/guardwire/v1/check", json=body, timeout=5)


@pytest.mark.parametrize("written", ["as written", "anchored", "name"])
def test_the_policy_is_found_by_its_path_as_written_anchored_or_name(
    server: ProxyServer, written: str
) -> None:
    anchored = str(Path.cwd().parent / "etc" / "policies" / "strict.yaml")
    policy = {"as written": "policies/strict.yaml", "anchored": anchored, "name": "strictest"}
    response = _check(server, policy[written])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["action"] == "block"
    assert answer["policy"].startswith("strictest@")


def test_a_path_the_config_does_not_name_is_unknown(server: ProxyServer) -> None:
    response = _check(server, "policies/other.yaml")
    assert response.status_code == 404, response.text
    assert "no loaded policy" in response.text


def test_a_worker_finds_the_policy_by_its_path_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers get the config through the environment (JSON): the paths as written too,
    and a reload keeps them."""
    directory = tmp_path / "etc"
    (directory / "policies").mkdir(parents=True)
    (directory / "policies" / "strict.yaml").write_text(STRICT)
    config_file = directory / "guardwire.yaml"
    config_file.write_text("model_policies: {'gpt-strict*': policies/strict.yaml}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(server_module._RESOLVED, raising=False)
    monkeypatch.delenv(SOURCE_VARIABLE, raising=False)
    environment = run_serve(monkeypatch, config=str(config_file))
    monkeypatch.setenv(server_module._RESOLVED, environment[server_module._RESOLVED])
    monkeypatch.setenv(SOURCE_VARIABLE, environment[SOURCE_VARIABLE])
    hangup = signal.getsignal(signal.SIGHUP)
    try:
        app = server_module.create_app()
        assert app.policies.named("policies/strict.yaml") is not None
        assert app.reloader is not None
        config, policies = app.reloader._build([])  # what a reload would use
        assert policies.named("policies/strict.yaml") is not None
        assert config.written_paths == app.config.written_paths != {}
    finally:
        signal.signal(signal.SIGHUP, hangup)
