"""uvicorn's supervisor pings each worker (``timeout_worker_healthcheck``, uvicorn's
default 5 s) and replaces one that does not answer in time. A worker busy with a slow,
CPU-heavy call or starting on a starved machine answered late and was killed with its
calls in flight; guardwire gives the ping ``worker_healthcheck_timeout`` (default 60 s).
"""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

from guard.proxy import _supervisor, server
from guard.proxy.config import load_config


def _settings_given(monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> dict[str, Any]:
    given: dict[str, Any] = {}
    monkeypatch.setattr(_supervisor, "run_workers", lambda _u, _app, s: given.update(s))
    config = load_config(None, env={}, overrides={"workers": 2, **overrides})
    server._run(uvicorn, config)
    # uvicorn takes the setting as given (a Config option since uvicorn 0.37).
    assert (
        uvicorn.Config("m:app", **given).timeout_worker_healthcheck
        == given["timeout_worker_healthcheck"]
    )
    return given


def test_the_worker_ping_waits_a_minute_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings_given(monkeypatch)["timeout_worker_healthcheck"] == 60


def test_the_worker_ping_timeout_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    given = _settings_given(monkeypatch, worker_healthcheck_timeout=300)
    assert given["timeout_worker_healthcheck"] == 300


def test_the_worker_ping_timeout_must_be_positive() -> None:
    from guard.errors import ConfigError

    with pytest.raises(ConfigError, match="worker_healthcheck_timeout"):
        load_config(None, env={}, overrides={"worker_healthcheck_timeout": 0})
