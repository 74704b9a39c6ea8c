"""Paths in ``guardwire.yaml`` are relative to the file's own directory.

``guardwire serve --config /etc/guardwire/guardwire.yaml`` with ``policy: policy.yaml``
means ``/etc/guardwire/policy.yaml`` wherever the server is started, as a policy's own
``extends`` and ``keywords_file`` are relative to the policy file. Only the file's values
are anchored: environment variables and command-line options are relative to the working
directory of the shell that set them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Maps whose values are policy references (a file, a pack or a ``policies`` name).
_POLICY_MAPS = ("policies", "tenant_policies", "route_policies", "model_policies")


def anchor_config_paths(
    data: dict[str, Any], directory: Path, written: dict[str, str] | None = None
) -> dict[str, Any]:
    """``data`` (a config file's top level) with its relative file paths read from
    ``directory``: policy references, ``audit_log``, ``prices``, a ``sqlite://`` store
    and upstreams' ``ca_file``. Values of the wrong type are left for validation.

    ``written`` receives each policy path as written and its anchored path (the check
    endpoint finds a policy by either)."""
    if directory == Path("."):
        return data  # relative to the working directory already
    data = dict(data)
    names = data.get("policies")
    aliases = set(names) if isinstance(names, dict) else set()
    noted = written if written is not None else {}

    def policy_file(value: str) -> str:
        anchored = noted[value] = _policy_path(value, directory)
        return anchored

    def policy(value: Any) -> Any:
        if not isinstance(value, str) or value in aliases:
            return value
        return policy_file(value)

    if "policy" in data:
        data["policy"] = policy(data["policy"])
    for key in _POLICY_MAPS:
        if isinstance(data.get(key), dict):
            # ``policies`` values are never names of other entries.
            data[key] = {
                name: policy_file(v) if key == "policies" and isinstance(v, str)
                else policy(v)
                for name, v in data[key].items()
            }  # fmt: skip
    if isinstance(data.get("keys"), list):
        data["keys"] = [
            {**key, "policy": policy(key["policy"])}
            if isinstance(key, dict) and "policy" in key
            else key
            for key in data["keys"]
        ]
    for key in ("audit_log", "prices"):
        value = data.get(key)
        if isinstance(value, str) and value and value != "-":
            data[key] = _file(value, directory)
    store = data.get("store")
    if isinstance(store, str) and store.lower().startswith("sqlite://"):
        path = store[len("sqlite://") :]
        if path and not Path(path).is_absolute():
            data["store"] = store[: len("sqlite://")] + _file(path, directory)
    if isinstance(data.get("upstreams"), dict):
        data["upstreams"] = {
            name: {**upstream, "ca_file": _file(upstream["ca_file"], directory)}
            if isinstance(upstream, dict) and isinstance(upstream.get("ca_file"), str)
            else upstream
            for name, upstream in data["upstreams"].items()
        }
    return data


def _file(value: str, directory: Path) -> str:
    """A file path read from ``directory`` (unchanged when absolute)."""
    return value if Path(value).is_absolute() else str(directory / value)


def _policy_path(value: str, directory: Path) -> str:
    """A policy file or a shipped pack's name, as :func:`guard.policy.resolve_policy`
    reads it: a file beside the config first, else a bare name is a pack."""
    anchored = _file(value, directory)
    bare_name = Path(value).suffix == "" and "/" not in value
    if bare_name and not Path(anchored).exists():
        return value
    return anchored
