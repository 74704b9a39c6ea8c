"""Paths in ``guardwire.yaml`` are read relative to the config file's directory, not the
working directory: ``guardwire serve --config /etc/guardwire/guardwire.yaml`` with
``policy: policy.yaml`` reads ``/etc/guardwire/policy.yaml`` from wherever it is started.

Absolute paths, shipped pack names (``strict``), ``policies:`` names, non-file stores and
values from the environment or the command line are left as they are (those are
relative to the working directory, where the shell that set them is).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.policy import resolve_policy
from guard.proxy.config import load_config

CONFIG = """\
policy: policies/main.yaml
policies:
  team: policies/team.yaml
  packed: strict
tenant_policies: {acme: team, other: policies/other.yaml}
route_policies: {anthropic: agents}
model_policies: {"gpt-4o*": policies/model.yaml}
keys:
  - {key: k1, tenant: acme, policy: policies/key.yaml}
  - {key: k2, policy: team}
audit_log: logs/audit.jsonl
store: sqlite://state/guardwire.db
prices: prices.yaml
upstreams:
  default: {url: "https://api.openai.com", ca_file: certs/ca.pem}
"""


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config directory with its files, and a working directory elsewhere."""
    directory = tmp_path / "etc" / "guardwire"
    for name in ("main", "team", "other", "model", "key"):
        (directory / "policies").mkdir(parents=True, exist_ok=True)
        (directory / "policies" / f"{name}.yaml").write_text(f"name: {name}\ninput: []\n")
    (directory / "certs").mkdir()
    (directory / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (directory / "guardwire.yaml").write_text(CONFIG)
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    return directory


def test_paths_in_the_config_file_are_read_from_its_directory(config_dir: Path) -> None:
    config = load_config(config_dir / "guardwire.yaml", env={})
    here = str(config_dir)
    assert config.policy == f"{here}/policies/main.yaml"
    assert config.policies == {"team": f"{here}/policies/team.yaml", "packed": "strict"}
    assert config.tenant_policies == {"acme": "team", "other": f"{here}/policies/other.yaml"}
    assert config.route_policies == {"anthropic": "agents"}
    assert config.model_policies == {"gpt-4o*": f"{here}/policies/model.yaml"}
    assert [k.policy for k in config.keys] == [f"{here}/policies/key.yaml", "team"]
    assert config.audit_log == f"{here}/logs/audit.jsonl"
    assert config.store == f"sqlite://{here}/state/guardwire.db"
    assert config.prices == f"{here}/prices.yaml"
    assert config.upstreams["default"].ca_file == f"{here}/certs/ca.pem"
    # And they load from this other working directory.
    assert resolve_policy(config.policy).name == "main"
    assert resolve_policy(config.model_policies["gpt-4o*"]).name == "model"


def test_absolute_paths_packs_and_other_stores_are_unchanged(config_dir: Path) -> None:
    main = config_dir / "policies" / "main.yaml"
    (config_dir / "guardwire.yaml").write_text(
        f"policy: {main}\nstore: redis://localhost:6379/0\naudit_log: '-'\n"
        "policies: {s: strict, m: memory}\n"
    )
    config = load_config(config_dir / "guardwire.yaml", env={})
    assert config.policy == str(main)
    assert config.store == "redis://localhost:6379/0"
    assert config.audit_log == "-"
    assert config.policies == {"s": "strict", "m": "memory"}
    (config_dir / "guardwire.yaml").write_text("store: 'sqlite:///var/lib/state.db'\n")
    assert load_config(config_dir / "guardwire.yaml", env={}).store == "sqlite:///var/lib/state.db"


def test_a_pack_name_with_a_file_of_that_name_beside_the_config_is_the_file(
    config_dir: Path,
) -> None:
    """As ``resolve_policy`` reads a name: an existing file first, then a shipped pack."""
    (config_dir / "strict").write_text("name: local\ninput: []\n")
    (config_dir / "guardwire.yaml").write_text("policy: strict\n")
    config = load_config(config_dir / "guardwire.yaml", env={})
    assert resolve_policy(config.policy).name == "local"


def test_environment_and_command_line_values_stay_relative_to_the_working_directory(
    config_dir: Path,
) -> None:
    env = {"GUARDWIRE_POLICY": "mine.yaml", "GUARDWIRE_AUDIT_LOG": "audit.jsonl"}
    config = load_config(config_dir / "guardwire.yaml", env=env, overrides={"prices": "p.yaml"})
    assert (config.policy, config.audit_log, config.prices) == (
        "mine.yaml",
        "audit.jsonl",
        "p.yaml",
    )
    # Unset: the default store stays in the working directory, as documented.
    (config_dir / "guardwire.yaml").write_text("port: 9000\n")
    assert load_config(config_dir / "guardwire.yaml", env={}).store == "sqlite://guardwire-state.db"
