"""Tasks in every state, built through the domain's own transitions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from domain.backoff import BackoffPolicy
from domain.task import Task, TaskStatus
from tests.fakes import EPOCH

NOW = EPOCH
#: Late enough that every retry scheduled at NOW is due.
LATER = NOW + timedelta(days=1)
BACKOFF = BackoffPolicy()


def new_task(**changes: Any) -> Task:
    """A pending task created at NOW."""
    fields: dict[str, Any] = {"type": "echo", "owner": "ada", "payload": {"n": 1}, "now": NOW}
    fields.update(changes)
    return Task.create(id=uuid4(), **fields)


def task_in(status: TaskStatus, **changes: Any) -> Task:
    """A task that reached `status` the ordinary way (one claim at NOW where one is needed)."""
    pending = new_task(**changes)
    if status is TaskStatus.PENDING:
        return pending
    if status is TaskStatus.CANCELLED:
        return pending.cancel(now=NOW)
    running = pending.claim(now=NOW, worker_id="w1")
    if status is TaskStatus.IN_PROGRESS:
        return running
    if status is TaskStatus.COMPLETED:
        return running.complete(now=NOW, result={"ok": True})
    if status is TaskStatus.RETRYING:
        return running.fail(now=NOW, message="boom", backoff=BACKOFF)
    return running.fail(now=NOW, message="boom", backoff=BACKOFF, retryable=False)
