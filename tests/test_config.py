"""Server configuration: file, environment (wins) and command-line overrides."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from guard.errors import ConfigError
from guard.proxy.config import ServerConfig, load_config


def test_defaults_serve_the_demo_model() -> None:
    config = load_config(None, env={})
    assert config.demo and config.port == 8787 and config.policy == "default"
    # One large image must fit (OpenAI accepts 20 MB images).
    assert config.max_body_bytes == 32 * 1024 * 1024
    assert config.passthrough == ["GET /v1/models"]


def test_environment_wins_over_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("port: 9000\nhost: 0.0.0.0\nupstreams:\n  a: {url: 'http://x:1'}\n")
    config = load_config(
        path, env={"GUARDWIRE_PORT": "9100", "GUARDWIRE_UPSTREAM": "http://y:2/v1"}
    )
    assert config.port == 9100 and config.host == "0.0.0.0"
    assert (
        list(config.upstreams) == ["default"] and config.upstreams["default"].url == "http://y:2/v1"
    )


def test_command_line_overrides_win(tmp_path: Path) -> None:
    config = load_config(
        None, env={"GUARDWIRE_PORT": "9100"}, overrides={"port": 9200, "upstream": "http://z:3"}
    )
    assert config.port == 9200 and not config.demo


def test_upstream_key_variable_is_picked_per_api(tmp_path: Path) -> None:
    config = load_config(
        None, env={"GUARDWIRE_UPSTREAM": "https://api.example.com", "OPENAI_API_KEY": "x"}
    )
    assert config.upstreams["default"].api_key_env == {"openai": "OPENAI_API_KEY"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GUARDWIRE_UPSTREAM_KEY": "k", "OPENAI_API_KEY": "o"}, "GUARDWIRE_UPSTREAM_KEY"),
        ({"GUARDWIRE_UPSTREAM_KEY_ENV": "MY_KEY", "OPENAI_API_KEY": "o"}, "MY_KEY"),
        (
            {"OPENAI_API_KEY": "o", "ANTHROPIC_API_KEY": "a"},
            {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"},
        ),
        ({"ANTHROPIC_API_KEY": "a"}, {"anthropic": "ANTHROPIC_API_KEY"}),
        ({}, None),
    ],
)
def test_simple_upstream_key_choice(env: dict[str, str], expected: object) -> None:
    config = load_config(None, env=env, overrides={"upstream": "http://127.0.0.1:9"})
    assert config.upstreams["default"].api_key_env == expected


def test_per_api_keys_never_fall_back_to_the_other_provider() -> None:
    config = load_config(
        None,
        env={"OPENAI_API_KEY": "sk-o"},
        overrides={"upstream": "http://127.0.0.1:9"},
    )
    upstream = config.upstreams["default"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", "sk-o")
        assert upstream.api_key("openai") == "sk-o"
        assert upstream.api_key("anthropic") is None


@pytest.mark.parametrize("old", ["forward", "404"])
def test_old_passthrough_values_explain_the_new_form(old: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"GUARDWIRE_PASSTHROUGH": old})
    message = str(caught.value)
    assert "passthrough" in message and "GET /v1/models" in message and "no longer" in message


def test_passthrough_from_the_environment_is_comma_separated() -> None:
    config = load_config(None, env={"GUARDWIRE_PASSTHROUGH": "GET /v1/models, GET /v1/files/*"})
    assert config.passthrough == ["GET /v1/models", "GET /v1/files/*"]
    assert load_config(None, env={"GUARDWIRE_PASSTHROUGH": ""}).passthrough == []


@pytest.mark.parametrize(
    "entry", ["get /v1/models", "GET v1/models", "GET /v1/../admin", "GET /v1/a%2Fb", "GET /v1/a*"]
)
def test_bad_passthrough_entries_are_config_errors(entry: str) -> None:
    with pytest.raises(ConfigError, match="passthrough"):
        load_config(None, env={}, overrides={"passthrough": [entry]})


def test_userinfo_in_an_upstream_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={}, overrides={"upstream": "https://user:hunter2@api.example.com"})
    assert "user:password@" in str(caught.value) and "hunter2" not in str(caught.value)


def test_forwarding_client_auth_with_keys_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="forward_client_auth"):
        load_config(
            None,
            env={},
            overrides={"forward_client_auth": True, "keys": [{"key": "k", "tenant": "a"}]},
        )


def test_workers_receive_key_digests_only() -> None:
    """D19: the config handed to workers must not carry raw client keys."""
    config = load_config(
        None,
        env={"TEAM_B_KEY": "team-b-raw-key"},
        overrides={
            "keys": [
                {"key": "team-a-raw-key", "tenant": "a"},
                {"key_env": "TEAM_B_KEY", "tenant": "b"},
            ]
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEAM_B_KEY", "team-b-raw-key")
        exported = config.for_workers()
    dumped = exported.model_dump_json()
    assert "team-a-raw-key" not in dumped and "team-b-raw-key" not in dumped
    assert [key.digest() for key in exported.keys] == [
        hashlib.sha256(b"team-a-raw-key").hexdigest(),
        hashlib.sha256(b"team-b-raw-key").hexdigest(),
    ]
    assert [key.tenant for key in exported.keys] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("port: 70000\n", "port"),
        ("upstreams:\n  a: {url: 'ftp://x'}\n", "http:// or https://"),
        ("keys:\n  - {tenant: t}\n", "exactly one of 'key'"),
        ("passthrough: maybe\n", "passthrough"),
        ("passthrough: forward\n", "no longer supported"),
        ("bogus: 1\n", "bogus"),
        ("port: [\n", "YAML syntax error"),
    ],
)
def test_bad_config_files_are_clear(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert fragment in str(caught.value) and str(path) in str(caught.value)


def test_missing_config_file() -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config("/nonexistent/guardwire.yaml", env={})


#: Settings whose README rows were written but not pasted yet (helpers may not edit the
#: README; the lead pastes the text from the branch report and empties this set).
_README_TEXT_PENDING: set[str] = set()


def test_readme_documents_every_setting() -> None:
    import re

    from guard.checks.rules import RuleSpec
    from guard.policy import Policy
    from guard.proxy.config import ClientKey, Timeouts, UpstreamConfig

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_.]+)`", readme)) | _README_TEXT_PENDING
    for model in (ServerConfig, UpstreamConfig, Timeouts, ClientKey, Policy, RuleSpec):
        for name in model.model_fields:
            assert any(
                token == name or token.endswith("." + name) or token.startswith(name + ".")
                for token in documented
            ), f"{model.__name__}.{name} is missing from the README configuration reference"


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("workers: true\n", "workers"),
        ("max_connections: false\n", "max_connections"),
        ("body_timeout: true\n", "body_timeout"),
    ],
)
def test_a_boolean_where_the_server_config_takes_a_number_is_an_error(
    tmp_path: Path, yaml_text: str, key: str
) -> None:
    """pydantic's lax mode would read ``workers: true`` as 1 worker: the server config,
    like a policy, refuses a boolean where a number is expected, naming key and line."""
    path = tmp_path / "guardwire.yaml"
    path.write_text("# config\n" + yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert "boolean" in message and key in message and "invalid config" in message, message
    assert "line 2" in message or ":2" in message or "line 3" in message, message
