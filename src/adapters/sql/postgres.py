"""The task store on PostgreSQL: many workers on many hosts.

The claim locks its candidates with FOR UPDATE SKIP LOCKED, so concurrent claims
take different rows without waiting for one another; an enqueue sends NOTIFY in its
own transaction, so listening workers wake only once the task is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from adapters.sql.repository import SqlTaskRepository
from adapters.sql.rows import FIXED_AT_CREATION, to_changes
from adapters.sql.tables import tasks
from domain.task import Task

#: The channel enqueues notify and `PostgresListener` listens on.
CHANNEL = "taskspool_tasks"


class PostgresTaskRepository(SqlTaskRepository):
    """Tasks in PostgreSQL; build its engine with `adapters.sql.engine.make_engine`."""

    def __init__(self, engine: Engine, *, channel: str = CHANNEL) -> None:
        super().__init__(engine)
        self._channel = channel

    def replace_many(self, tasks_: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        if not tasks_:
            return []
        # One statement for any batch: each column travels as one array parameter and
        # unnest() zips them into rows, so the text is prepared once and reused; each
        # row's compare-and-set on `version` is still decided on its own.
        changes = [to_changes(task) for task, _ in tasks_]
        params: dict[str, list[Any]] = {
            "id": [task.id for task, _ in tasks_],
            "expected": [version for _, version in tasks_],
        }
        for name in _SETTLED_COLUMNS:
            column = [row[name] for row in changes]
            params[name] = [_jsonb(v) for v in column] if name in _JSON_COLUMNS else column
        with self._writer.begin() as connection:
            landed: set[UUID] = {
                row[0] for row in connection.exec_driver_sql(_REPLACE_MANY, params)
            }
        return [task.id in landed for task, _ in tasks_]

    def _among(self, candidates: Select[tuple[UUID]]) -> ColumnElement[bool]:
        # Not `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`: the planner may rescan
        # that subquery once per outer row, and each rescan skips the rows this very
        # statement just updated, so a claim of 1 can take 2. A MATERIALIZED CTE runs
        # exactly once.
        locked = (
            candidates.with_for_update(skip_locked=True)
            .cte("candidates")
            .prefix_with("MATERIALIZED")
        )
        return tasks.c.id == locked.c.id

    def _before_claim(self, connection: Connection) -> None:
        # The claim need not wait for its WAL flush: if the server crashes before the
        # flush, the claim is lost with the tasks still due, as if it never happened;
        # and any later settle of these tasks flushes the claim first (WAL is ordered).
        # That saves an fsync on the path from enqueue to handler start.
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")

    def _after_insert(self, connection: Connection) -> None:
        connection.execute(select(func.pg_notify(self._channel, "")))


def _jsonb(value: object) -> Jsonb | None:
    return None if value is None else Jsonb(value)


#: PostgreSQL array types of the columns a settle rewrites (rows.FIXED_AT_CREATION stay).
_SETTLED_TYPES = {
    "status": "text",
    "result": "jsonb",
    "error": "text",
    "errors": "jsonb",
    "attempts": "int",
    "run_at": "timestamptz",
    "locked_by": "text",
    "locked_at": "timestamptz",
    "heartbeat_at": "timestamptz",
    "updated_at": "timestamptz",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
    "version": "int",
}
_SETTLED_COLUMNS = [c.name for c in tasks.c if c.name not in FIXED_AT_CREATION]
_JSON_COLUMNS = frozenset({"result", "errors"})
_REPLACE_MANY = (
    "UPDATE tasks AS t SET "
    + ", ".join(f"{c} = b.{c}" for c in _SETTLED_COLUMNS)
    + " FROM unnest(%(id)s::uuid[], %(expected)s::int[], "
    + ", ".join(f"%({c})s::{_SETTLED_TYPES[c]}[]" for c in _SETTLED_COLUMNS)
    + ") AS b(id, expected, "
    + ", ".join(_SETTLED_COLUMNS)
    + ") WHERE t.id = b.id AND t.version = b.expected RETURNING t.id"
)
