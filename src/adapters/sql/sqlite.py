"""The task store on a SQLite file: the embedded default.

SQLite has no row locks (it ignores FOR UPDATE): the claim is one UPDATE ...
RETURNING, run under the database's single write lock, which `BEGIN IMMEDIATE`
takes up front. Several threads and processes may share one file; writers queue on
the busy timeout and readers never wait (WAL).

The enqueue, the claim and the settle (`replace_many`), the queue's hot path, run on
the sqlite3 connection itself, as PostgreSQL's do on psycopg: one Core `execute` per
settled task cost more than SQLite spent updating the row. Their SQL is written once
below; `sqlite_values` stores values exactly as SQLAlchemy's types do, so the Core
methods and these read each other's rows. Everything else stays on Core.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from sqlalchemy.exc import IntegrityError

from adapters.sql.repository import SqlTaskRepository
from adapters.sql.rows import COLUMNS, claim_order
from adapters.sql.sqlite_values import (
    SETTLED_COLUMNS,
    new_row,
    settled_row,
    task_from_stored,
    time_text,
)
from adapters.sql.tables import CLAIMABLE
from domain.task import Task, TaskStatus


class SqliteTaskRepository(SqlTaskRepository):
    """Tasks in a SQLite file; build its engine with `adapters.sql.engine.make_engine`."""

    def add_many(self, tasks_: Sequence[Task]) -> None:
        if not tasks_:
            return
        try:
            with self._immediate(INSERT) as connection:
                connection.executemany(INSERT, map(new_row, tasks_))
        except IntegrityError as exc:
            which = f"task {tasks_[0].id}" if len(tasks_) == 1 else "one of these tasks"
            raise ValueError(f"{which} already exists; nothing stored") from exc

    def claim(self, *, now: datetime, worker_id: str, limit: int) -> Sequence[Task]:
        if limit < 1:
            return []
        params = {"now": time_text(now), "worker": worker_id, "limit": limit}
        with self._immediate(CLAIM) as connection:
            rows = connection.execute(CLAIM, params).fetchall()
        # RETURNING promises no order; hand the tasks back in claim order.
        return sorted((task_from_stored(row) for row in rows), key=claim_order)

    def replace_many(self, tasks_: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        if not tasks_:
            return []
        landed = []
        # One transaction: a single lock acquisition and one commit for the batch. Each
        # execute reuses the prepared statement from sqlite3's statement cache.
        with self._immediate(REPLACE) as connection:
            cursor = connection.cursor()
            for task, expected in tasks_:
                cursor.execute(REPLACE, (*settled_row(task), expected))
                landed.append(cursor.rowcount == 1)
        return landed

    @contextmanager
    def _immediate(self, statement: str) -> Iterator[sqlite3.Connection]:
        """A pooled sqlite3 connection in a `BEGIN IMMEDIATE` transaction, committed if
        the block succeeds and rolled back if it raises."""
        with self._checked_out(statement) as pooled:
            # In autocommit (engine.py), so transactions are exactly the ones sent here.
            connection = cast(sqlite3.Connection, pooled.driver_connection)
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.rollback()
                raise


_CLAIMABLE = ", ".join(f"'{status}'" for status in CLAIMABLE)
#: One statement restating Task.claim, so that no task can be claimed twice. SQLite
#: runs the uncorrelated IN (SELECT ...) once, under the write lock. The statuses are
#: written into the SQL, never bound: SQLite uses the partial index ix_tasks_claimable
#: only where the WHERE visibly implies the index's, which `status IN (?, ?)` does not
#: (bound, a claim among a million finished tasks scanned them all: 120 ms, not 3).
CLAIM = (
    f"UPDATE tasks SET status = '{TaskStatus.IN_PROGRESS.value}', attempts = attempts + 1,"
    " locked_by = :worker, locked_at = :now, heartbeat_at = :now,"
    " started_at = :now, updated_at = :now, version = version + 1"
    " WHERE id IN ("
    f"SELECT id FROM tasks WHERE status IN ({_CLAIMABLE}) AND run_at <= :now"
    " ORDER BY priority DESC, run_at, created_at, id LIMIT :limit)"
    f" AND status IN ({_CLAIMABLE}) AND run_at <= :now"
    " RETURNING " + ", ".join(COLUMNS)
)
#: The compare-and-set rewrite of one task: its settled columns, then its id; the
#: version it was read at is bound last.
REPLACE = (
    "UPDATE tasks SET "
    + ", ".join(f"{c} = ?" for c in SETTLED_COLUMNS)
    + " WHERE id = ? AND version = ?"
)
INSERT = f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
