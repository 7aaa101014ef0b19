"""What the SQLite and PostgreSQL task stores share: SQLAlchemy Core over `tasks`.

Every statement takes `now` as a bound parameter (never the database's clock), so
all stores agree with the domain and tests control time. Every write after a claim
is a compare-and-set on `version`; zero rows changed means the claim was lost.

The hot path (the enqueue, the claim and the settle) is each store's own, on its
driver's connection (`_checked_out`): SQLAlchemy's per-statement work was most of
its cost. Everything else is here, on Core.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    Connection,
    Engine,
    PoolProxiedConnection,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from adapters.sql.engine import writer
from adapters.sql.rows import FIXED_AT_CREATION, from_row, summary_from_row, to_changes
from adapters.sql.tables import tasks
from application.ports import SUMMARY_FIELDS, TaskPage, TaskQuery
from domain.task import Task, TaskStatus

_IN_PROGRESS = TaskStatus.IN_PROGRESS.value
#: The status condition of the partial index (tables.py), with the status written into
#: the SQL rather than bound: SQLite uses a partial index only where the query's WHERE
#: visibly implies the index's, which `status = ?` does not.
_in_progress = tasks.c.status == bindparam("in_progress", _IN_PROGRESS, literal_execute=True)
#: When a worker last showed it was alive: its last heartbeat, else its claim.
_last_sign = func.coalesce(tasks.c.heartbeat_at, tasks.c.locked_at)
#: Listings read only what a summary shows, never payloads or results.
_SUMMARY_COLUMNS = [tasks.c[name] for name in SUMMARY_FIELDS]

#: The compare-and-set rewrite, built once: building an UPDATE per task cost more than
#: running it (the drain profile showed SQLAlchemy's statement construction on top).
_REPLACE = (
    update(tasks)
    .where(
        tasks.c.id == bindparam("key_id", type_=tasks.c.id.type),
        tasks.c.version == bindparam("key_version", type_=tasks.c.version.type),
    )
    .values(
        {
            name: bindparam(f"new_{name}", type_=tasks.c[name].type)
            for name in (c.name for c in tasks.c)
            if name not in FIXED_AT_CREATION
        }
    )
)
_REPLACE_IF_STALE = _REPLACE.where(
    _in_progress,
    _last_sign < bindparam("key_stale_before", type_=tasks.c.heartbeat_at.type),
)


class SqlTaskRepository(ABC):
    """The Core half of a `TaskRepository`; each store adds its hot path."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Writes begin IMMEDIATE on SQLite, so concurrent writers queue on the busy
        # timeout instead of failing when a read lock cannot be upgraded.
        self._writer = writer(engine)

    def add(self, task: Task) -> None:
        self.add_many([task])

    @abstractmethod
    def add_many(self, tasks_: Sequence[Task]) -> None: ...

    @abstractmethod
    def claim(self, *, now: datetime, worker_id: str, limit: int) -> Sequence[Task]: ...

    @abstractmethod
    def replace_many(self, tasks_: Sequence[tuple[Task, int]]) -> Sequence[bool]: ...

    def get(self, task_id: UUID) -> Task | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(tasks).where(tasks.c.id == task_id)).mappings().first()
        return None if row is None else from_row(row)

    def list(self, query: TaskQuery) -> TaskPage:
        filters = _filters(query)
        page = (
            select(*_SUMMARY_COLUMNS)
            .where(*filters)
            .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        count = select(func.count()).select_from(tasks).where(*filters)
        with self._engine.connect() as connection, connection.begin():
            rows = connection.execute(page).mappings().all()
            total = connection.execute(count).scalar_one()
        return TaskPage(items=[summary_from_row(row) for row in rows], total=total)

    def heartbeat(self, task: Task, *, now: datetime) -> bool:
        statement = (
            update(tasks)
            .where(
                tasks.c.id == task.id,
                tasks.c.version == task.version,
                tasks.c.status == _IN_PROGRESS,
            )
            .values(heartbeat_at=now)
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def replace(
        self, task: Task, *, expected_version: int, heartbeat_before: datetime | None = None
    ) -> bool:
        with self._writer.begin() as connection:
            return self._replace(connection, task, expected_version, heartbeat_before)

    def find_stale(self, *, stale_before: datetime, limit: int) -> Sequence[Task]:
        statement = (
            select(tasks)
            .where(_in_progress, _last_sign < stale_before)
            .order_by(_last_sign, tasks.c.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [from_row(row) for row in rows]

    @contextmanager
    def _checked_out(self, statement: str) -> Iterator[PoolProxiedConnection]:
        """A pooled connection for the driver's own API, for `statement` (named in errors).

        Driver errors come out as SQLAlchemy's, as they do from Core, so callers see one
        exception family; a connection the error shows dead is dropped from the pool.
        """
        pooled = self._engine.raw_connection()
        driver_error = self._engine.dialect.loaded_dbapi.Error
        try:
            yield pooled
        except driver_error as exc:
            dead = self._engine.dialect.is_disconnect(exc, pooled.dbapi_connection, None)
            wrapped = DBAPIError.instance(
                statement, None, exc, driver_error, connection_invalidated=dead
            )
            if dead:
                pooled.invalidate(exc)
            raise wrapped from exc
        finally:
            # Back to the pool, which rolls back anything a failure left open.
            pooled.close()

    def _replace(
        self,
        connection: Connection,
        task: Task,
        expected_version: int,
        heartbeat_before: datetime | None,
    ) -> bool:
        params = {f"new_{name}": value for name, value in to_changes(task).items()}
        params |= {"key_id": task.id, "key_version": expected_version}
        if heartbeat_before is None:
            return connection.execute(_REPLACE, params).rowcount == 1
        # Re-check staleness in the write itself: a task that heartbeated or settled
        # since it was read is left alone.
        params["key_stale_before"] = heartbeat_before
        return connection.execute(_REPLACE_IF_STALE, params).rowcount == 1


def _filters(query: TaskQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.owner is not None:
        filters.append(tasks.c.owner == query.owner)
    if query.type is not None:
        filters.append(tasks.c.type == query.type)
    if query.status is not None:
        filters.append(tasks.c.status == TaskStatus(query.status).value)
    return filters
