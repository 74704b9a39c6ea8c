"""State stores for budgets and agent limits: :func:`open_store` picks one from a URL.

``memory://`` keeps state in this process; ``sqlite:///var/lib/guardwire/state.db`` (an
absolute path after the three slashes) or ``sqlite://state.db`` (relative to the working
directory) keeps it in a file shared by every worker process; ``redis://host:6379/0``
(``?prefix=name:`` for a key prefix) keeps it in Redis, shared by many replicas. The
store is returned unopened: call ``await store.open()`` (or ``store.sync.open()``) at
start-up and ``close()`` at shutdown.
"""

from __future__ import annotations

import os
from pathlib import Path

from guard.errors import ConfigError
from guard.stores.base import (
    Clock,
    Reservation,
    Scalar,
    Store,
    StoredValue,
    StoreError,
    SyncStore,
    wall_clock,
)
from guard.stores.memory import MemoryStore
from guard.stores.sqlite import SQLiteStore

__all__ = [
    "MemoryStore",
    "Reservation",
    "SQLiteStore",
    "Scalar",
    "Store",
    "StoreError",
    "StoredValue",
    "SyncStore",
    "open_store",
]

_HELP = (
    "use memory://, sqlite:///absolute/path/state.db (sqlite://relative.db) or redis://host:6379/0"
)


def open_store(url: str, *, clock: Clock = wall_clock) -> Store:
    """Build the store a URL names; raise :class:`ConfigError` for a bad URL or a path
    that cannot be written. The URL is never echoed whole (a Redis URL may hold a
    password): messages name the scheme or the file path only."""
    scheme, separator, rest = url.partition(":")
    if not separator:
        raise ConfigError(f"the state store URL has no scheme; {_HELP}")
    scheme = scheme.lower()
    if scheme == "memory":
        if rest not in ("", "//"):
            raise ConfigError(f"a memory:// state store takes no path or options; {_HELP}")
        return MemoryStore(clock)
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(rest), clock)
    if scheme in ("redis", "rediss"):
        from guard.stores.redis import RedisStore

        if not rest.startswith("//"):
            raise ConfigError(f"a {scheme} state store URL looks like {scheme}://host:6379/0")
        return RedisStore(url, clock)
    raise ConfigError(f"unknown state store scheme '{scheme[:20]}'; {_HELP}")


def _sqlite_path(rest: str) -> Path:
    """The database path of ``sqlite://<path>``, checked to be creatable and writable."""
    if not rest.startswith("//") or not rest[2:]:
        raise ConfigError(f"a sqlite state store URL needs a file path; {_HELP}")
    if "?" in rest:
        raise ConfigError("a sqlite state store URL takes no ?options; remove them")
    path = Path(rest[2:])
    directory = path.parent
    if path.is_dir():
        raise ConfigError(f"the state store path {path} is a directory; name a file in it")
    if not directory.is_dir():
        raise ConfigError(
            f"the state store directory {directory} does not exist; create it (guardwire"
            " does not create directories, so a mistyped or unmounted path is noticed)"
        )
    # SQLite creates the -wal and -shm files next to the database: the directory itself
    # must be writable, not only the file.
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the state store directory {directory} is not writable by this user;"
            " fix its permissions or choose another path"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ConfigError(
            f"the state store file {path} is not readable and writable by this user;"
            " fix its permissions or choose another path"
        )
    return path
