"""Aware-UTC datetimes: the only kind of time the domain accepts."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """Return `value` in UTC; refuse naive datetimes, whose meaning is a guess."""
    if value.tzinfo is UTC:  # already so: most values, and this runs for every row read
        return value
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC)


def optional_utc(value: datetime | None) -> datetime | None:
    """`utc` for optional fields."""
    return None if value is None else utc(value)
