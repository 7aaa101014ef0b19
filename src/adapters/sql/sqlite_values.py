"""`tasks` values as SQLAlchemy's column types store them on SQLite, for the raw path.

The claim and the settle run on the sqlite3 connection itself (see sqlite.py), past
SQLAlchemy's type processing, and must still write and read exactly what Core does,
or the two paths would disagree about the same row. Each column's codec follows from
its type in tables.py: `Uuid` is 32 lowercase hex digits, `UtcDateTime` naive UTC
text, `Json` the `json.dumps` text, and Python None is SQL NULL throughout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.types import TypeEngine

from adapters.sql.rows import COLUMNS, from_values
from adapters.sql.tables import UtcDateTime, tasks
from domain.task import Task

_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
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


def stored(row: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    """The values of `row` (a `rows.to_row` mapping) for `columns`, in their order, as stored."""
    values = []
    for name in columns:
        value = row[name]
        codec = _CODECS.get(name)
        values.append(value if value is None or codec is None else codec[0](value))
    return values


def task_from_stored(values: Sequence[Any]) -> Task:
    """The task a stored row of all `rows.COLUMNS`, in their order, holds."""
    decoded = list(values)
    for index, decode in _DECODERS:
        if decoded[index] is not None:
            decoded[index] = decode(decoded[index])
    return from_values(decoded)


def _uuid_text(value: UUID) -> str:
    return value.hex


def _time_from_text(value: str) -> datetime:
    # Parsing an offset costs a tenth of what `replace(tzinfo=UTC)` does afterwards.
    return datetime.fromisoformat(value + "+00:00")


def _codec(name: str, type_: TypeEngine[Any]) -> _Codec | None:
    """The (encode, decode) pair for a column of `type_`; None where sqlite3 needs none."""
    # UtcDateTime first: a TypeDecorator, it is no instance of the types it wraps.
    if isinstance(type_, UtcDateTime):
        return time_text, _time_from_text
    if isinstance(type_, Uuid):
        return _uuid_text, UUID
    if isinstance(type_, JSON):
        return json.dumps, json.loads
    # Text and integers are stored as sqlite3 hands them over; anything else would
    # need a codec here first.
    assert isinstance(type_, String | Integer), f"no SQLite codec for column {name!r}"
    return None


_CODECS = {
    column.name: codec
    for column in tasks.c
    if (codec := _codec(column.name, column.type)) is not None
}
_DECODERS = [(COLUMNS.index(name), decode) for name, (_, decode) in _CODECS.items()]
