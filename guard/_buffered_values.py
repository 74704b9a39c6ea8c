"""Faster metric values for multiprocess mode: counted in memory, written to the
workers' files by a background thread.

prometheus-client's multiprocess value takes a global lock, asks the kernel for the pid
and writes the mmap'd file on every increment: about 3 µs each, 20 per call. Here an
increment is an in-memory addition; a daemon thread writes changed values to the same
files every :data:`FLUSH_SECONDS`, and a scrape writes its own worker's values first.
So a scrape shows the other workers' values at most that old; the file format is
prometheus-client's, read by its ``MultiProcessCollector``.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

#: Set to ``1`` by ``guardwire serve`` for its workers: buffer the multiprocess values.
ENV = "GUARDWIRE_BUFFERED_METRICS"
#: Longest time another worker's values lag behind in a scrape.
FLUSH_SECONDS = 0.5

# Every file access (creating a value, setting a gauge, flushing) holds this lock, so
# the flush thread never writes a file while a new key grows it.
_file_lock = threading.Lock()
_dirty: set[Any] = set()
_flusher: threading.Thread | None = None


def flush() -> None:
    """Write every value changed since the last flush to this process's files."""
    with _file_lock:
        while _dirty:
            value = _dirty.pop()
            value._file.write_value(value._key, value._value, value._timestamp)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


def buffered(base: type) -> type:
    """A subclass of prometheus-client's multiprocess value class ``base`` that buffers."""

    class BufferedValue(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            global _flusher
            with _file_lock:
                super().__init__(*args, **kwargs)
                self._value_lock = threading.Lock()
                if _flusher is None:
                    _flusher = threading.Thread(
                        target=_flush_forever, name="guardwire-metrics-flush", daemon=True
                    )
                    _flusher.start()

        def inc(self, amount: float) -> None:
            with self._value_lock:  # threads of the in-process transport share values
                self._value += amount
            _dirty.add(self)

        def set(self, value: float, timestamp: float | None = None) -> None:
            with _file_lock:
                super().set(value, timestamp)

        def get(self) -> float:
            value: float = self._value
            return value

    return BufferedValue


def install() -> None:
    """Use buffered values in guardwire's own workers (the launcher sets :data:`ENV`);
    call before any metric is created. An application that set up prometheus-client's
    multiprocess mode itself keeps prometheus-client's values."""
    from prometheus_client import values

    if os.environ.get(ENV) != "1" or values.ValueClass is values.MutexValue:
        return
    if getattr(values.ValueClass, "_buffered", False):
        return
    values.ValueClass = buffered(values.ValueClass)
    values.ValueClass._buffered = True  # type: ignore[attr-defined]
    atexit.register(flush)  # a worker's last increments reach its files
