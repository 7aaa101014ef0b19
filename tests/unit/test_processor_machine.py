"""The processor under random interleavings: several workers, one in-memory store, a fake clock.

The machine keeps a model of what each worker believes it holds (the claimed copy of
each task it has not settled yet) and checks, after every step, that the store and
those beliefs agree: no task has two live holders, only a live holder's write lands,
attempts stay bounded, terminal states stay put unless an operator retries, every
retry waits exactly the backoff, and no task is ever lost. At the end of every run the
clock is pushed on and all workers run until quiet: then every task must be terminal.
"""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID

from attrs import evolve, frozen
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from adapters.memory import InMemoryTaskRepository
from adapters.signal import NullSignal
from application.actor import Actor
from application.errors import Conflict, TaskNotFound
from application.ports import TaskQuery
from application.processor import Processor
from application.tasks import TaskService
from domain.backoff import BackoffPolicy
from domain.lease import LeasePolicy
from domain.task import (
    CLAIMABLE_STATUSES,
    MAX_ERROR_CHARS,
    TERMINAL_STATUSES,
    Task,
    TaskStatus,
)
from tests.fakes import FakeClock
from tests.unit.outcomes import FAILURES, ScriptedHandler

S = TaskStatus
WORKERS = ("w0", "w1", "w2")
BASE = timedelta(seconds=5)
CAP = timedelta(seconds=30)
BACKOFF = BackoffPolicy(base=BASE, cap=CAP)
LEASE = LeasePolicy(stale_after=timedelta(minutes=5))
USERS = {"ada": Actor(name="ada"), "bob": Actor(name="bob")}
ADMIN = Actor(name="root", is_admin=True)
#: Tasks of this type have no handler.
ORPHAN = "orphan"
TIMES = ("run_at", "created_at", "updated_at", "locked_at", "heartbeat_at", "started_at")


@frozen(kw_only=True)
class TaskSpec:
    """What a rule enqueues."""

    owner: str
    type: str
    max_attempts: int
    priority: int
    delay: timedelta | None


TASK_SPECS = st.builds(
    TaskSpec,
    owner=st.sampled_from(sorted(USERS)),
    type=st.sampled_from(["echo", "echo", "echo", ORPHAN]),
    max_attempts=st.integers(min_value=1, max_value=4),
    priority=st.integers(min_value=0, max_value=2),
    delay=st.sampled_from([None, timedelta(seconds=10), timedelta(minutes=10)]),
)


def backoff_formula(attempt: int) -> timedelta:
    """The documented schedule, restated independently of BackoffPolicy."""
    return min(BASE * (1 << (attempt - 1)), CAP)


class ProcessorMachine(RuleBasedStateMachine):
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.repository = InMemoryTaskRepository()
        counter = itertools.count(1)
        # Ids in creation order: claim order ties break on them, so runs replay exactly.
        self.service = TaskService(
            repository=self.repository,
            clock=self.clock,
            signal=NullSignal(),
            new_id=lambda: UUID(int=next(counter)),
        )
        self.handler = ScriptedHandler()
        self.workers = {
            worker_id: Processor(
                repository=self.repository,
                clock=self.clock,
                handlers={"echo": self.handler},
                worker_id=worker_id,
                backoff=BACKOFF,
                lease=LEASE,
                rand=lambda: 0.5,
            )
            for worker_id in WORKERS
        }
        self.ids: list[UUID] = []
        #: What each worker believes it holds: the claimed copy of each unsettled task.
        self.held: dict[str, dict[UUID, Task]] = {w: {} for w in WORKERS}
        #: The stored tasks as the last step left them.
        self.snapshot: dict[UUID, Task] = {}
        #: Tasks an operator retried during the current step.
        self.retried: set[UUID] = set()

    # -- rules ---------------------------------------------------------------------

    @initialize(target=tasks, specs=st.lists(TASK_SPECS, min_size=1, max_size=4))
    def seed_tasks(self, specs: list[TaskSpec]) -> object:
        """Start every run with work to do, so that no run is spent on an empty queue."""
        return multiple(*(self._enqueue(spec) for spec in specs))

    @rule(target=tasks, spec=TASK_SPECS)
    def enqueue(self, spec: TaskSpec) -> UUID:
        return self._enqueue(spec)

    @rule(worker=st.sampled_from(WORKERS), limit=st.integers(min_value=1, max_value=3))
    def claim(self, worker: str, limit: int) -> None:
        now = self.clock.now()
        due = sorted(
            (t for t in self._stored() if t.is_due(now)),
            key=lambda t: (-t.priority, t.run_at, t.created_at, t.id.bytes),
        )
        claimed = self.workers[worker].claim(limit=limit)
        assert [t.id for t in claimed] == [t.id for t in due[:limit]]
        for before, task in zip(due, claimed, strict=False):
            assert task == before.claim(now=now, worker_id=worker)
            assert not self._live_holders(task.id), "a claimable task had a live holder"
            self.held[worker][task.id] = task

    @rule(
        worker=st.sampled_from(WORKERS),
        limit=st.integers(min_value=1, max_value=3),
        outcome=st.sampled_from(["success", "success", "error", "permanent"]),
    )
    def run_once(self, worker: str, limit: int, outcome: str) -> None:
        """The worker loop's own path: claim, run and settle in one go."""
        now = self.clock.now()
        due = sorted(
            (t for t in self._stored() if t.is_due(now)),
            key=lambda t: (-t.priority, t.run_at, t.created_at, t.id.bytes),
        )[:limit]
        for task in due:
            self.handler.plan[task.id] = outcome
        assert self.workers[worker].run_once(limit=limit) == len(due)
        for before in due:
            self._outcome_is_recorded(
                before.claim(now=now, worker_id=worker), self._get(before.id), outcome
            )

    @precondition(lambda self: self._pairs(live=True))
    @rule(data=st.data())
    def settle_success(self, data: st.DataObject) -> None:
        self._settle(data.draw(st.sampled_from(self._pairs(live=True))), "success")

    @precondition(lambda self: self._pairs(live=True))
    @rule(data=st.data(), outcome=st.sampled_from(FAILURES))
    def settle_failure(self, data: st.DataObject, outcome: str) -> None:
        self._settle(data.draw(st.sampled_from(self._pairs(live=True))), outcome)

    @precondition(lambda self: self._pairs(live=True))
    @rule(data=st.data())
    def settle_permanent_failure(self, data: st.DataObject) -> None:
        self._settle(data.draw(st.sampled_from(self._pairs(live=True))), "permanent")

    @precondition(lambda self: self._pairs(live=False))
    @rule(data=st.data(), outcome=st.sampled_from(["success", "error", "permanent"]))
    def late_settle_of_a_lost_claim(self, data: st.DataObject, outcome: str) -> None:
        self._settle(data.draw(st.sampled_from(self._pairs(live=False))), outcome)

    @precondition(lambda self: self._pairs(live=True))
    @rule(data=st.data(), outcome=st.sampled_from(["success", "error"]), rival=st.integers(1, 2))
    def slow_handler_outlives_its_lease(
        self, data: st.DataObject, outcome: str, rival: int
    ) -> None:
        """Run a handler, let the lease lapse, recover the task elsewhere, then settle late."""
        worker, task_id = data.draw(st.sampled_from(self._pairs(live=True)))
        claimed = self.held[worker].pop(task_id)
        self.handler.plan[task_id] = outcome
        settled = self.workers[worker].execute(claimed)
        self.clock.advance(LEASE.stale_after + timedelta(seconds=1))
        self._recover(WORKERS[(WORKERS.index(worker) + rival) % len(WORKERS)])
        recovered = self._get(task_id)
        assert recovered.status in {S.RETRYING, S.FAILED}
        assert not self.workers[worker].settle(claimed, settled)
        assert self._get(task_id) == recovered

    @rule(worker=st.sampled_from(WORKERS))
    def crash(self, worker: str) -> None:
        """The worker dies: it forgets its claims without settling or releasing them."""
        self.held[worker].clear()

    @rule(worker=st.sampled_from(WORKERS))
    def shutdown(self, worker: str) -> None:
        """The worker stops gracefully and hands back every task it holds."""
        for task_id, claimed in sorted(self.held[worker].items()):
            before = self._get(task_id)
            written = self.workers[worker].release(claimed)
            assert written == (before.version == claimed.version)
            after = self._get(task_id)
            if written:
                assert (after.status, after.attempts) == (S.PENDING, claimed.attempts - 1)
            else:
                assert after == before
        self.held[worker].clear()

    @rule(worker=st.sampled_from(WORKERS))
    def heartbeat(self, worker: str) -> None:
        now = self.clock.now()
        for task_id, claimed in sorted(self.held[worker].items()):
            before = self._get(task_id)
            alive = self.repository.heartbeat(claimed, now=now)
            assert alive == (before.version == claimed.version)
            assert self._get(task_id).heartbeat_at == (now if alive else before.heartbeat_at)

    @rule(seconds=st.integers(min_value=0, max_value=120))
    def advance_a_little(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule(seconds=st.integers(min_value=1, max_value=1800))
    def advance_past_the_stale_window(self, seconds: int) -> None:
        self.clock.advance(LEASE.stale_after + timedelta(seconds=seconds))

    @rule(worker=st.sampled_from(WORKERS))
    def recover_stale(self, worker: str) -> None:
        self._recover(worker)

    @rule(task_id=tasks, who=st.sampled_from(["owner", "stranger", "admin"]))
    def cancel(self, task_id: UUID, who: str) -> None:
        before = self._get(task_id)
        try:
            cancelled = self.service.cancel(actor=self._actor(before, who), task_id=task_id)
        except TaskNotFound:
            assert who == "stranger"
        except Conflict:
            assert who != "stranger"
            assert before.status not in CLAIMABLE_STATUSES
        else:
            assert who != "stranger"
            assert before.status in CLAIMABLE_STATUSES
            assert cancelled.status is S.CANCELLED
            assert self._get(task_id) == cancelled
            return
        assert self._get(task_id) == before

    @rule(task_id=tasks, who=st.sampled_from(["owner", "stranger", "admin"]))
    def operator_retry(self, task_id: UUID, who: str) -> None:
        before = self._get(task_id)
        try:
            retried = self.service.retry(actor=self._actor(before, who), task_id=task_id)
        except TaskNotFound:
            assert who == "stranger"
        except Conflict:
            assert who != "stranger"
            assert before.status not in {S.FAILED, S.CANCELLED}
        else:
            assert who != "stranger"
            assert before.status in {S.FAILED, S.CANCELLED}
            assert (retried.status, retried.attempts) == (S.PENDING, 0)
            assert self._get(task_id) == retried
            self.retried.add(task_id)
            return
        assert self._get(task_id) == before

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def store_agrees_with_the_model(self) -> None:
        stored = {task.id: task for task in self._stored()}
        self._no_task_is_lost(stored)
        for task in stored.values():
            self._attempts_stay_within_max(task)
            self._times_are_aware_utc(task)
            self._at_most_one_live_holder(task)
            previous = self.snapshot.get(task.id)
            if previous is not None and task != previous:
                self._changed_only_forward(previous, task)
                self._retry_waits_the_backoff(task)
        self.snapshot = stored
        self.retried.clear()

    def teardown(self) -> None:
        """Push time on and run every worker until quiet: every task must end terminal."""
        # Hypothesis calls teardown from a `finally`: after a failed step, report that
        # failure rather than whatever draining a broken model would raise on top of it.
        if sys.exc_info()[1] is None:
            self._drain()

    # -- checks ----------------------------------------------------------------------

    def _no_task_is_lost(self, stored: dict[UUID, Task]) -> None:
        assert set(stored) == set(self.ids)

    def _attempts_stay_within_max(self, task: Task) -> None:
        assert 0 <= task.attempts <= task.max_attempts

    def _times_are_aware_utc(self, task: Task) -> None:
        for name in TIMES:
            value: datetime | None = getattr(task, name)
            assert value is None or value.tzinfo is UTC, name

    def _at_most_one_live_holder(self, task: Task) -> None:
        holders = self._live_holders(task.id)
        assert len(holders) <= 1, f"task {task.id} held by {holders}"
        if holders:
            assert task.status is S.IN_PROGRESS
            assert task.locked_by == holders[0]

    def _changed_only_forward(self, previous: Task, task: Task) -> None:
        # Heartbeats refresh the lease without a transition; everything else bumps the version.
        heartbeat_only = evolve(task, heartbeat_at=previous.heartbeat_at) == previous
        assert heartbeat_only or task.version > previous.version
        if previous.status in TERMINAL_STATUSES:
            assert task.id in self.retried, f"terminal task {task.id} changed: {task.status}"

    def _retry_waits_the_backoff(self, task: Task) -> None:
        if task.status is not S.RETRYING:
            return
        failure = task.errors[-1]
        assert failure.attempt == task.attempts
        assert failure.at == task.updated_at
        assert task.run_at == failure.at + backoff_formula(task.attempts)

    # -- helpers ---------------------------------------------------------------------

    def _enqueue(self, spec: TaskSpec) -> UUID:
        task = self.service.enqueue(
            actor=USERS[spec.owner],
            type=spec.type,
            payload={"owner": spec.owner},
            max_attempts=spec.max_attempts,
            priority=spec.priority,
            run_at=None if spec.delay is None else self.clock.now() + spec.delay,
        )
        self.ids.append(task.id)
        return task.id

    def _settle(self, pair: tuple[str, UUID], outcome: str) -> None:
        worker, task_id = pair
        claimed = self.held[worker].pop(task_id)
        before = self._get(task_id)
        holds = before.version == claimed.version
        self.handler.plan[task_id] = outcome
        settled = self.workers[worker].execute(claimed)
        written = self.workers[worker].settle(claimed, settled)
        assert written == holds, "only the live holder's write may land"
        after = self._get(task_id)
        if not written:
            assert after == before
            return
        assert after == settled
        self._outcome_is_recorded(claimed, after, outcome)

    def _outcome_is_recorded(self, claimed: Task, after: Task, outcome: str) -> None:
        assert after.locked_by is None
        if claimed.type == ORPHAN:
            assert after.status is S.FAILED
            assert after.error == f"no handler for task type {ORPHAN!r}"
            return
        if outcome == "success":
            assert after.status is S.COMPLETED
            assert after.result == {"echo": claimed.payload}
            return
        retryable = outcome != "permanent" and claimed.attempts < claimed.max_attempts
        assert after.status is (S.RETRYING if retryable else S.FAILED)
        assert after.error is not None
        assert len(after.error) <= MAX_ERROR_CHARS
        assert "\x00" not in after.error
        after.error.encode("utf-8")

    def _recover(self, worker: str) -> None:
        now = self.clock.now()
        stale = [t for t in self._stored() if t.is_stale(LEASE.stale_before(now))]
        assert self.workers[worker].recover_stale() == len(stale)
        for before in stale:
            after = self._get(before.id)
            retryable = before.attempts < before.max_attempts
            assert after.status is (S.RETRYING if retryable else S.FAILED)
            assert after.attempts == before.attempts, "an expired lease is a counted attempt"
            assert after.error == f"lease expired: worker {before.locked_by} stopped heartbeating"

    def _drain(self) -> None:
        for claims in self.held.values():
            claims.clear()  # whatever was still running dies with its worker
        step = max(LEASE.stale_after, CAP) + timedelta(seconds=1)
        for _ in range(4 * 4 + 4):  # enough rounds for every attempt of every task
            if all(task.is_terminal for task in self._stored()):
                break
            self.clock.advance(step)
            self.workers[WORKERS[0]].recover_stale()
            for processor in self.workers.values():
                while processor.run_once(limit=3):
                    pass
        unfinished = [(t.id, t.status) for t in self._stored() if not t.is_terminal]
        assert not unfinished, f"tasks never finished: {unfinished}"

    def _live_holders(self, task_id: UUID) -> list[str]:
        stored = self.repository.get(task_id)
        return [
            worker
            for worker, claims in self.held.items()
            if stored is not None
            and task_id in claims
            and claims[task_id].version == stored.version
        ]

    def _pairs(self, *, live: bool) -> list[tuple[str, UUID]]:
        return sorted(
            (worker, task_id)
            for worker, claims in self.held.items()
            for task_id, claimed in claims.items()
            if (self._get(task_id).version == claimed.version) == live
        )

    def _actor(self, task: Task, who: str) -> Actor:
        if who == "admin":
            return ADMIN
        if who == "owner":
            return USERS[task.owner]
        return next(actor for name, actor in USERS.items() if name != task.owner)

    def _get(self, task_id: UUID) -> Task:
        task = self.repository.get(task_id)
        assert task is not None, f"task {task_id} was lost"
        return task

    def _stored(self) -> list[Task]:
        summaries = self.repository.list(TaskQuery(limit=10_000)).items
        return [self._get(summary.id) for summary in summaries]


ProcessorMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
test_processor_machine = ProcessorMachine.TestCase
