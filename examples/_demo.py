"""Where the examples send their calls: a real API when a key is set, else the demo model."""

from __future__ import annotations

import os
from typing import Any


def inner_transport(key_variable: str) -> Any:
    """``None`` (the network) when ``key_variable`` is set, else the offline demo model."""
    if os.environ.get(key_variable):
        return None
    from guard.demo import DemoTransport

    return DemoTransport()
