"""What the Redis store promises beyond the shared contract: keys expire natively with
their windows (garbage collection only), and keys live under the URL's prefix."""

from __future__ import annotations

import redis

from guard.stores import open_store
from guard.stores._redis_ops import split_url
from tests.redis_server import fresh_url


async def test_keys_expire_with_their_windows_under_the_prefix() -> None:
    url = fresh_url()
    store = open_store(url)
    await store.open()
    try:
        await store.incr("window", 1, ttl=60)
        await store.incr("forever", 1)
        held = await store.reserve("budget", 5, limit=10, ttl=3600, hold=30)
        assert held is not None
        lease = await store.reserve("leased", 5, limit=10, ttl=3600, hold=900)
        assert lease is not None
        await store.settle(lease, 3, spent_total=3)  # its final write: marked a minute
        plain, prefix = split_url(url)
        client = redis.Redis.from_url(plain)
        try:
            keys = {k.decode() for k in client.keys("*") if k.decode().startswith(prefix)}
            assert {prefix + "c:window", prefix + "c:forever", prefix + "h:budget"} <= keys
            # Logical expiry plus a grace minute, never before the server's own clock.
            assert 60_000 < client.pttl(prefix + "c:window") <= 121_000
            assert client.pttl(prefix + "c:forever") == -1
            assert 30_000 < client.pttl(prefix + "h:budget") <= 91_000
            assert 60_000 < client.pttl(prefix + "s:leased") <= 121_000
        finally:
            client.close()
    finally:
        await store.close()


def test_the_prefix_option_is_not_passed_to_the_driver() -> None:
    plain, prefix = split_url("redis://cache:6379/2?prefix=team-a:&health_check_interval=5")
    assert plain == "redis://cache:6379/2?health_check_interval=5" and prefix == "team-a:"
    assert split_url("redis://cache:6379/0") == ("redis://cache:6379/0", "guardwire:")
