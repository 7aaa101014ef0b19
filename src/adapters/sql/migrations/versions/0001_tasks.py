"""The tasks table and its claim, stale-scan and listing indexes.

Revision ID: 0001_tasks
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_tasks"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_time = sa.DateTime(timezone=True)
_claimable = sa.text("status IN ('pending', 'retrying')")
_in_progress = sa.text("status = 'in_progress'")


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("payload", _json, nullable=False),
        sa.Column("result", _json, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("errors", _json, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("run_at", _time, nullable=False),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_at", _time, nullable=True),
        sa.Column("heartbeat_at", _time, nullable=True),
        sa.Column("created_at", _time, nullable=False),
        sa.Column("updated_at", _time, nullable=False),
        sa.Column("started_at", _time, nullable=True),
        sa.Column("finished_at", _time, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed', 'failed', 'retrying', 'cancelled')",
            name="ck_tasks_status",
        ),
        sa.CheckConstraint("max_attempts >= 1", name="ck_tasks_max_attempts"),
    )
    op.create_index(
        "ix_tasks_claimable",
        "tasks",
        [sa.text("priority DESC"), "run_at", "created_at", "id"],
        postgresql_where=_claimable,
        sqlite_where=_claimable,
    )
    op.create_index(
        "ix_tasks_in_progress",
        "tasks",
        ["heartbeat_at", "locked_at"],
        postgresql_where=_in_progress,
        sqlite_where=_in_progress,
    )
    for name, leading in (
        ("ix_tasks_owner_created", ["owner"]),
        ("ix_tasks_created", []),
        ("ix_tasks_status_created", ["status"]),
        ("ix_tasks_type_created", ["type"]),
    ):
        op.create_index(name, "tasks", [*leading, sa.text("created_at DESC"), sa.text("id DESC")])


def downgrade() -> None:
    op.drop_table("tasks")
