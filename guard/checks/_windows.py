"""Budget windows (calendar minute, hour, day, month; UTC unless a time zone is given)
and the store keys of one budget's counters."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

#: A window's counters are kept this long after the window ends (only garbage
#: collection: the window id is part of the key, so a new window starts from zero).
GRACE_SECONDS = 3600.0


def window_bounds(window: str, now: float, tz: str | None) -> tuple[str, float | None]:
    """The id of the window ``now`` falls in and when it resets (``None``: never)."""
    if window == "none":
        return "all", None
    zone: tzinfo = ZoneInfo(tz) if tz else UTC
    moment = datetime.fromtimestamp(now, zone)
    if window == "minute":
        start = moment.replace(second=0, microsecond=0)
        end = start + timedelta(minutes=1)
    elif window == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1)
    elif window == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = _local_midnight(start.date() + timedelta(days=1), zone)
    else:  # month
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        first = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        end = _local_midnight(first.date(), zone)
    return start.strftime("%Y%m%dT%H%M"), end.timestamp()


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    # Midnight of ``day`` in the zone (daylight-saving changes make days 23 or 25 hours).
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def scope_value(value: str | None) -> str:
    """A short, value-free stand-in for an identity (tenant, session, key id) in keys:
    identities may be client-chosen strings, which never reach the store as given."""
    if not value:
        return "-"
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def counter_key(budget: str, scope: str, window: str, unit: str) -> str:
    """The store key of one counter of one budget: ``gw:budget:<name>:<scope>:<window>:<unit>``."""
    return f"gw:budget:{budget}:{scope}:{window}:{unit}"


def key_prefix(budget: str) -> str:
    """The prefix of every key of ``budget`` (for listing and resetting)."""
    return f"gw:budget:{budget}:"
