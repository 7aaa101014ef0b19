"""Small stateful fakes for tests: real behaviour, controlled by the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: A fixed, timezone-aware starting instant, so tests never depend on the wall clock.
EPOCH = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A `Clock` that only moves when the test moves it; always aware UTC."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._now = _aware_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` (never backward) and return the new now."""
        if delta < timedelta(0):
            raise ValueError(f"a clock does not run backward: {delta}")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment`, which must be timezone-aware."""
        self._now = _aware_utc(moment)


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the fake clock keeps aware UTC time")
    return moment.astimezone(UTC)
