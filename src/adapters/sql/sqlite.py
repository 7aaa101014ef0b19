"""The task store on a SQLite file: the embedded default.

SQLite has no row locks (it ignores FOR UPDATE): the claim is one UPDATE ...
RETURNING, run under the database's single write lock, which `BEGIN IMMEDIATE`
takes up front. Several threads and processes may share one file; writers queue on
the busy timeout and readers never wait (WAL).
"""

from __future__ import annotations

from adapters.sql.repository import SqlTaskRepository


class SqliteTaskRepository(SqlTaskRepository):
    """Tasks in a SQLite file; build its engine with `adapters.sql.engine.make_engine`."""
