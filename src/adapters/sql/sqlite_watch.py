"""Quick pickup across processes on SQLite, which has no LISTEN/NOTIFY.

SQLite bumps `PRAGMA data_version` on a connection whenever another connection
commits a change to the file. Reading it touches only the shared-memory index, so
one watcher thread can look every few milliseconds and wake the idle worker when
another process (an API, a CLI enqueue) stored something. The poll interval stays
as the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

log = logging.getLogger(__name__)


class SqliteChangeWatcher:
    """Calls `on_change` from a daemon thread whenever another connection commits."""

    def __init__(
        self,
        engine: Engine,
        *,
        on_change: Callable[[], None],
        interval: timedelta = timedelta(milliseconds=10),
    ) -> None:
        self._engine = engine
        self._on_change = on_change
        self._seconds = interval.total_seconds()
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
            while not self._stopping.wait(self._seconds):
                try:
                    version = self._version(connection)
                except Exception:
                    log.exception("reading the SQLite data version failed; trying again")
                    continue
                if version != last:
                    last = version
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
