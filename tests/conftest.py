"""Shared fixtures: policies built from YAML snippets, isolated metric registries."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from guard import Guard, Policy


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry, so metric assertions do not see other tests' traffic."""
    return CollectorRegistry()


@pytest.fixture
def make_guard(registry: CollectorRegistry) -> Callable[..., Guard]:
    """Build a Guard from a YAML policy snippet (dedented) on the test's registry."""

    def build(policy_yaml: str | None = None, **kwargs: object) -> Guard:
        policy = None if policy_yaml is None else Policy.from_yaml(textwrap.dedent(policy_yaml))
        return Guard(policy, registry=registry, **kwargs)  # type: ignore[arg-type]

    return build


# End-to-end fixtures (proxy servers, fake upstream) are shared by tests/e2e and the
# examples test.
from tests.e2e.fixtures import (  # noqa: E402
    demo_proxy,
    fake_upstream,
    start_proxy,
    upstream_proxy,
)

__all__ = ["demo_proxy", "fake_upstream", "start_proxy", "upstream_proxy"]
