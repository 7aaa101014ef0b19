"""The ports the application needs; adapters implement them without subclassing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from attrs import field, fields, frozen

from domain.clocktime import optional_utc, utc
from domain.task import JsonObject, Task, TaskStatus


@frozen(kw_only=True)
class TaskQuery:
    """Which tasks to list: filters, and one page of them, newest first."""

    owner: str | None = None
    type: str | None = None
    status: TaskStatus | None = None
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@frozen(kw_only=True)
class TaskSummary:
    """A task as listings show it: its state, without payload, result or error history.

    Listings read only these columns, so a page of tasks with large payloads stays
    cheap to read and small to send.
    """

    id: UUID
    type: str
    owner: str
    status: TaskStatus
    attempts: int
    max_attempts: int
    priority: int
    error: str | None
    run_at: datetime = field(converter=utc)
    created_at: datetime = field(converter=utc)
    updated_at: datetime = field(converter=utc)
    started_at: datetime | None = field(converter=optional_utc)
    finished_at: datetime | None = field(converter=optional_utc)

    @classmethod
    def of(cls, task: Task) -> TaskSummary:
        """The summary of a full task."""
        return cls(**{name: getattr(task, name) for name in SUMMARY_FIELDS})


#: The task attributes a summary carries, in one place for every store.
SUMMARY_FIELDS: tuple[str, ...] = tuple(a.name for a in fields(TaskSummary))


@frozen(kw_only=True)
class TaskPage:
    """One page of task summaries and the number of tasks matching the filters in all."""

    items: Sequence[TaskSummary]
    total: int


class TaskRepository(Protocol):
    """Where tasks live. Every method is safe to call from many threads and processes."""

    def add(self, task: Task) -> None:
        """Store a new task (and wake idle workers, where the store can)."""

    def add_many(self, tasks: Sequence[Task]) -> None:
        """Store new tasks in one write; all or none."""

    def get(self, task_id: UUID) -> Task | None:
        """The task with this id, or None."""

    def list(self, query: TaskQuery) -> TaskPage:
        """Tasks matching `query`, newest first (`created_at`, then id), and their total."""

    def claim(self, *, now: datetime, worker_id: str, limit: int) -> Sequence[Task]:
        """Atomically claim up to `limit` due tasks, by priority, then `run_at`, then creation.

        Each claimed task equals `task.claim(now=now, worker_id=worker_id)` of its stored
        state; no task is ever returned to two claims.
        """

    def heartbeat(self, task: Task, *, now: datetime) -> bool:
        """Refresh the lease of claimed `task`; False if the claim was lost."""

    def replace(
        self, task: Task, *, expected_version: int, heartbeat_before: datetime | None = None
    ) -> bool:
        """Write `task` over the stored row only if that row is still at `expected_version`
        (and, with `heartbeat_before`, still stale); False, writing nothing, otherwise."""

    def replace_many(self, tasks: Sequence[tuple[Task, int]]) -> Sequence[bool]:
        """`replace` for a batch of (task, expected_version) pairs, in one round trip."""

    def find_stale(self, *, stale_before: datetime, limit: int) -> Sequence[Task]:
        """Tasks in progress whose last heartbeat is older than `stale_before`."""


class Clock(Protocol):
    """The one source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class QueueSignal(Protocol):
    """Wakes idle workers when new work is stored."""

    def notify(self) -> None:
        """Tell waiting workers that a task may be due now."""


class Handler(Protocol):
    """Runs one task type. Raising means the attempt failed."""

    # Positional-only, so that any callable taking a task conforms, whatever it names it.
    def __call__(self, task: Task, /) -> JsonObject:
        """Do the work of `task` and return its JSON result."""


class Keepalive(Protocol):
    """Calls `beat` periodically while a handler runs, so its lease stays fresh."""

    def __call__(self, beat: BeatFunction) -> AbstractContextManager[None]:
        """Keep calling `beat` until the block exits or `beat` returns False."""


class BeatFunction(Protocol):
    def __call__(self) -> bool:
        """Refresh the lease; False once the claim is lost."""


HandlerRegistry = Mapping[str, Handler]
