"""Building tasks for storage tests, at fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.backoff import BackoffPolicy
from domain.task import Task

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """`seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


def new_task(
    *,
    created: float = 0,
    run_at: float | None = None,
    priority: int = 0,
    owner: str = "ada",
    type: str = "csv_generation",
    payload: dict[str, Any] | None = None,
    max_attempts: int = 3,
    id: UUID | None = None,
) -> Task:
    """A pending task created `created` seconds after T0."""
    return Task.create(
        id=id or uuid4(),
        type=type,
        owner=owner,
        payload={"n": 1} if payload is None else payload,
        now=at(created),
        max_attempts=max_attempts,
        priority=priority,
        run_at=None if run_at is None else at(run_at),
    )


def retrying_task(*, created: float = 0) -> Task:
    """A task whose first attempt failed and that is due again 5 s later."""
    task = new_task(created=created).claim(now=at(created), worker_id="w-earlier")
    return task.fail(now=at(created + 1), message="boom", backoff=BackoffPolicy())
