"""Server configuration: file, environment (wins) and command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.errors import ConfigError
from guard.proxy.config import ServerConfig, load_config


def test_defaults_serve_the_demo_model() -> None:
    config = load_config(None, env={})
    assert config.demo and config.port == 8787 and config.policy == "default"
    assert config.max_body_bytes == 4 * 1024 * 1024


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


def test_upstream_key_variable_is_picked(tmp_path: Path) -> None:
    config = load_config(
        None, env={"GUARDWIRE_UPSTREAM": "https://api.example.com", "OPENAI_API_KEY": "x"}
    )
    assert config.upstreams["default"].api_key_env == "OPENAI_API_KEY"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("port: 70000\n", "port"),
        ("upstreams:\n  a: {url: 'ftp://x'}\n", "http:// or https://"),
        ("keys:\n  - {tenant: t}\n", "exactly one of 'key'"),
        ("passthrough: maybe\n", "passthrough"),
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


def test_readme_documents_every_setting() -> None:
    import re

    from guard.checks.rules import RuleSpec
    from guard.policy import Policy
    from guard.proxy.config import ClientKey, Timeouts, UpstreamConfig

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_.]+)`", readme))
    for model in (ServerConfig, UpstreamConfig, Timeouts, ClientKey, Policy, RuleSpec):
        for name in model.model_fields:
            assert any(
                token == name or token.endswith("." + name) or token.startswith(name + ".")
                for token in documented
            ), f"{model.__name__}.{name} is missing from the README configuration reference"
