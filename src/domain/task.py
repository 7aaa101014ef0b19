"""The task entity and its state machine.

A `Task` never changes in place: every transition checks the one table below
and returns a new task through `attrs.evolve`, with `version` bumped so that
storage can refuse a write made from a stale copy (compare-and-set).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from attrs import evolve, field, frozen

from domain.backoff import BackoffPolicy
from domain.clocktime import optional_utc, utc
from domain.errors import InvalidTransition

#: JSON objects as the domain sees them: plain dicts of JSON values.
JsonObject = dict[str, Any]

#: Longest error message kept on a task; longer ones are cut, so a handler
#: that raises a megabyte of text cannot bloat the row.
MAX_ERROR_CHARS = 2_000


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    #: Waiting for its first attempt (or released by a worker that shut down).
    PENDING = "pending"
    #: Claimed by a worker, which heartbeats while the handler runs.
    IN_PROGRESS = "in_progress"
    #: The handler returned; `result` holds what it returned. Terminal.
    COMPLETED = "completed"
    #: Out of attempts, or failed permanently; `error` says why. Terminal.
    FAILED = "failed"
    #: An attempt failed and another is due at `run_at`.
    RETRYING = "retrying"
    #: Cancelled before it ran. Terminal.
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
CLAIMABLE_STATUSES = frozenset({TaskStatus.PENDING, TaskStatus.RETRYING})

_S = TaskStatus
#: The whole state machine. Terminal states leave only through an operator's retry.
TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    _S.PENDING: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
    _S.RETRYING: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.RETRYING, _S.FAILED, _S.PENDING}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset({_S.PENDING}),
    _S.CANCELLED: frozenset({_S.PENDING}),
}
#: Two methods lead to `pending`, each from its own statuses only: a worker's release
#: never reopens a finished task, and an operator's retry never resets a running one.
RELEASABLE_STATUSES = frozenset({TaskStatus.IN_PROGRESS})
RETRYABLE_STATUSES = frozenset({TaskStatus.FAILED, TaskStatus.CANCELLED})


def bounded_message(text: str) -> str:
    """Cut `text` to `MAX_ERROR_CHARS`, saying so, and drop characters storage refuses."""
    clean = text.replace("\x00", "\\x00")
    if len(clean) <= MAX_ERROR_CHARS:
        return clean
    return clean[: MAX_ERROR_CHARS - 20] + " ... [truncated]"


@frozen(kw_only=True)
class ErrorRecord:
    """One failed attempt: which, when, and why."""

    attempt: int
    at: datetime = field(converter=utc)
    message: str = field(converter=bounded_message)


def _at_least_one(_: object, __: object, value: int) -> None:
    if value < 1:
        raise ValueError(f"max_attempts must be at least 1, got {value}")


@frozen(kw_only=True)
class Task:
    """A unit of work, its progress, and its outcome."""

    id: UUID
    type: str
    owner: str
    payload: JsonObject
    status: TaskStatus = TaskStatus.PENDING
    result: JsonObject | None = None
    #: The last error message; `errors` keeps the history, one record per failed attempt.
    error: str | None = None
    errors: tuple[ErrorRecord, ...] = ()
    attempts: int = 0
    max_attempts: int = field(default=3, validator=_at_least_one)
    #: Higher runs first.
    priority: int = 0
    #: The earliest time the next attempt may start.
    run_at: datetime = field(converter=utc)
    locked_by: str | None = None
    locked_at: datetime | None = field(default=None, converter=optional_utc)
    heartbeat_at: datetime | None = field(default=None, converter=optional_utc)
    created_at: datetime = field(converter=utc)
    updated_at: datetime = field(converter=utc)
    started_at: datetime | None = field(default=None, converter=optional_utc)
    finished_at: datetime | None = field(default=None, converter=optional_utc)
    #: Bumped by every transition; storage writes only over the version it read.
    version: int = 0

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        type: str,
        owner: str,
        payload: JsonObject,
        now: datetime,
        max_attempts: int = 3,
        priority: int = 0,
        run_at: datetime | None = None,
    ) -> Task:
        """A new pending task, due at `run_at` (default: now)."""
        return cls(
            id=id,
            type=type,
            owner=owner,
            payload=payload,
            max_attempts=max_attempts,
            priority=priority,
            run_at=run_at or now,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def is_due(self, now: datetime) -> bool:
        """True if a worker may claim this task at `now`."""
        return self.status in CLAIMABLE_STATUSES and self.run_at <= utc(now)

    def is_stale(self, stale_before: datetime) -> bool:
        """True if this task is in progress and its worker went quiet before `stale_before`."""
        last_sign = self.heartbeat_at or self.locked_at
        return (
            self.status is TaskStatus.IN_PROGRESS
            and last_sign is not None
            and last_sign < utc(stale_before)
        )

    def claim(self, *, now: datetime, worker_id: str) -> Task:
        """Start an attempt: the task becomes `worker_id`'s until it settles or goes stale."""
        if not self.is_due(now):
            self._refuse(TaskStatus.IN_PROGRESS)
        return self._move(
            TaskStatus.IN_PROGRESS,
            now=now,
            attempts=self.attempts + 1,
            locked_by=worker_id,
            locked_at=now,
            heartbeat_at=now,
            started_at=now,
        )

    def heartbeat(self, *, now: datetime) -> Task:
        """Record that the worker holding this task is alive; not a transition."""
        if self.status is not TaskStatus.IN_PROGRESS:
            self._refuse(TaskStatus.IN_PROGRESS)
        return evolve(self, heartbeat_at=now)

    def complete(self, *, now: datetime, result: JsonObject) -> Task:
        """Finish the attempt successfully with `result`."""
        return self._move(
            TaskStatus.COMPLETED,
            now=now,
            result=result,
            finished_at=now,
            **_UNLOCKED,
        )

    def fail(
        self,
        *,
        now: datetime,
        message: str,
        backoff: BackoffPolicy,
        retryable: bool = True,
        rand: float = 0.5,
        wait_at_least: timedelta = timedelta(0),
    ) -> Task:
        """Record a failed attempt: retry after the backoff while attempts remain, else fail.

        `wait_at_least` lengthens the wait (a peer's Retry-After); the backoff cap still bounds it.
        """
        retrying = retryable and self.attempts < self.max_attempts
        # Check the edge before computing the backoff, which a never-claimed task
        # (attempts == 0) would make raise a ValueError instead of InvalidTransition.
        self._check(TaskStatus.RETRYING if retrying else TaskStatus.FAILED)
        record = ErrorRecord(attempt=self.attempts, at=now, message=message)
        changes: dict[str, Any] = {
            "error": record.message,
            "errors": (*self.errors, record),
            **_UNLOCKED,
        }
        if retrying:
            delay = max(backoff.delay(self.attempts, rand), min(wait_at_least, backoff.cap))
            due = utc(now) + delay
            return self._move(TaskStatus.RETRYING, now=now, run_at=due, **changes)
        return self._move(TaskStatus.FAILED, now=now, finished_at=now, **changes)

    def expire(self, *, now: datetime, backoff: BackoffPolicy, rand: float = 0.5) -> Task:
        """A lapsed lease is a failed attempt, so a task that kills its worker cannot loop forever."""
        message = f"lease expired: worker {self.locked_by} stopped heartbeating"
        return self.fail(now=now, message=message, backoff=backoff, rand=rand)

    def release(self, *, now: datetime) -> Task:
        """Hand an unfinished attempt back (worker shutdown); the attempt is not counted."""
        self._check(TaskStatus.PENDING, sources=RELEASABLE_STATUSES)
        return self._move(
            TaskStatus.PENDING,
            now=now,
            attempts=max(0, self.attempts - 1),
            run_at=now,
            **_UNLOCKED,
        )

    def cancel(self, *, now: datetime) -> Task:
        """Withdraw a task that has not started (or is waiting to retry)."""
        return self._move(TaskStatus.CANCELLED, now=now, finished_at=now)

    def retry(self, *, now: datetime) -> Task:
        """An operator's second chance for a failed or cancelled task: a fresh set of attempts."""
        self._check(TaskStatus.PENDING, sources=RETRYABLE_STATUSES)
        return self._move(
            TaskStatus.PENDING,
            now=now,
            attempts=0,
            run_at=now,
            finished_at=None,
            **_UNLOCKED,
        )

    def _move(self, target: TaskStatus, *, now: datetime, **changes: Any) -> Task:
        self._check(target)
        return evolve(self, status=target, updated_at=now, version=self.version + 1, **changes)

    def _check(self, target: TaskStatus, *, sources: frozenset[TaskStatus] | None = None) -> None:
        if target not in TRANSITIONS[self.status] or (
            sources is not None and self.status not in sources
        ):
            self._refuse(target)

    def _refuse(self, target: TaskStatus) -> None:
        raise InvalidTransition(task_id=self.id, current=self.status.value, target=target.value)


_UNLOCKED: dict[str, Any] = {"locked_by": None, "locked_at": None, "heartbeat_at": None}
