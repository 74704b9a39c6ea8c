"""Where audit lines go: a file, standard output (``-``) or any callable.

A file sink appends one whole line per ``write`` system call on a file opened with
``O_APPEND``, so lines from several threads or worker processes never interleave, and
each line is in the file when ``record`` returns (nothing sits in a buffer when a
process dies). It does not create missing directories: an audit path in a directory
that does not exist is almost always a typo or an unmounted volume, and silently
creating it would write the audit trail somewhere nobody looks.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from guard.errors import ConfigError


class Sink(Protocol):
    """Receives rendered lines (without the newline)."""

    def write(self, line: str) -> None:
        """Deliver one line."""

    def close(self) -> None:
        """Flush and release what the sink holds; idempotent."""


class FileSink:
    """Append lines to a JSON-lines file; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd = self._open()

    def _open(self) -> int:
        directory = self.path.parent
        if not directory.is_dir():
            raise ConfigError(
                f"the audit log directory {directory} does not exist; create it or set"
                " audit_log to a path in an existing directory"
            )
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except IsADirectoryError:
            raise ConfigError(
                f"the audit log path {self.path} is a directory; name a file in it"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"the audit log {self.path} cannot be opened for writing"
                f" ({exc.strerror or type(exc).__name__}); fix its permissions or choose"
                " another path"
            ) from None

    def write(self, line: str) -> None:
        """Append ``line`` and a newline in one system call."""
        data = (line + "\n").encode("utf-8")
        with self._lock:
            if self._fd < 0:
                raise ValueError("the audit log is closed")
            view = memoryview(data)
            while view:  # a regular file takes it all at once; loop for the rare short write
                view = view[os.write(self._fd, view) :]

    def reopen(self) -> None:
        """Start a new file at the same path (after log rotation moved the old one)."""
        with self._lock:
            fd = self._open()
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = fd

    def close(self) -> None:
        """Close the file; idempotent."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


class StreamSink:
    """Write lines to a text stream (standard output for ``-``), flushed per line."""

    def __init__(self) -> None:
        # sys.stdout is looked up per line, so a redirected stdout is honoured.
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        """Write and flush one line."""
        with self._lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def close(self) -> None:
        """Flush standard output (never close it)."""
        with self._lock:
            sys.stdout.flush()


class CallableSink:
    """Hand each line to a function (an OTLP exporter, a queue, a test's list)."""

    def __init__(self, deliver: Callable[[str], None]) -> None:
        self._deliver = deliver

    def write(self, line: str) -> None:
        """Call the function with the line."""
        self._deliver(line)

    def close(self) -> None:
        """Nothing to release."""


def open_sink(target: str | Path | Callable[[str], None] | Sink) -> Sink:
    """A sink for a file path, ``"-"`` (standard output), a callable or a sink."""
    if isinstance(target, str | Path):
        return StreamSink() if str(target) == "-" else FileSink(target)
    if hasattr(target, "write") and hasattr(target, "close"):
        return target  # already a sink
    return CallableSink(target)
