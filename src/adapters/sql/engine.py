"""Engines for the two supported databases, configured for many threads and processes.

SQLite gets WAL (readers never block the writer), a busy timeout (writers queue
instead of failing), and SQLAlchemy's own BEGIN: pysqlite's implicit transactions
are switched off so that a write transaction can start with ``BEGIN IMMEDIATE``
and take the write lock up front. A deferred transaction that reads and then
writes can fail at once with 'database is locked' (SQLITE_BUSY_SNAPSHOT) without
ever consulting the busy timeout; an immediate one waits its turn.
"""

from __future__ import annotations

import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from adapters.sql import json_text

#: Seconds a SQLite connection waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0
#: A pooled PostgreSQL connection idle for longer than this is pinged before use.
PING_AFTER_IDLE_S = 1.0
_CHECKED_IN_AT = "taskspool_checked_in_at"
#: The execution option that makes a SQLite transaction begin IMMEDIATE.
_BEGIN_OPTION = "taskspool_sqlite_begin"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """An engine for `url` (``sqlite:///path``, ``postgresql://`` or ``postgresql+psycopg://``)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size=pool_size, max_overflow=max_overflow)
    return _postgres_engine(parsed, pool_size=pool_size, max_overflow=max_overflow)


def writer(engine: Engine) -> Engine:
    """`engine`, with transactions that take SQLite's write lock as they begin.

    On PostgreSQL the option is ignored: row locks do that job there.
    """
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {_redacted(url)!r}") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError(
                "a SQLite URL needs a file path, such as sqlite:///path/to/taskspool.db"
            )
        return parsed
    if backend == "postgresql" and driver in ("psycopg2", "psycopg"):
        # A bare postgresql:// means psycopg 3 here, not SQLAlchemy's psycopg2 default.
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path/to/file.db, postgresql://... or postgresql+psycopg://..."
    )


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***" if "@" in rest else url


def _sqlite_engine(url: URL, *, pool_size: int, max_overflow: int) -> Engine:
    assert url.database is not None
    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        json_serializer=json_text.encode,
        json_deserializer=json_text.decode,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _: Any) -> None:
    # Hand transaction control to SQLAlchemy (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power loss
        # may drop the last commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _postgres_engine(url: URL, *, pool_size: int, max_overflow: int) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=30,
        # Servers and proxies drop idle connections; recycle before they do.
        pool_recycle=1800,
        # psycopg decodes json and jsonb with this (the dialect installs it as the
        # driver's loader): half the cost of `json.loads`, which claims pay per row.
        json_deserializer=json_text.decode,
        # Core's writes (a single rewrite, a heartbeat) encode as the hot path does.
        json_serializer=json_text.encode,
    )
    event.listen(engine, "connect", _configure_postgres_connection)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


def _configure_postgres_connection(dbapi_connection: Any, _: Any) -> None:
    # Times come back in UTC, as psycopg's own `timezone.utc`, which the domain's
    # converters pass through untouched (any other zone costs a conversion per value).
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _note_checkin(_: Any, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(
    dialect: Dialect, dbapi_connection: Any, record: ConnectionPoolEntry, _: Any
) -> None:
    """Pre-ping, for connections that sat in the pool: a server restart or a proxy
    dropping idle connections shows up here, and the pool reconnects.

    A connection handed back moments ago was alive then, and a worker draining the
    queue checks one out a thousand times a second: pinging those would add a round
    trip to every claim and settle. SQLAlchemy's `pool_pre_ping` cannot skip them,
    so this is its documented checkout-event form, with the skip.
    """
    checked_in = record.info.get(_CHECKED_IN_AT)
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(f"connection lost while idle: {exc}") from exc
