"""The tables of job postings, match sets and e-mail deliveries, on the shared `metadata`."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from adapters.sql.tables import UtcDateTime, metadata

job_postings = Table(
    "job_postings",
    metadata,
    # Derived from (source, external_id) by the domain, so every store agrees on it.
    Column("id", Uuid, primary_key=True),
    Column("source", Text, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("company", Text, nullable=False),
    Column("location", Text, nullable=False),
    # The location case-folded by Python, so that location filters mean the same in
    # every store (SQLite's lower() folds ASCII only).
    Column("location_key", Text, nullable=False),
    Column("remote", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("posted_at", UtcDateTime, nullable=True),
    Column("fetched_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "external_id"),
)
Index("ix_job_postings_posted_at", job_postings.c.posted_at.desc(), job_postings.c.id)

#: One row per stored match set, so that an empty set differs from none at all.
match_sets = Table(
    "match_sets",
    metadata,
    Column("task_id", Uuid, primary_key=True),
    Column("size", Integer, nullable=False),
)

task_matches = Table(
    "task_matches",
    metadata,
    Column("task_id", Uuid, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("posting_id", Uuid, nullable=False),
    Column("score", Integer, nullable=False),
    PrimaryKeyConstraint("task_id", "rank"),
    ForeignKeyConstraint(
        ["task_id"],
        ["match_sets.task_id"],
        name="fk_task_matches_task_id_match_sets",
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["posting_id"], ["job_postings.id"], name="fk_task_matches_posting_id_job_postings"
    ),
)

email_deliveries = Table(
    "email_deliveries",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("task_id", Uuid, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=False),
)
