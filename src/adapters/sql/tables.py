"""The schema, in SQLAlchemy Core: one `metadata` for every table, and the column types.

The migrations in `migrations/versions` create exactly these tables; a test compares
the two so that they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.task import TaskStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the offset they came with.

    SQLite has no time zone type and drops offsets, so times are stored there as
    naive UTC (a fixed-width text form that sorts in time order); PostgreSQL keeps
    `timestamptz` and hands values back in the session's zone, converted here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON documents: `jsonb` on PostgreSQL, JSON text on SQLite; Python None is SQL NULL.
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

CLAIMABLE = (TaskStatus.PENDING.value, TaskStatus.RETRYING.value)
_STATUSES = ", ".join(f"'{status.value}'" for status in TaskStatus)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", Text, nullable=False),
    Column("owner", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("payload", Json, nullable=False),
    Column("result", Json, nullable=True),
    Column("error", Text, nullable=True),
    # The history of failed attempts: a JSON list of {attempt, at, message}.
    Column("errors", Json, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("locked_by", Text, nullable=True),
    Column("locked_at", UtcDateTime, nullable=True),
    Column("heartbeat_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    CheckConstraint("max_attempts >= 1", name="max_attempts"),
)

# The claim reads only due rows in claim order; a partial index keeps its cost flat
# however many finished tasks the table holds.
_claimable = tasks.c.status.in_(CLAIMABLE)
Index(
    "ix_tasks_claimable",
    tasks.c.priority.desc(),
    tasks.c.run_at,
    tasks.c.created_at,
    tasks.c.id,
    postgresql_where=_claimable,
    sqlite_where=_claimable,
)
# The stale sweep looks only at the few rows in progress.
_in_progress = tasks.c.status == TaskStatus.IN_PROGRESS.value
Index(
    "ix_tasks_in_progress",
    tasks.c.heartbeat_at,
    tasks.c.locked_at,
    postgresql_where=_in_progress,
    sqlite_where=_in_progress,
)
# Listing: newest first, per owner or for an admin. A filter by type or status walks
# these and filters: every index here costs each claim and settle an entry (migration
# 0003 dropped the status and type ones for that).
Index("ix_tasks_owner_created", tasks.c.owner, tasks.c.created_at.desc(), tasks.c.id.desc())
Index("ix_tasks_created", tasks.c.created_at.desc(), tasks.c.id.desc())

# The job-posting tables live in their own module but on this same `metadata`, so
# that anything reading the whole schema (migrations, their drift test, test
# cleanup) sees them whichever module was imported first.
from adapters.sql import posting_tables as _posting_tables  # noqa: E402, F401 (registers the posting tables on `metadata`; imports tables from here)
