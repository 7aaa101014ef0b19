"""What goes over the wire: msgspec Structs in camelCase, separate from the entities."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from application.ports import TaskSummary as StoredSummary
from domain.task import Task, TaskStatus

#: A CSV cell as JSON may carry it.
Cell = str | int | float | bool | None


class _Wire(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """camelCase names, and unknown fields refused rather than silently ignored."""


class ErrorRecordView(_Wire):
    attempt: int
    at: datetime
    message: str


class TaskSummary(_Wire):
    """A task in a listing: its state, without payload or result."""

    task_id: UUID
    type: str
    status: TaskStatus
    owner: str
    attempts: int
    max_attempts: int
    priority: int
    error: str | None
    run_at: datetime
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TaskView(TaskSummary):
    """One task in full."""

    payload: dict[str, Any]
    result: dict[str, Any] | None
    errors: list[ErrorRecordView]


class TaskPageView(_Wire):
    items: list[TaskSummary]
    page: int
    limit: int
    total: int


class PostingFilters(_Wire):
    """Which stored postings an export covers; unset fields do not filter."""

    source: str | None = None
    company: str | None = None
    #: Case-insensitive substring of the posting's location.
    location: str | None = None
    remote: bool | None = None


class CsvGenerateRequest(_Wire):
    """Body of POST /api/csv/generate: `columns` and `rows`, or an `export`."""

    columns: list[str] | None = None
    rows: list[list[Cell]] | None = None
    export: Literal["postings", "matches"] | None = None
    filters: PostingFilters | None = None
    matching_task_id: UUID | None = None
    filename: str | None = None
    #: An address that gets the file by e-mail once it is written.
    notify: str | None = None


class JobFetchRequest(_Wire):
    """Body of POST /api/jobs/fetch."""

    source: str | None = None


class MatchingRequest(_Wire):
    """Body of POST /api/matching/run: the profile, and who to tell."""

    keywords: list[str]
    location: str | None = None
    remote: bool | None = None
    limit: int | None = None
    notify: str | None = None


class Accepted(_Wire):
    """Answer to a request that queued a task: where to watch it."""

    task_id: UUID
    status: TaskStatus
    status_url: str


class ErrorBody(_Wire, omit_defaults=True):
    """Every error answer: a short code, a readable message and, if known, the field at fault."""

    error: str
    message: str
    field: str | None = None


class Health(_Wire):
    status: str


def task_summary(task: Task | StoredSummary) -> TaskSummary:
    return TaskSummary(**_summary_fields(task))


def task_view(task: Task) -> TaskView:
    return TaskView(
        **_summary_fields(task),
        payload=task.payload,
        result=task.result,
        errors=[
            ErrorRecordView(attempt=e.attempt, at=e.at, message=e.message) for e in task.errors
        ],
    )


def _summary_fields(task: Task | StoredSummary) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "priority": task.priority,
        "error": task.error,
        "run_at": task.run_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
    }


def status_url(task_id: UUID) -> str:
    return f"/api/tasks/{task_id}"
