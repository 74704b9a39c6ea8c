"""``httpx`` and, when installed, ``httpx2``: the fork newer OpenAI/Anthropic SDKs use.

Transports and byte streams subclass the base classes of every package here and answer
with the package of the request they receive, so one object serves both kinds of client.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from types import ModuleType
from typing import Any

import httpx


def _packages() -> tuple[ModuleType, ...]:
    modules = [httpx]
    with contextlib.suppress(ImportError):
        modules.append(importlib.import_module("httpx2"))
    return tuple(modules)


PACKAGES = _packages()
SYNC_TRANSPORTS: tuple[type, ...] = tuple(m.BaseTransport for m in PACKAGES)
ASYNC_TRANSPORTS: tuple[type, ...] = tuple(m.AsyncBaseTransport for m in PACKAGES)
SYNC_STREAMS: tuple[type, ...] = tuple(m.SyncByteStream for m in PACKAGES)
ASYNC_STREAMS: tuple[type, ...] = tuple(m.AsyncByteStream for m in PACKAGES)
TRANSPORT_ERRORS: tuple[type[Exception], ...] = tuple(m.TransportError for m in PACKAGES)


def package_of(request: Any) -> Any:
    """The package (``httpx`` or ``httpx2``) whose types ``request`` uses."""
    return sys.modules[type(request).__module__.partition(".")[0]]
