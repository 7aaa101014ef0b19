"""Small stateful fakes shared by the tests. Ports get fakes like these, never Mock(spec=...)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

#: A fixed, timezone-aware start for fake time.
EPOCH = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A `Clock` that stands still until a test moves it."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` and return the new now."""
        with self._lock:
            self._now += delta
            return self._now
