"""open_store: URLs to stores, and one clear sentence for every bad URL or path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from guard.errors import ConfigError
from guard.stores import MemoryStore, SQLiteStore, StoreError, open_store


def test_memory_and_sqlite_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    assert isinstance(open_store("memory:"), MemoryStore)
    absolute = open_store(f"sqlite://{tmp_path}/state.db")
    assert isinstance(absolute, SQLiteStore) and absolute.path == tmp_path / "state.db"
    assert open_store(f"sqlite://{tmp_path}/state.db").kind == "sqlite"


def test_a_relative_sqlite_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite://state.db")
    assert isinstance(store, SQLiteStore) and store.path == Path("state.db")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("state.db", "has no scheme"),
        ("postgres://db/guard", "unknown state store scheme 'postgres'"),
        ("memory://somewhere", "takes no path"),
        ("sqlite://", "needs a file path"),
        ("sqlite:state.db", "needs a file path"),
        ("sqlite:///tmp/state.db?mode=ro", "takes no ?options"),
    ],
)
def test_bad_urls_are_one_clear_config_error(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)) as caught:
        open_store(url)
    assert "\n" not in str(caught.value)


async def test_an_unreachable_redis_is_a_store_error_without_the_url() -> None:
    # Port 1 on loopback: refused at once. Neither the password nor the host is echoed.
    store = open_store("redis://:hunter2-password@127.0.0.1:1/0")
    assert store.kind == "redis"
    with pytest.raises(StoreError, match="redis state store failed") as caught:
        await store.open()
    assert "hunter2" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    with pytest.raises(ConfigError, match="redis://host:6379/0") as bad:
        open_store("redis:cache")
    assert "cache" not in str(bad.value)


def test_a_missing_directory_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(ConfigError, match="does not exist; create it") as caught:
        open_store(f"sqlite://{missing}/state.db")
    assert str(missing) in str(caught.value)
    assert not missing.exists()


def test_a_directory_given_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        open_store(f"sqlite://{tmp_path}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any directory")
def test_an_unwritable_directory_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="is not writable") as caught:
        open_store(f"sqlite://{locked}/state.db")
    assert str(locked) in str(caught.value)
