"""One task driven through random transitions; its invariants hold after every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.backoff import BackoffPolicy
from domain.errors import InvalidTransition
from domain.task import TERMINAL_STATUSES, Task, TaskStatus
from tests.fakes import FakeClock
from tests.unit.builders import new_task

S = TaskStatus
BACKOFF = BackoffPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=2))
TIMES = ("run_at", "created_at", "updated_at", "locked_at", "heartbeat_at", "started_at")


class TaskLifecycle(RuleBasedStateMachine):
    """The model: which moves the spec allows from each status, and a count of moves made."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.task: Task = new_task()
        self.moves = 0
        self.operator_retried = False
        self.previous = self.task

    @initialize(max_attempts=st.integers(min_value=1, max_value=5))
    def create(self, max_attempts: int) -> None:
        self.task = self.previous = new_task(max_attempts=max_attempts, now=self.clock.now())

    @rule(seconds=st.integers(min_value=0, max_value=300))
    def advance(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule(worker=st.sampled_from(["w1", "w2"]))
    def claim(self, worker: str) -> None:
        now = self.clock.now()
        allowed = self.task.status in {S.PENDING, S.RETRYING} and self.task.run_at <= now
        before = self.task.attempts
        if self._attempt(lambda t: t.claim(now=now, worker_id=worker), allowed=allowed):
            assert self.task.attempts == before + 1
            assert self.task.locked_by == worker

    @rule()
    def complete(self) -> None:
        self._attempt(
            lambda t: t.complete(now=self.clock.now(), result={}),
            allowed=self.task.status is S.IN_PROGRESS,
        )

    @rule(retryable=st.booleans(), rand=st.floats(min_value=0.0, max_value=1.0))
    def fail(self, retryable: bool, rand: float) -> None:
        now = self.clock.now()
        self._attempt_failure(
            lambda t: t.fail(
                now=now, message="boom", backoff=BACKOFF, retryable=retryable, rand=rand
            ),
            retryable=retryable,
        )

    @rule()
    def expire(self) -> None:
        now = self.clock.now()
        self._attempt_failure(lambda t: t.expire(now=now, backoff=BACKOFF), retryable=True)

    @rule()
    def release(self) -> None:
        before = self.task.attempts
        if self._attempt(
            lambda t: t.release(now=self.clock.now()), allowed=self.task.status is S.IN_PROGRESS
        ):
            assert self.task.attempts == before - 1

    @rule()
    def cancel(self) -> None:
        self._attempt(
            lambda t: t.cancel(now=self.clock.now()),
            allowed=self.task.status in {S.PENDING, S.RETRYING},
        )

    @rule()
    def operator_retry(self) -> None:
        if self._attempt(
            lambda t: t.retry(now=self.clock.now()),
            allowed=self.task.status in {S.FAILED, S.CANCELLED},
        ):
            self.operator_retried = True
            assert self.task.attempts == 0

    @rule()
    def heartbeat(self) -> None:
        now = self.clock.now()
        try:
            beaten = self.task.heartbeat(now=now)
        except InvalidTransition:
            assert self.task.status is not S.IN_PROGRESS
        else:
            assert self.task.status is S.IN_PROGRESS
            assert beaten.version == self.task.version
            self.task = beaten

    @invariant()
    def attempts_stay_within_bounds(self) -> None:
        assert 0 <= self.task.attempts <= self.task.max_attempts

    @invariant()
    def version_counts_the_transitions(self) -> None:
        assert self.task.version == self.moves

    @invariant()
    def terminal_state_changes_only_by_operator_retry(self) -> None:
        if self.previous.status in TERMINAL_STATUSES and self.task != self.previous:
            assert self.operator_retried
        self.previous = self.task
        self.operator_retried = False

    @invariant()
    def times_are_aware_utc(self) -> None:
        for name in TIMES:
            value: datetime | None = getattr(self.task, name)
            assert value is None or value.tzinfo is UTC
        assert all(record.at.tzinfo is UTC for record in self.task.errors)

    @invariant()
    def only_a_task_in_progress_is_locked(self) -> None:
        assert (self.task.locked_by is not None) == (self.task.status is S.IN_PROGRESS)

    def _attempt_failure(self, move: Callable[[Task], Task], *, retryable: bool) -> None:
        running = self.task
        if not self._attempt(move, allowed=running.status is S.IN_PROGRESS):
            return
        expected = S.RETRYING if retryable and running.attempts < running.max_attempts else S.FAILED
        assert self.task.status is expected
        assert self.task.attempts == running.attempts
        assert self.task.errors[-1].attempt == running.attempts

    def _attempt(self, move: Callable[[Task], Task], *, allowed: bool) -> bool:
        """Apply `move`; it must succeed (one version up) exactly when the spec allows it."""
        try:
            moved = move(self.task)
        except InvalidTransition:
            assert not allowed, f"{self.task.status} refused a move the spec allows"
            return False
        assert allowed, f"{self.task.status} allowed a move the spec forbids: {moved.status}"
        assert moved.version == self.task.version + 1
        assert moved.updated_at == self.clock.now()
        self.task = moved
        self.moves += 1
        return True


TaskLifecycle.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_task_lifecycle = TaskLifecycle.TestCase
