"""Job postings, match sets and e-mail deliveries.

Revision ID: 0002_postings
Revises: 0001_tasks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_postings"
down_revision = "0001_tasks"
branch_labels = None
depends_on = None

_time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_postings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("location_key", sa.Text(), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("posted_at", _time, nullable=True),
        sa.Column("fetched_at", _time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_postings"),
        sa.UniqueConstraint("source", "external_id", name="uq_job_postings_source_external_id"),
    )
    op.create_index("ix_job_postings_posted_at", "job_postings", [sa.text("posted_at DESC"), "id"])
    op.create_table(
        "match_sets",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_match_sets"),
    )
    op.create_table(
        "task_matches",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "rank", name="pk_task_matches"),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["match_sets.task_id"],
            name="fk_task_matches_task_id_match_sets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["job_postings.id"], name="fk_task_matches_posting_id_job_postings"
        ),
    )
    op.create_table(
        "email_deliveries",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("delivered_at", _time, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_email_deliveries"),
    )


def downgrade() -> None:
    op.drop_table("email_deliveries")
    op.drop_table("task_matches")
    op.drop_table("match_sets")
    op.drop_table("job_postings")
