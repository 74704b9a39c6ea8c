"""Hot reload of the proxy's policies (issue 22): atomic, broken files never take effect."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from guard.engine import Guard
from guard.proxy.app import ProxyApp
from guard.proxy.config import ServerConfig, load_config
from guard.proxy.policies import PolicySet
from guard.proxy.reload import PolicyReloader, ReloadSource, needs_restart
from tests.e2e.fixtures import ProxyServer

BLOCKS = """\
name: live
input:
  - check: rules
    name: words
    rules: [{{name: w, keywords: [{word}], action: block}}]
"""


def write_policy(path: Path, word: str) -> None:
    # Written aside and renamed: a reader never sees half a file.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(BLOCKS.format(word=word), encoding="utf-8")
    os.replace(temporary, path)


def write_config(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(textwrap.dedent(text), encoding="utf-8")
    os.replace(temporary, path)


Setup = tuple[ProxyServer, PolicyReloader, Path, Path]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    policy = tmp_path / "live.yaml"
    write_policy(policy, "alpha")
    config_path = tmp_path / "guardwire.yaml"
    write_config(config_path, f"policy: {policy}\nreload_interval: 0\n")
    source = ReloadSource(str(config_path))
    app = ProxyApp(load_config(str(config_path), env={}), registry=CollectorRegistry())
    reloader = app.reloader = PolicyReloader(app, source)
    server = ProxyServer(app).start()
    yield server, reloader, policy, config_path
    server.stop()


def run(reloader: PolicyReloader) -> bool:
    return asyncio.run(reloader.reload("test"))


def blocked(server: ProxyServer, text: str) -> tuple[bool, str]:
    response = httpx.post(
        server.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": text}]},
        timeout=5,
    )
    assert response.status_code in (200, 400), response.text
    return response.status_code == 400, response.headers["x-guardwire-policy"]


def sample(app: ProxyApp, name: str, labels: dict[str, str] | None = None) -> float | None:
    return app.telemetry.registry.get_sample_value(name, labels or {})


def test_a_valid_change_takes_effect_and_counts(setup: Setup) -> None:
    server, reloader, policy, _ = setup
    old_hash = server.app.guard.policy_hash
    assert blocked(server, "alpha")[0] and not blocked(server, "beta")[0]
    write_policy(policy, "beta")
    assert reloader.changed()
    assert run(reloader)
    assert not blocked(server, "alpha")[0] and blocked(server, "beta")[0]
    new_hash = server.app.guard.policy_hash
    assert new_hash != old_hash and blocked(server, "beta")[1] == f"live@{new_hash}"
    app = server.app
    assert sample(app, "guardwire_policy_reloads_total", {"result": "ok"}) == 1
    assert sample(app, "guardwire_policy_info", {"policy": "live", "hash": new_hash}) == 1
    assert sample(app, "guardwire_policy_info", {"policy": "live", "hash": old_hash}) == 0
    assert not reloader.changed()


def test_a_broken_file_keeps_the_running_policy_and_logs_file_and_line(
    setup: Setup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, reloader, policy, _ = setup
    running = server.app.guard
    policy.write_text(
        "name: live\ninput:\n  - check: rules\n    rules: [{name: w, regex: '(unclosed'}]\n"
        "# secret-looking-content-xyz\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.ERROR, logger="guardwire.proxy"):
        assert not run(reloader)
    assert server.app.guard is running
    assert blocked(server, "alpha")[0]
    message = caplog.records[-1].getMessage()
    assert str(policy) in message and "line 4" in message and "keeping the running" in message
    assert "secret-looking-content-xyz" not in message
    assert sample(server.app, "guardwire_policy_reloads_total", {"result": "error"}) == 1
    # The same broken contents are not retried on every poll; a fix is picked up.
    assert not reloader.changed()
    write_policy(policy, "gamma")
    assert reloader.changed() and run(reloader)
    assert blocked(server, "gamma")[0]


def test_a_broken_config_file_keeps_everything(setup: Setup) -> None:
    server, reloader, _, config_path = setup
    running = server.app.policies
    write_config(config_path, "policy: [not, a, string]\n")
    assert not run(reloader)
    assert server.app.policies is running


def test_a_touched_but_unchanged_file_is_not_a_change(setup: Setup) -> None:
    _, reloader, policy, _ = setup
    os.utime(policy, ns=(1, 1))
    assert not reloader.changed()


def test_settings_that_need_a_restart_are_reported_and_ignored(
    setup: Setup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, reloader, policy, config_path = setup
    write_config(config_path, f"policy: {policy}\nreload_interval: 0\nport: 9999\nworkers: 3\n")
    with caplog.at_level(logging.WARNING, logger="guardwire.proxy"):
        assert run(reloader)
    assert "port, workers need a restart" in caplog.text
    assert server.app.config.port != 9999 and server.app.config.workers == 1


def test_keys_and_maps_are_reloaded(setup: Setup, tmp_path: Path) -> None:
    server, reloader, policy, config_path = setup
    other = tmp_path / "other.yaml"
    other.write_text("extends: default\nname: other\n", encoding="utf-8")
    write_config(
        config_path,
        f"""\
        policy: {policy}
        reload_interval: 0
        keys: [{{key: k1, tenant: t1}}]
        tenant_policies: {{t1: {other}}}
        """,
    )
    assert run(reloader)
    response = httpx.post(
        server.url + "/v1/chat/completions",
        headers={"authorization": "Bearer k1"},
        json={"model": "m", "messages": [{"role": "user", "content": "alpha"}]},
        timeout=5,
    )
    assert response.status_code == 200 and response.headers["x-guardwire-policy"].startswith(
        "other@"
    )
    assert httpx.post(server.url + "/v1/chat/completions", json={}, timeout=5).status_code == 401
    # The new base file is watched too.
    assert str(other) in reloader.files()
    assert str(Path(str(policy))) in reloader.files()


def test_an_extends_base_change_is_noticed(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    write_policy(base, "alpha")
    leaf = tmp_path / "leaf.yaml"
    leaf.write_text("extends: base.yaml\nname: leaf\n", encoding="utf-8")
    config = load_config(None, env={}, overrides={"policy": str(leaf)})
    app = ProxyApp(config, registry=CollectorRegistry())
    reloader = PolicyReloader(app, ReloadSource(None, {"policy": str(leaf)}))
    write_policy(base, "beta")
    assert reloader.changed() and run(reloader)
    assert app.guard.check_input("beta").blocked and not app.guard.check_input("alpha").blocked


def test_unchanged_engines_are_kept(setup: Setup) -> None:
    server, reloader, _, _ = setup
    running = server.app.guard
    assert run(reloader)
    assert server.app.guard is running  # same source, same hash: caches and state kept


def test_a_call_in_flight_keeps_the_policy_it_started_with(
    setup: Setup,
) -> None:
    server, reloader, policy, _ = setup
    client = server.app.policies.default
    started = server.app.policies.select(client, "openai.chat", "m")
    write_policy(policy, "beta")
    assert run(reloader)
    # The engine the call holds is untouched; new calls get the new one.
    assert started.check_input("alpha").blocked
    assert (
        server.app.policies.select(server.app.policies.default, "openai.chat", "m") is not started
    )


def test_needs_restart_lists_only_non_reloadable_fields() -> None:
    running = load_config(None, env={})
    new = running.model_copy(update={"policy": "strict", "host": "0.0.0.0", "store": "memory://"})
    assert needs_restart(running, new) == ["host", "store"]


def test_sighup_request_before_start_reloads_at_start(setup: Setup) -> None:
    _, reloader, policy, _ = setup
    reloader.request()  # no loop yet: remembered
    write_policy(policy, "beta")

    async def start_and_stop() -> None:
        await reloader.start()
        await reloader.stop()

    asyncio.run(start_and_stop())
    assert reloader.app.guard.check_input("beta").blocked


def test_fixing_a_broken_new_policy_file_is_noticed(setup: Setup, tmp_path: Path) -> None:
    server, reloader, _, config_path = setup
    new_policy = tmp_path / "new.yaml"
    new_policy.write_text("mode: enforced\n", encoding="utf-8")
    write_config(config_path, f"policy: {new_policy}\nreload_interval: 0\n")
    assert reloader.changed() and not run(reloader)
    assert not reloader.changed()
    write_policy(new_policy, "delta")
    assert reloader.changed() and run(reloader)
    assert blocked(server, "delta")[0]


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        ("(unclosed-secret-xyz", "missing )"),
        ("x(?<=secret-xyz)", "look-around"),
        ("[z-a]secret-xyz", "invalid character class range"),
        ("(?P<secret-xyz", "invalid named capture group"),
        ("secret-xyz{2000}", "invalid repetition size"),
    ],
)
def test_a_regex_re2_refuses_is_named_by_rule_file_and_line_never_quoted(
    setup: Setup, caplog: pytest.LogCaptureFixture, pattern: str, kind: str
) -> None:
    """RE2's own error quotes the part of the pattern it stopped at; a pattern may hold
    a secret (a customer's token format, an internal host name), so the reload log names
    the rule, the file and the line, and the kind of error only."""
    _, reloader, policy, _ = setup
    policy.write_text(
        f"name: live\ninput:\n  - check: rules\n    rules: [{{name: w, regex: '{pattern}'}}]\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.ERROR, logger="guardwire.proxy"):
        assert not run(reloader)
    message = caplog.records[-1].getMessage()
    assert str(policy) in message and "line 4" in message and "rule 'w'" in message
    assert kind in message
    reason = message.split("rule 'w':")[1]
    quoted = [pattern[i : i + 4] for i in range(len(pattern) - 3) if pattern[i : i + 4] in reason]
    assert quoted == [], reason


def test_a_change_that_lands_while_a_reload_reads_the_files_is_not_missed(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy that writes the file again while a reload is building (after it read the
    files) must be the next poll's change: the reload remembers the files as they were
    when it read them, not as they are when it finishes."""
    server, reloader, policy, _ = setup
    build = reloader._build

    def build_then_deploy(made: list[Guard]) -> tuple[ServerConfig, PolicySet]:
        built = build(made)  # has read beta
        write_policy(policy, "gamma")
        return built

    monkeypatch.setattr(reloader, "_build", build_then_deploy)
    write_policy(policy, "beta")
    assert run(reloader)
    assert blocked(server, "beta")[0]
    assert reloader.changed(), "gamma would never be polled in"
    monkeypatch.undo()
    assert run(reloader)
    assert blocked(server, "gamma")[0]
    assert not reloader.changed()


def test_a_fix_that_lands_while_a_reload_reads_a_broken_file_is_not_missed(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, reloader, policy, _ = setup
    build = reloader._build

    def build_then_fix(made: list[Guard]) -> tuple[ServerConfig, PolicySet]:
        try:
            return build(made)
        finally:
            write_policy(policy, "gamma")

    monkeypatch.setattr(reloader, "_build", build_then_fix)
    policy.write_text("name: live\ninput:\n  - check: nosuchcheck\n", encoding="utf-8")
    assert not run(reloader)
    assert reloader.changed(), "the fix would never be polled in"


def test_a_sighup_reload_is_held_until_it_finishes(setup: Setup) -> None:
    """The loop keeps only weak references to tasks: a reload asked for by SIGHUP is
    kept by the reloader while it runs (a collection cannot drop it half-way), then let go."""
    server, reloader, policy, _ = setup
    write_policy(policy, "gamma")

    async def scenario() -> tuple[int, int]:
        await reloader.start()
        try:
            reloader.request()
            await asyncio.sleep(0)  # call_soon_threadsafe's callback starts the task
            running = len(reloader._reloads)
            gc.collect()
            await asyncio.gather(*reloader._reloads)
            await asyncio.sleep(0)  # the done callback lets it go
            return running, len(reloader._reloads)
        finally:
            await reloader.stop()

    running, left = asyncio.run(scenario())
    assert (running, left) == (1, 0)
    assert blocked(server, "gamma")[0]
