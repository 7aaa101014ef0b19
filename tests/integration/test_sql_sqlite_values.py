"""The raw SQLite path stores and reads exactly what SQLAlchemy's column types do.

The enqueue, the claim and the settle bypass Core (see adapters/sql/sqlite.py);
were their values to differ from Core's by a character (a hyphenated UUID, a
missing fraction of a second), rows would compare and sort wrongly, or read back
as other tasks.
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import Engine, insert

from adapters.sql.rows import COLUMNS, to_row
from adapters.sql.sqlite_values import (
    SETTLED_COLUMNS,
    new_row,
    settled_row,
    task_from_stored,
    time_text,
)
from adapters.sql.tables import tasks
from domain.backoff import BackoffPolicy
from domain.task import Task
from tests.support.tasks import T0, at, new_task, retrying_task

_TASKS = {
    "pending": new_task(payload={"text": "naïve ☃", "nested": {"list": [1, 2.5, None]}}),
    "in progress": new_task().claim(now=at(1), worker_id="w-1"),
    "retrying, with an error history": retrying_task(),
    "completed, with a result": new_task()
    .claim(now=at(1), worker_id="w-1")
    .complete(now=at(2), result={"rows": 3}),
    "failed for good": new_task(max_attempts=1)
    .claim(now=at(1), worker_id="w-1")
    .fail(now=at(2), message="gave up", backoff=BackoffPolicy()),
}


def _stored_by_core(engine: Engine, task: Task) -> dict[str, object]:
    """The row SQLAlchemy Core stores for `task`, as sqlite3 reads it back."""
    with engine.begin() as connection:
        connection.execute(insert(tasks), [to_row(task)])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM tasks WHERE id = ?", (task.id.hex,))
        return dict(zip(COLUMNS, cursor.fetchone(), strict=True))
    finally:
        raw.close()


@pytest.mark.parametrize("task", _TASKS.values(), ids=_TASKS.keys())
def test_a_new_row_is_encoded_as_core_stores_it(sqlite_engine: Engine, task: Task) -> None:
    row = _stored_by_core(sqlite_engine, task)

    assert new_row(task) == tuple(row[name] for name in COLUMNS)


@pytest.mark.parametrize("task", _TASKS.values(), ids=_TASKS.keys())
def test_a_settled_row_is_encoded_as_core_stores_it(sqlite_engine: Engine, task: Task) -> None:
    row = _stored_by_core(sqlite_engine, task)

    assert settled_row(task) == tuple(row[name] for name in (*SETTLED_COLUMNS, "id"))


@pytest.mark.parametrize("task", _TASKS.values(), ids=_TASKS.keys())
def test_a_row_core_stored_decodes_to_the_same_task(sqlite_engine: Engine, task: Task) -> None:
    row = _stored_by_core(sqlite_engine, task)

    assert task_from_stored(list(row.values())) == task


def test_a_time_with_no_microseconds_still_has_six_fractional_digits() -> None:
    assert time_text(T0) == "2026-01-01 12:00:00.000000"


def test_a_time_in_another_zone_is_stored_as_its_utc_instant() -> None:
    two_hours_east = T0.astimezone(timezone(timedelta(hours=2)))

    assert time_text(two_hours_east) == time_text(T0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        time_text(T0.replace(tzinfo=None))
