"""Instant pickup on PostgreSQL: LISTEN for enqueues on a connection of its own.

The listener wakes idle workers the moment a task is stored; the poll interval
stays as the fallback. A lost connection is re-opened (with a short backoff) and
listened on again, and `on_notify` is called once after each reconnect because
tasks may have been stored while nobody was listening.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from adapters.sql.postgres import CHANNEL

log = logging.getLogger(__name__)

#: TCP keepalives notice a dead server or network on an otherwise silent connection;
#: no query is ever sent on it after LISTEN, so no notification can hide in a reply.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
_FIRST_BACKOFF_S = 0.1
_MAX_BACKOFF_S = 5.0


class PostgresListener:
    """Calls `on_notify` from a daemon thread for every notification on `channel`."""

    def __init__(self, url: str, *, on_notify: Callable[[], None], channel: str = CHANNEL) -> None:
        self._conninfo = _conninfo(url)
        self._on_notify = on_notify
        self._channel = channel
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """True while a connection is open and LISTENing."""
        return self._listening.is_set()

    def start(self, *, ready_timeout: float = 10.0) -> None:
        """Start listening; waits up to `ready_timeout` s for the first LISTEN."""
        if self._thread is not None:
            raise RuntimeError("listener already started")
        self._stopping.clear()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="taskspool-listen", daemon=True)
        self._thread.start()
        if not self._listening.wait(ready_timeout):
            log.warning("listener not connected yet; it keeps retrying in the background")

    def stop(self) -> None:
        """Stop listening and close the connection; returns promptly."""
        if self._thread is None:
            return
        self._stopping.set()
        os.write(self._wake_w, b"x")  # interrupts the select() in _listen
        self._thread.join()
        self._thread = None
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        backoff = _FIRST_BACKOFF_S
        first = True
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._listening.set()
                    backoff = _FIRST_BACKOFF_S
                    if not first:
                        log.info("listener reconnected to channel %s", self._channel)
                        self._notify()  # tasks may have arrived while we were away
                    first = False
                    self._listen(connection)
            except (psycopg.Error, OSError) as exc:
                if self._stopping.is_set():
                    break
                log.warning("listener connection lost (%s); retrying in %.1fs", exc, backoff)
            finally:
                self._listening.clear()
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, _MAX_BACKOFF_S)

    def _listen(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([connection.fileno(), self._wake_r], [], [])
            if self._wake_r in readable:
                return
            # Readable: notifications, or the server going away (which raises here).
            for _ in connection.notifies(timeout=0):
                self._notify()

    def _notify(self) -> None:
        try:
            self._on_notify()
        except Exception:
            log.exception("on_notify callback failed")


def _conninfo(url: str) -> str:
    """A libpq URI for an SQLAlchemy URL (postgresql:// or postgresql+psycopg://)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("PostgresListener needs a postgresql:// URL")
    uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return make_conninfo(uri, connect_timeout=5, **_KEEPALIVES)
