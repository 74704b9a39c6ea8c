"""Wire-format registry: one module per model API, found by name or by request path."""

from __future__ import annotations

import importlib
from functools import cache

from guard.formats._patches import apply_patches
from guard.formats.base import EXTENSION, StreamFilter, WireFormat

#: format name -> (module, attribute) of its :class:`WireFormat` instance.
_MODULES = {
    "openai.chat": ("guard.formats.openai", "FORMAT"),
    "anthropic.messages": ("guard.formats.anthropic", "FORMAT"),
    "text": ("guard.formats.text", "FORMAT"),
}

#: Request path suffix -> format name. Suffixes, so that base URLs with a prefix
#: (``/openai/v1/chat/completions``) are recognised too.
_PATHS = (
    ("/chat/completions", "openai.chat"),
    ("/v1/messages", "anthropic.messages"),
)


@cache
def get(name: str) -> WireFormat:
    """The wire format called ``name``."""
    module_name, attribute = _MODULES[name]
    fmt: WireFormat = getattr(importlib.import_module(module_name), attribute)
    return fmt


def for_path(path: str) -> WireFormat | None:
    """The wire format that serves ``path`` (``POST`` endpoints), or ``None``."""
    path = path.rstrip("/")
    for suffix, name in _PATHS:
        if path.endswith(suffix):
            return get(name)
    return None


__all__ = ["EXTENSION", "StreamFilter", "WireFormat", "apply_patches", "for_path", "get"]
