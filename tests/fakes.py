"""Small stateful fakes for tests: real behaviour, controlled by the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from attrs import evolve

from application.mail import EmailMessage
from application.ports import BeatFunction
from domain.postings import JobPosting

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


class FakeKeepalive:
    """A `Keepalive` that beats only when the test calls `beat()` (from inside a handler)."""

    def __init__(self) -> None:
        self._beat: BeatFunction | None = None
        #: What each beat returned: True while the claim held, False once it was lost.
        self.beats: list[bool] = []

    @contextmanager
    def __call__(self, beat: BeatFunction) -> Iterator[None]:
        self._beat = beat
        try:
            yield
        finally:
            self._beat = None

    def beat(self) -> bool:
        """Refresh the lease of the task whose handler is running now."""
        if self._beat is None:
            raise RuntimeError("no handler is running: nothing to keep alive")
        alive = self._beat()
        self.beats.append(alive)
        return alive


class FakeMailer:
    """An EmailSender that keeps what it was given; it can be told to fail once."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_next: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.sent.append(message)


class FakeJobSource:
    """A JobSource serving postings held in memory, by source name."""

    def __init__(self, feeds: dict[str, list[JobPosting]]) -> None:
        self.feeds = feeds

    def names(self) -> list[str]:
        return list(self.feeds)

    def fetch(self, source: str, *, fetched_at: datetime) -> list[JobPosting]:
        return [evolve(p, fetched_at=fetched_at) for p in self.feeds[source]]


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the fake clock keeps aware UTC time")
    return moment.astimezone(UTC)
