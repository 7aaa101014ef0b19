"""The task store on PostgreSQL: many workers on many hosts.

The claim locks its candidates with FOR UPDATE SKIP LOCKED, so concurrent claims
take different rows without waiting for one another; an enqueue sends NOTIFY in its
own transaction, so listening workers wake only once the task is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    cast,
    column,
    func,
    select,
    update,
    values,
)
from sqlalchemy.sql.elements import ColumnElement

from adapters.sql.repository import SqlTaskRepository
from adapters.sql.rows import to_changes
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
        # One UPDATE ... FROM (VALUES ...): one round trip, and each row's
        # compare-and-set decided on its own. The casts type columns that hold only
        # NULLs, which VALUES would otherwise call text.
        batch = values(
            *(column(c.name, c.type) for c in tasks.c),
            column("expected_version", Integer),
            name="batch",
        ).data([(*_ordered(task), version) for task, version in tasks_])
        statement = (
            update(tasks)
            .where(tasks.c.id == batch.c.id, tasks.c.version == batch.c.expected_version)
            .values({c.name: cast(batch.c[c.name], c.type) for c in tasks.c if c.name != "id"})
            .returning(tasks.c.id)
        )
        with self._writer.begin() as connection:
            landed: set[UUID] = set(connection.execute(statement).scalars())
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

    def _after_insert(self, connection: Connection) -> None:
        connection.execute(select(func.pg_notify(self._channel, "")))


def _ordered(task: Task) -> tuple[object, ...]:
    changes = to_changes(task)
    return (task.id, *(changes[c.name] for c in tasks.c if c.name != "id"))
