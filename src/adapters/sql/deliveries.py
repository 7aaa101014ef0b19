"""The record of delivered e-mail, in SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.engine import writer
from adapters.sql.posting_tables import email_deliveries


class SqlDeliveryLog:
    """A `DeliveryLog` over one engine: one row per Message-ID that went out."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def was_delivered(self, message_id: str) -> bool:
        statement = select(email_deliveries.c.message_id).where(
            email_deliveries.c.message_id == message_id
        )
        with self._engine.connect() as connection:
            return connection.execute(statement).first() is not None

    def record_delivery(self, message_id: str, *, task_id: UUID, at: datetime) -> None:
        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(email_deliveries)
            .values(message_id=message_id, task_id=task_id, delivered_at=at)
            .on_conflict_do_nothing(index_elements=[email_deliveries.c.message_id])
        )
        with self._writer.begin() as connection:
            connection.execute(statement)
