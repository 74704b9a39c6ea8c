"""Restores: put back in the reply what an input check replaced by a placeholder.

A pseudonymising check sends ``<EMAIL_ADDRESS_1>`` upstream instead of an address and
registers the pair with ``ctx.restore``; the caller's reply must carry the address
again. In a complete reply that is one substitution. In a stream a placeholder can be
split anywhere (``<EMAIL_`` | ``ADDRESS_1>``), so the restorer holds back a tail that is
still the beginning of a placeholder and releases it once it is decided. A placeholder
the model invented (never issued) is left as it is. Originals never reach a log.
"""

from __future__ import annotations

import re
from collections.abc import Hashable


class Restorer:
    """Maps issued placeholders back to their originals, in whole texts and streams."""

    __slots__ = ("_held", "_longest", "_mapping", "_pattern", "_prefixes")

    def __init__(self, mapping: dict[str, str]) -> None:
        self._mapping = dict(mapping)
        ordered = sorted(self._mapping, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(p) for p in ordered))
        #: Every proper prefix of every placeholder: what a stream tail may still become.
        self._prefixes = {p[:n] for p in ordered for n in range(1, len(p))}
        self._longest = max((len(p) for p in ordered), default=0)
        self._held: dict[Hashable, str] = {}

    def text(self, text: str) -> str:
        """``text`` with every issued placeholder replaced by its original."""
        return self._pattern.sub(self._original, text)

    def feed(self, key: Hashable, text: str) -> str:
        """Take released text of stream ``key``; return what may go to the client now."""
        buffer = self._held.pop(key, "") + text
        if not buffer:
            return ""
        last_end = 0
        for match in self._pattern.finditer(buffer):
            last_end = match.end()
        cut = len(buffer)
        for size in range(min(self._longest - 1, len(buffer) - last_end), 0, -1):
            if buffer[-size:] in self._prefixes:
                cut = len(buffer) - size
                break
        if cut < len(buffer):
            self._held[key] = buffer[cut:]
        return self.text(buffer[:cut])

    def flush(self, key: Hashable) -> str:
        """Stream ``key`` ended: what it held (a placeholder that never completed)."""
        return self._held.pop(key, "")

    def _original(self, match: re.Match[str]) -> str:
        return self._mapping[match.group()]
