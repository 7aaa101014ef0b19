"""Use cases over tasks: enqueue, read, list, cancel, retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from application.actor import Actor
from application.errors import Conflict, Forbidden, InvalidRequest, TaskNotFound
from application.payloads import MAX_PAYLOAD_BYTES, check_document
from application.ports import Clock, QueueSignal, TaskPage, TaskQuery, TaskRepository
from domain.errors import InvalidTransition
from domain.task import Task

#: Most tasks one page may hold.
MAX_PAGE_LIMIT = 100
#: Highest page number: keeps the row offset, (page - 1) x limit, far inside the
#: signed 64-bit integers every database takes (at most about 10^11).
MAX_PAGE = 1_000_000_000
MAX_TYPE_CHARS = 100
#: Most attempts a task may be given.
MAX_ATTEMPTS = 1000
#: Priorities fit the 32-bit integer column every store keeps them in.
MIN_PRIORITY, MAX_PRIORITY = -(2**31), 2**31 - 1


class TaskService:
    """The use cases every entrypoint shares; each checks who is asking."""

    def __init__(
        self,
        *,
        repository: TaskRepository,
        clock: Clock,
        signal: QueueSignal,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._signal = signal
        self._new_id = new_id

    def enqueue(
        self,
        *,
        actor: Actor,
        type: str,
        payload: dict[str, Any],
        max_attempts: int = 3,
        priority: int = 0,
        run_at: datetime | None = None,
    ) -> Task:
        """Store a new pending task owned by `actor` and wake a worker."""
        _check_type(type)
        check_document(payload, field="payload", limit=MAX_PAYLOAD_BYTES)
        if not 1 <= max_attempts <= MAX_ATTEMPTS:
            raise InvalidRequest(
                f"maxAttempts must be between 1 and {MAX_ATTEMPTS}", field="maxAttempts"
            )
        if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise InvalidRequest(
                f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}", field="priority"
            )
        task = Task.create(
            id=self._new_id(),
            type=type,
            owner=actor.name,
            payload=payload,
            now=self._clock.now(),
            max_attempts=max_attempts,
            priority=priority,
            run_at=run_at,
        )
        self._repository.add(task)
        self._signal.notify()
        return task

    def get(self, *, actor: Actor, task_id: UUID) -> Task:
        """The task, if `actor` may see it; otherwise TaskNotFound, as if it did not exist."""
        task = self._repository.get(task_id)
        if task is None or not actor.can_see(task):
            raise TaskNotFound(task_id)
        return task

    def list(self, *, actor: Actor, query: TaskQuery) -> TaskPage:
        """A page of the tasks `actor` may see, newest first.

        Only an admin may filter by another owner; anyone else asking to is Forbidden
        rather than silently shown their own tasks.
        """
        if not 1 <= query.page <= MAX_PAGE:
            raise InvalidRequest(f"page must be between 1 and {MAX_PAGE}", field="page")
        if not 1 <= query.limit <= MAX_PAGE_LIMIT:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_LIMIT}", field="limit")
        if not actor.is_admin and query.owner not in (None, actor.name):
            raise Forbidden("only admins may filter by owner")
        scoped = TaskQuery(
            owner=actor.owner_filter if not actor.is_admin else query.owner,
            type=query.type,
            status=query.status,
            page=query.page,
            limit=query.limit,
        )
        return self._repository.list(scoped)

    def cancel(self, *, actor: Actor, task_id: UUID) -> Task:
        """Cancel a task that has not started, or is waiting to retry."""
        return self._change(actor, task_id, lambda task: task.cancel(now=self._clock.now()))

    def retry(self, *, actor: Actor, task_id: UUID) -> Task:
        """Give a failed or cancelled task a fresh set of attempts."""
        task = self._change(actor, task_id, lambda task: task.retry(now=self._clock.now()))
        self._signal.notify()
        return task

    def _change(self, actor: Actor, task_id: UUID, move: Callable[[Task], Task]) -> Task:
        current = self.get(actor=actor, task_id=task_id)
        try:
            changed = move(current)
        except InvalidTransition as exc:
            raise Conflict(f"task {task_id} is {current.status.value}: {exc}") from exc
        if not self._repository.replace(changed, expected_version=current.version):
            raise Conflict(f"task {task_id} changed while we looked; try again")
        return changed


def _check_type(type: str) -> None:
    if (
        not type
        or len(type) > MAX_TYPE_CHARS
        or not (type.isascii() and type.replace("_", "").isalnum())
    ):
        raise InvalidRequest(
            f"task type must be 1-{MAX_TYPE_CHARS} letters, digits or underscores", field="type"
        )
