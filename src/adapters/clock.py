"""The system clock: the one place that reads the wall time."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Aware UTC time from the operating system."""

    def now(self) -> datetime:
        return datetime.now(UTC)
