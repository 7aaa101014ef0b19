"""Explicit mapping between `tasks` rows and domain `Task`s (no ORM: tasks are frozen)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from adapters.sql.tables import tasks
from application.ports import SUMMARY_FIELDS, TaskSummary
from domain.task import ErrorRecord, Task, TaskStatus


def to_row(task: Task) -> dict[str, Any]:
    """Column values for `task`."""
    return {
        "id": task.id,
        "type": task.type,
        "owner": task.owner,
        "status": task.status.value,
        "payload": task.payload,
        "result": task.result,
        "error": task.error,
        "errors": [error_to_json(record) for record in task.errors],
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "priority": task.priority,
        "run_at": task.run_at,
        "locked_by": task.locked_by,
        "locked_at": task.locked_at,
        "heartbeat_at": task.heartbeat_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "version": task.version,
    }


def from_row(row: Mapping[Any, Any]) -> Task:
    """The task a `tasks` row holds."""
    return Task(
        id=row["id"],
        type=row["type"],
        owner=row["owner"],
        status=TaskStatus(row["status"]),
        payload=row["payload"],
        result=row["result"],
        error=row["error"],
        errors=tuple(_error_from_json(item) for item in row["errors"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        priority=row["priority"],
        run_at=row["run_at"],
        locked_by=row["locked_by"],
        locked_at=row["locked_at"],
        heartbeat_at=row["heartbeat_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        version=row["version"],
    )


#: The `tasks` columns in table order: the order `from_values` reads them in.
COLUMNS = tuple(column.name for column in tasks.c)


def from_values(values: Sequence[Any]) -> Task:
    """The task a row of all `COLUMNS`, in their order, holds (a driver's plain tuple)."""
    return from_row(dict(zip(COLUMNS, values, strict=True)))


#: Columns no transition changes (see `domain.task.Task`): a rewrite leaves them alone,
#: so settling a task with a megabyte payload does not send the payload again.
FIXED_AT_CREATION = frozenset(
    {"id", "type", "owner", "payload", "max_attempts", "priority", "created_at"}
)


def to_changes(task: Task) -> dict[str, Any]:
    """Column values for rewriting `task`'s row: what transitions may change."""
    return {k: v for k, v in to_row(task).items() if k not in FIXED_AT_CREATION}


def summary_from_row(row: RowMapping) -> TaskSummary:
    """The summary a listing row holds (only the summary columns are read)."""
    values = {name: row[name] for name in SUMMARY_FIELDS}
    values["status"] = TaskStatus(row["status"])
    return TaskSummary(**values)


def claim_order(task: Task) -> tuple[int, datetime, datetime, bytes]:
    """The order claims take tasks in: priority, then due time, then creation."""
    return (-task.priority, task.run_at, task.created_at, task.id.bytes)


def error_to_json(record: ErrorRecord) -> dict[str, Any]:
    """An error record as the `errors` JSON array holds it."""
    return {"attempt": record.attempt, "at": record.at.isoformat(), "message": record.message}


def _error_from_json(item: Mapping[str, Any]) -> ErrorRecord:
    return ErrorRecord(
        attempt=item["attempt"], at=datetime.fromisoformat(item["at"]), message=item["message"]
    )
