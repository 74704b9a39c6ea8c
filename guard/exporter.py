"""Exposing the metrics: one process, or all workers of ``guardwire serve --workers N``.

With several workers each process counts in its own memory, so a scrape would see one
random worker. :func:`multiprocess_directory` (used by the launcher, before the workers
start) gives them prometheus-client's multiprocess mode: every worker writes its values
to files in a per-run directory, and :func:`exposed_registry` reads and sums all of
them. The directory is removed when the server stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Metric, start_http_server
from prometheus_client.registry import Collector

from guard import _buffered_values

#: prometheus-client reads this variable once, when it is first imported.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_multiprocess_registry: CollectorRegistry | None = None


@contextmanager
def multiprocess_directory() -> Iterator[str]:
    """A fresh directory for the workers' metric files, in the environment the workers
    inherit; removed (with every worker's files) on exit."""
    directory = tempfile.mkdtemp(prefix="guardwire-metrics-")
    settings = {MULTIPROCESS_ENV: directory, _buffered_values.ENV: "1"}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield directory
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(directory, ignore_errors=True)


def _multiprocess_mode() -> bool:
    # The value class is chosen at import: the variable set later (in the launcher
    # itself) does not switch an already running process to files.
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue


def exposed_registry(registry: CollectorRegistry) -> CollectorRegistry:
    """What to expose for ``registry``: the sum of every worker's files in
    multiprocess mode, else ``registry`` itself."""
    global _multiprocess_registry
    if not _multiprocess_mode():
        return registry
    with _lock:
        if _multiprocess_registry is None:
            from prometheus_client.multiprocess import MultiProcessCollector

            _multiprocess_registry = CollectorRegistry()
            # First this worker's buffered values go to its files, then all files are read.
            _multiprocess_registry.register(_FlushFirst())
            MultiProcessCollector(_multiprocess_registry)  # type: ignore[no-untyped-call]
        return _multiprocess_registry


class _FlushFirst(Collector):
    """Collects nothing; writes this process's buffered values before the files are read."""

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        _buffered_values.flush()
        return []


class MetricsServer:
    """A running metrics endpoint (``http://addr:port/metrics``); :meth:`close` stops it."""

    def __init__(self, port: int, addr: str, registry: CollectorRegistry) -> None:
        self._server, self._thread = start_http_server(port, addr, registry=registry)
        #: The bound port (the one chosen by the system when ``port`` was 0).
        self.port: int = self._server.server_port
        self.addr = addr

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(
    port: int, addr: str = "127.0.0.1", *, registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve the Prometheus exposition of ``registry`` (default: the global one, which
    ``Guard()`` uses; pass ``guard.telemetry.registry`` for ``Guard(registry=...)``) from
    a background thread. Loopback by default: metrics name policies and checks."""
    return MetricsServer(
        port, addr, exposed_registry(registry if registry is not None else REGISTRY)
    )
