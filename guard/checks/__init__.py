"""Check registry: every check family is one module and one entry here.

Adding a check is adding its module (a config model with ``check: Literal[...]`` and a
class implementing :class:`~guard.checks.base.Check`) and one line in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Union

from pydantic import Field

from guard.checks.agent import AgentCheck, AgentConfig
from guard.checks.base import Check, CheckConfig, CheckContext, TextCheck
from guard.checks.grounding import GroundingCheck, GroundingConfig
from guard.checks.injection import InjectionCheck, InjectionConfig
from guard.checks.pii import PiiCheck, PiiConfig
from guard.checks.rules import RulesCheck, RulesConfig
from guard.checks.schema import SchemaCheck, SchemaConfig

#: check type -> (config model, factory building the check from its config)
REGISTRY: dict[str, tuple[type[CheckConfig], Callable[[Any], Check]]] = {
    "rules": (RulesConfig, RulesCheck),
    "pii": (PiiConfig, PiiCheck),
    "schema": (SchemaConfig, SchemaCheck),
    "grounding": (GroundingConfig, GroundingCheck),
    "agent": (AgentConfig, AgentCheck),
    "injection": (InjectionConfig, InjectionCheck),
}

_configs = tuple(config for config, _ in REGISTRY.values())
#: The policy field type of one check entry (a union discriminated by ``check``).
AnyCheckConfig: Any = (
    Annotated[Union[_configs], Field(discriminator="check")]  # noqa: UP007
    if len(_configs) > 1
    else _configs[0]
)


def build_check(config: CheckConfig) -> Check:
    """Build the check object for one validated policy entry."""
    check_type: str = getattr(config, "check")  # noqa: B009
    return REGISTRY[check_type][1](config)


__all__ = [
    "REGISTRY",
    "AnyCheckConfig",
    "Check",
    "CheckConfig",
    "CheckContext",
    "TextCheck",
    "build_check",
]
