"""Proposed faster settles and heartbeats, measured here before anyone changes adapters.

Not used for the published figures unless `BENCH_TASKSPOOL_PROPOSED=1` is set:
then the taskspool subjects run these subclasses of the real repositories, which
change only `replace_many`, keeping its contract (one transaction, one
compare-and-set on `version` per row, a bool per row). The profile of the current
`replace_many` shows SQLAlchemy building a fresh `VALUES` construct with ~20 bound
literals per task (about 1.5 ms per task); these keep one statement compiled once.
`SharedKeepalive` replaces the heartbeat thread started and joined per task by one
thread per worker process that beats every task in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, update

from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.rows import to_changes
from adapters.sql.sqlite import SqliteTaskRepository
from adapters.sql.tables import tasks
from application.ports import BeatFunction
from domain.task import Task

log = logging.getLogger(__name__)

_COLUMNS = [column.name for column in tasks.c if column.name != "id"]
_JSON = {"payload", "result", "errors"}
_PG_TYPES = {
    "type": "text",
    "owner": "text",
    "status": "text",
    "payload": "jsonb",
    "result": "jsonb",
    "error": "text",
    "errors": "jsonb",
    "attempts": "int",
    "max_attempts": "int",
    "priority": "int",
    "run_at": "timestamptz",
    "locked_by": "text",
    "locked_at": "timestamptz",
    "heartbeat_at": "timestamptz",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
    "version": "int",
}
#: One statement for any batch size: each column travels as one array parameter.
_PG_REPLACE_MANY = (
    "UPDATE tasks AS t SET "
    + ", ".join(f"{c} = b.{c}" for c in _COLUMNS)
    + " FROM unnest(%(id)s::uuid[], %(expected)s::int[], "
    + ", ".join(f"%({c})s::{_PG_TYPES[c]}[]" for c in _COLUMNS)
    + ") AS b(id, expected, "
    + ", ".join(_COLUMNS)
    + ") WHERE t.id = b.id AND t.version = b.expected RETURNING t.id"
)

#: Compiled once by SQLAlchemy's statement cache; only the bound values change.
_SQLITE_REPLACE = (
    update(tasks)
    .where(
        tasks.c.id == bindparam("b_id", type_=tasks.c.id.type),
        tasks.c.version == bindparam("b_expected"),
    )
    .values({c: bindparam(f"b_{c}", type_=tasks.c[c].type) for c in _COLUMNS})
)


class ProposedPostgresTaskRepository(PostgresTaskRepository):
    def replace_many(self, tasks_: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        if not tasks_:
            return []
        rows = [to_changes(task) for task, _ in tasks_]
        params: dict[str, list[Any]] = {
            "id": [task.id for task, _ in tasks_],
            "expected": [version for _, version in tasks_],
        }
        for column in _COLUMNS:
            values = [row[column] for row in rows]
            params[column] = (
                [None if v is None else Jsonb(v) for v in values] if column in _JSON else values
            )
        with self._writer.begin() as connection:
            landed: set[UUID] = {
                row[0] for row in connection.exec_driver_sql(_PG_REPLACE_MANY, params)
            }
        return [task.id in landed for task, _ in tasks_]


class ProposedSqliteTaskRepository(SqliteTaskRepository):
    def replace_many(self, tasks_: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        if not tasks_:
            return []
        written: list[bool] = []
        with self._writer.begin() as connection:
            for task, version in tasks_:
                params = {f"b_{k}": v for k, v in to_changes(task).items()}
                params["b_id"] = task.id
                params["b_expected"] = version
                written.append(connection.execute(_SQLITE_REPLACE, params).rowcount == 1)
        return written


class SharedKeepalive:
    """A `Keepalive` whose one daemon thread calls every registered `beat` each `interval`.

    Entering costs a set insertion instead of a thread start and join; a beat that
    returns False is dropped, as ThreadKeepalive stops; a beat that raises is logged
    and tried again next round.
    """

    def __init__(self, *, interval: timedelta) -> None:
        self._seconds = interval.total_seconds()
        self._beats: dict[int, BeatFunction] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def __call__(self, beat: BeatFunction) -> Iterator[None]:
        key = id(beat)
        with self._lock:
            self._beats[key] = beat
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="taskspool-heartbeats", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._beats.pop(key, None)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self._seconds):
            with self._lock:
                due = list(self._beats.items())
            for key, beat in due:
                try:
                    if not beat():
                        log.warning("heartbeat found the claim lost; stopping heartbeats")
                        with self._lock:
                            self._beats.pop(key, None)
                except Exception:
                    log.exception("heartbeat failed")
