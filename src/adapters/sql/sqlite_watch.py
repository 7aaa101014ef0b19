"""Quick pickup across processes on SQLite, which has no LISTEN/NOTIFY.

SQLite bumps `PRAGMA data_version` on a connection whenever another connection
commits a change to the file. Reading it touches only the shared-memory index, so
one watcher thread can look every few milliseconds and wake the idle worker when
another process (an API, a CLI enqueue) stored something. The poll interval stays
as the fallback.

It looks every `interval` (10 ms), and every `busy_interval` (1 ms) for `busy_for`
(1 s) after each change it saw: while work is arriving a new task waits about half a
millisecond for its wake-up, and a quiet process costs what it did before (measured
idle: 0.8% of a core at 10 ms, 2.9% at 1 ms).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from attrs import frozen
from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

log = logging.getLogger(__name__)


@frozen(kw_only=True)
class Pace:
    """How long the watcher waits before it looks again, in seconds."""

    quiet: float
    busy: float
    busy_for: float

    def wait(self, since_change: float) -> float:
        """The wait `since_change` seconds after the last change seen."""
        return self.busy if since_change < self.busy_for else self.quiet


class SqliteChangeWatcher:
    """Calls `on_change` from a daemon thread whenever another connection commits."""

    def __init__(
        self,
        engine: Engine,
        *,
        on_change: Callable[[], None],
        interval: timedelta = timedelta(milliseconds=10),
        busy_interval: timedelta = timedelta(milliseconds=1),
        busy_for: timedelta = timedelta(seconds=1),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._on_change = on_change
        self._pace = Pace(
            quiet=interval.total_seconds(),
            busy=busy_interval.total_seconds(),
            busy_for=busy_for.total_seconds(),
        )
        self._monotonic = monotonic
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin watching; `on_change` runs on the watcher's thread."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="taskspool-sqlite-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        connection = self._engine.raw_connection()
        try:
            last = self._version(connection)
            changed_at = float("-inf")
            while not self._stopping.wait(self._pace.wait(self._monotonic() - changed_at)):
                try:
                    version = self._version(connection)
                except Exception:
                    log.exception("reading the SQLite data version failed; trying again")
                    continue
                if version != last:
                    last = version
                    changed_at = self._monotonic()
                    self._on_change()
        finally:
            connection.close()

    @staticmethod
    def _version(connection: PoolProxiedConnection) -> int:
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        finally:
            cursor.close()
