"""A real, thread-safe in-memory task store: for tests and for embedding taskspool.

It keeps the same contract as the SQL stores (tests/contract runs one suite against
all of them); the state machine itself stays in the domain, called from here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.ports import QueueSignal, TaskPage, TaskQuery, TaskSummary
from domain.task import Task, TaskStatus


class InMemoryTaskRepository:
    """Tasks in a dict behind one lock."""

    def __init__(self, *, signal: QueueSignal | None = None) -> None:
        self._tasks: dict[UUID, Task] = {}
        self._lock = threading.Lock()
        self._signal = signal

    def add(self, task: Task) -> None:
        self.add_many([task])

    def add_many(self, tasks: Sequence[Task]) -> None:
        with self._lock:
            duplicate = next((t.id for t in tasks if t.id in self._tasks), None)
            if duplicate is not None:
                raise ValueError(f"task {duplicate} already exists")
            self._tasks.update((task.id, task) for task in tasks)
        if self._signal is not None:
            self._signal.notify()

    def get(self, task_id: UUID) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def list(self, query: TaskQuery) -> TaskPage:
        with self._lock:
            matching = [t for t in self._tasks.values() if _matches(t, query)]
        matching.sort(key=lambda t: (t.created_at, t.id.bytes), reverse=True)
        return TaskPage(
            items=[TaskSummary.of(t) for t in matching[query.offset : query.offset + query.limit]],
            total=len(matching),
        )

    def claim(self, *, now: datetime, worker_id: str, limit: int) -> Sequence[Task]:
        with self._lock:
            due = sorted(
                (t for t in self._tasks.values() if t.is_due(now)),
                key=lambda t: (-t.priority, t.run_at, t.created_at, t.id.bytes),
            )[:limit]
            claimed = [t.claim(now=now, worker_id=worker_id) for t in due]
            self._tasks.update((t.id, t) for t in claimed)
            return claimed

    def heartbeat(self, task: Task, *, now: datetime) -> bool:
        with self._lock:
            current = self._tasks.get(task.id)
            if current is None or current.version != task.version:
                return False
            self._tasks[task.id] = current.heartbeat(now=now)
            return True

    def replace(
        self, task: Task, *, expected_version: int, heartbeat_before: datetime | None = None
    ) -> bool:
        with self._lock:
            return self._replace(task, expected_version, heartbeat_before)

    def replace_many(self, tasks: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        with self._lock:
            return [self._replace(task, version, None) for task, version in tasks]

    def find_stale(self, *, stale_before: datetime, limit: int) -> Sequence[Task]:
        with self._lock:
            stale = [t for t in self._tasks.values() if t.is_stale(stale_before)]
        stale.sort(key=lambda t: (t.heartbeat_at or t.created_at, t.id.bytes))
        return stale[:limit]

    def _replace(
        self, task: Task, expected_version: int, heartbeat_before: datetime | None
    ) -> bool:
        current = self._tasks.get(task.id)
        if current is None or current.version != expected_version:
            return False
        if heartbeat_before is not None and not current.is_stale(heartbeat_before):
            return False
        self._tasks[task.id] = task
        return True


def _matches(task: Task, query: TaskQuery) -> bool:
    return (
        (query.owner is None or task.owner == query.owner)
        and (query.type is None or task.type == query.type)
        and (query.status is None or task.status is TaskStatus(query.status))
    )
