"""Every script in examples/ runs and shows what its docstring promises."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.fixtures import ProxyServer

EXAMPLES = Path(__file__).parent.parent / "examples"

EXPECTED = {
    "openai_sync.py": [
        "[AWS_ACCESS_KEY]",
        "blocked: guardwire blocked",
        "typed block: ['weapons']",
    ],
    "openai_async_streaming.py": ["streamed:", "[API_KEY]"],
    "anthropic_sdk.py": [
        "[GITHUB_TOKEN]",
        "streamed:",
        "blocked:",
        "guardwire blocked this request",
    ],
    "wrap_function.py": [
        "model saw: deploy with [AWS_ACCESS_KEY] please",
        "key: [API_KEY] - keep",
        "blocked:",
        "check_input: warn",
    ],
    "proxy_client.py": ["reply:", "verdict: allow", "blocked:"],
    "agent_loop.py": [
        "step 1: the model calls get_weather",
        "step 2: the model calls get_weather",
        "stopped (agent_loop):",
    ],
}


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(
    name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    start_proxy: Callable[..., ProxyServer],
) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    if name == "proxy_client.py":
        monkeypatch.setenv("GUARDWIRE_URL", start_proxy().url)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    output = capsys.readouterr().out
    for fragment in EXPECTED[name]:
        assert fragment in output, (fragment, output)
    assert "AKIAABCDEFGHIJKLMNOP" not in output and "sk-abcdefghijklmnopqrstuvwx" not in output
