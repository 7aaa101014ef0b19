"""`tasks` values as SQLAlchemy's column types store them on SQLite, for the raw path.

The enqueue, the claim and the settle run on the sqlite3 connection itself (see
sqlite.py), past SQLAlchemy's type processing, and must still write and read exactly
what Core does, or the two paths would disagree about the same row. Each column is
stored as its type in tables.py has SQLAlchemy store it: `Uuid` as 32 lowercase hex
digits, `UtcDateTime` as naive UTC text, `Json` as `json_text.encode` text, and Python
None as SQL NULL throughout (tests compare the two byte for byte).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.types import TypeEngine

from adapters.sql import json_text
from adapters.sql.rows import COLUMNS, FIXED_AT_CREATION, error_to_json, from_values
from adapters.sql.tables import UtcDateTime, tasks
from domain.task import Task

#: SQLAlchemy's storage format for SQLite DATETIME (`sqlalchemy.dialects.sqlite.DATETIME`).
_TIME_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def time_text(value: datetime) -> str:
    """`value` as SQLite's DATETIME holds it: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC.

    SQL compares these as text, so a bound time (the claim's `now`) must have exactly
    this form, six fractional digits even when they are all zero.
    """
    # Domain times are UTC already (its converters see to it); the check is for the rest.
    if value.tzinfo is not UTC:
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        value = value.astimezone(UTC)
    return _TIME_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


#: The columns a settle rewrites, in the order `settled_row` gives them: all but those
#: fixed at creation.
SETTLED_COLUMNS = (
    "status",
    "result",
    "error",
    "errors",
    "attempts",
    "run_at",
    "locked_by",
    "locked_at",
    "heartbeat_at",
    "updated_at",
    "started_at",
    "finished_at",
    "version",
)
assert set(SETTLED_COLUMNS) == set(COLUMNS) - FIXED_AT_CREATION


def new_row(task: Task) -> tuple[Any, ...]:
    """All of `task`'s columns as stored, in `rows.COLUMNS` order (an INSERT's values)."""
    return (
        task.id.hex,
        task.type,
        task.owner,
        task.status.value,
        json_text.encode(task.payload),
        _json_or_null(task.result),
        task.error,
        _errors_json(task),
        task.attempts,
        task.max_attempts,
        task.priority,
        time_text(task.run_at),
        task.locked_by,
        _time_or_null(task.locked_at),
        _time_or_null(task.heartbeat_at),
        time_text(task.created_at),
        time_text(task.updated_at),
        _time_or_null(task.started_at),
        _time_or_null(task.finished_at),
        task.version,
    )


def settled_row(task: Task) -> tuple[Any, ...]:
    """`task`'s `SETTLED_COLUMNS` as stored, in that order, then its id.

    Written out rather than looped over a table of column types: it runs once per
    settled task, and the loop cost twice as much.
    """
    return (
        task.status.value,
        _json_or_null(task.result),
        task.error,
        _errors_json(task),
        task.attempts,
        time_text(task.run_at),
        task.locked_by,
        _time_or_null(task.locked_at),
        _time_or_null(task.heartbeat_at),
        time_text(task.updated_at),
        _time_or_null(task.started_at),
        _time_or_null(task.finished_at),
        task.version,
        task.id.hex,
    )


def task_from_stored(values: Sequence[Any]) -> Task:
    """The task a stored row of all `rows.COLUMNS`, in their order, holds."""
    decoded = list(values)
    for index, decode in _DECODERS:
        if decoded[index] is not None:
            decoded[index] = decode(decoded[index])
    return from_values(decoded)


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json_text.encode(value)


def _errors_json(task: Task) -> str:
    if not task.errors:
        return "[]"
    return json_text.encode([error_to_json(record) for record in task.errors])


def _time_or_null(value: datetime | None) -> str | None:
    return None if value is None else time_text(value)


def _time_from_text(value: str) -> datetime:
    # Parsing an offset costs a tenth of what `replace(tzinfo=UTC)` does afterwards.
    return datetime.fromisoformat(value + "+00:00")


def _decoder(name: str, type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How to read a stored column of `type_`; None where sqlite3's value is the value."""
    # UtcDateTime first: a TypeDecorator, it is no instance of the types it wraps.
    if isinstance(type_, UtcDateTime):
        return _time_from_text
    if isinstance(type_, Uuid):
        return UUID
    if isinstance(type_, JSON):
        return json_text.decode
    # Text and integers are stored as sqlite3 hands them over; anything else would
    # need a decoder here first.
    assert isinstance(type_, String | Integer), f"no SQLite decoder for column {name!r}"
    return None


_DECODERS = [
    (index, decode)
    for index, column in enumerate(tasks.c)
    if (decode := _decoder(column.name, column.type)) is not None
]
