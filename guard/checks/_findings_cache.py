"""A bounded LRU of a text check's findings per text, for re-sent conversations.

Agents resend their whole history on every call; a text check whose findings depend
only on the text (and its own configuration) keeps them per message, keyed by a
128-bit BLAKE2b digest of the text (no text is kept), so the history costs one digest
per message the second time and only new messages are scanned. Whole-conversation
caching falls out of this: a prefix already seen is a run of cache hits, and a
truncated or reordered history still hits.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from threading import Lock

from guard.types import Finding

#: Texts remembered per check: ~100 bytes each plus the findings.
DEFAULT_SIZE = 4096


class FindingsCache:
    """Findings of ``scan`` per text digest, least recently used dropped first."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, tuple[Finding, ...]] = OrderedDict()
        self._lock = Lock()
        #: Texts answered from the cache / scanned (for tests and benchmarks).
        self.hits = 0
        self.misses = 0

    def findings(self, text: str, scan: Callable[[str], Sequence[Finding]]) -> tuple[Finding, ...]:
        """``scan(text)``, or its remembered result for the same text."""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            known = self._entries.get(key)
            if known is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return known
        found = tuple(scan(text))
        with self._lock:
            self.misses += 1
            self._entries[key] = found
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return found
