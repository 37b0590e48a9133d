"""Times as the archive records them: UTC, ISO 8601, ending in Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, *, ms: bool = False) -> str:
    """`2024-01-02T03:04:05Z` (with milliseconds if asked); a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    spec = "milliseconds" if ms else "seconds"
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 east of Greenwich, year 9999 west of it: from a stranger
        raise ValueError(f"{moment.isoformat()} cannot be written in UTC") from None
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def now() -> str:
    """The current time to the millisecond: when a hop or a fetch happened."""
    return iso(utcnow(), ms=True)


def from_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))
