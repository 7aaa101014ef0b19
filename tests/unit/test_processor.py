"""The processor, attempt by attempt, over the in-memory store and a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.memory import InMemoryTaskRepository
from adapters.signal import NullSignal
from application.actor import Actor
from application.payloads import MAX_RESULT_BYTES
from application.ports import Handler
from application.processor import Processor, describe
from application.tasks import TaskService
from domain.backoff import BackoffPolicy
from domain.lease import LeasePolicy
from domain.task import MAX_ERROR_CHARS, JsonObject, Task, TaskStatus
from tests.fakes import FakeClock, FakeKeepalive
from tests.unit.outcomes import OUTCOMES

ADA = Actor(name="ada")
LEASE = LeasePolicy()


class World:
    """One store, one clock, and processors sharing them."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.repository = InMemoryTaskRepository()
        self.service = TaskService(
            repository=self.repository, clock=self.clock, signal=NullSignal()
        )
        self.handlers: dict[str, Handler] = {}
        self.keepalive = FakeKeepalive()

    def processor(self, worker_id: str = "w1") -> Processor:
        return Processor(
            repository=self.repository,
            clock=self.clock,
            handlers=self.handlers,
            worker_id=worker_id,
            backoff=BackoffPolicy(),
            lease=LEASE,
            keepalive=self.keepalive,
        )

    def enqueue(self, type: str = "echo", **fields: Any) -> Task:
        return self.service.enqueue(actor=ADA, type=type, payload={"n": 1}, **fields)

    def stored(self, task: Task) -> Task:
        stored = self.repository.get(task.id)
        assert stored is not None
        return stored

    def run(self, handler: Callable[[Task], Any], **fields: Any) -> Task:
        """Enqueue one task, process it once with `handler`, and return what was stored."""
        self.handlers["echo"] = handler
        task = self.enqueue(**fields)
        assert self.processor().run_once() == 1
        return self.stored(task)


@pytest.fixture
def world() -> World:
    return World()


def test_successful_handler_completes_the_task_with_its_result(world: World) -> None:
    done = world.run(lambda task: {"doubled": task.payload["n"] * 2})
    assert done.status is TaskStatus.COMPLETED
    assert done.result == {"doubled": 2}
    assert done.attempts == 1


def test_task_without_a_handler_fails_at_once_with_a_clear_message(world: World) -> None:
    task = world.enqueue(type="unknown_kind", max_attempts=5)
    world.processor().run_once()
    failed = world.stored(task)
    assert failed.status is TaskStatus.FAILED
    assert failed.attempts == 1
    assert failed.error == "no handler for task type 'unknown_kind'"


@pytest.mark.parametrize("result", [["a", "list"], "text", 42, None], ids=repr)
def test_handler_returning_a_non_object_fails_the_task(world: World, result: object) -> None:
    failed = world.run(lambda task: result)
    assert failed.status is TaskStatus.FAILED
    assert failed.error == "handler result refused: result must be a JSON object"


def test_handler_result_over_the_size_limit_fails_the_task(world: World) -> None:
    failed = world.run(lambda task: {"blob": "a" * MAX_RESULT_BYTES})
    assert failed.status is TaskStatus.FAILED
    assert failed.error is not None
    assert failed.error.startswith("handler result refused: result is")
    assert f"the limit is {MAX_RESULT_BYTES}" in failed.error
    assert failed.result is None


@pytest.mark.parametrize(
    "result",
    [{"text": "a\x00b"}, {"k\x00": 1}, {"rows": [["a\x00"]]}, {"rows": ("a\x00",)}],
    ids=["value", "key", "nested", "tuple"],
)
def test_handler_result_containing_nul_fails_the_task(world: World, result: JsonObject) -> None:
    failed = world.run(lambda task: result)
    assert failed.status is TaskStatus.FAILED
    assert failed.error is not None
    assert "NUL character" in failed.error
    assert "\x00" not in failed.error


def test_handler_result_that_is_not_json_fails_the_task(world: World) -> None:
    failed = world.run(lambda task: {"when": object()})
    assert failed.status is TaskStatus.FAILED
    assert failed.error is not None
    assert "not a JSON document" in failed.error


def test_handler_error_is_a_failed_attempt_retried_after_the_backoff(world: World) -> None:
    retrying = world.run(OUTCOMES["error"])
    assert retrying.status is TaskStatus.RETRYING
    assert retrying.error == "RuntimeError: boom"
    assert retrying.run_at == world.clock.now() + timedelta(seconds=5)
    assert retrying.locked_by is None


def test_handler_error_on_the_last_attempt_fails_the_task(world: World) -> None:
    failed = world.run(OUTCOMES["error"], max_attempts=1)
    assert failed.status is TaskStatus.FAILED
    assert failed.finished_at == world.clock.now()


def test_permanent_task_error_fails_at_once_with_attempts_left(world: World) -> None:
    failed = world.run(OUTCOMES["permanent"], max_attempts=5)
    assert failed.status is TaskStatus.FAILED
    assert failed.attempts == 1
    assert failed.error == "PermanentTaskError: bad input"


def test_exception_whose_str_raises_is_a_failed_attempt_with_a_readable_message(
    world: World,
) -> None:
    retrying = world.run(OUTCOMES["unprintable"])
    assert retrying.status is TaskStatus.RETRYING
    assert retrying.error == "UnprintableError: <error message could not be rendered>"


def test_exception_whose_str_returns_bytes_is_recorded_readably(world: World) -> None:
    retrying = world.run(OUTCOMES["bytes_str"])
    assert retrying.error == "BytesMessageError: <error message could not be rendered>"


def test_non_utf8_bytes_message_is_recorded_as_escaped_text(world: World) -> None:
    retrying = world.run(OUTCOMES["bytes"])
    assert retrying.error == "ValueError: b'\\xff\\xfe\\x00'"


def test_lone_surrogate_in_a_message_is_escaped_to_valid_utf8(world: World) -> None:
    retrying = world.run(OUTCOMES["surrogate"])
    assert retrying.error == "ValueError: caf\\udce9"
    retrying.error.encode("utf-8")


def test_huge_exception_message_is_bounded(world: World) -> None:
    retrying = world.run(OUTCOMES["huge"])
    assert retrying.error is not None
    assert len(retrying.error) <= MAX_ERROR_CHARS
    assert retrying.error.startswith("RuntimeError: xxx")


def test_nul_in_an_exception_message_is_escaped(world: World) -> None:
    retrying = world.run(OUTCOMES["nul"])
    assert retrying.error == "RuntimeError: nul\\x00inside"


def test_exception_without_a_message_is_named_by_its_type() -> None:
    assert describe(KeyError()) == "KeyError"


def test_handler_raising_system_exit_is_a_failed_attempt_not_a_dead_worker(
    world: World,
) -> None:
    def exits(task: Task) -> JsonObject:
        raise SystemExit(3)

    assert world.run(exits).status is TaskStatus.RETRYING


def test_keyboard_interrupt_in_a_handler_reaches_the_worker(world: World) -> None:
    def interrupted(task: Task) -> JsonObject:
        raise KeyboardInterrupt

    world.handlers["echo"] = interrupted
    world.enqueue()
    with pytest.raises(KeyboardInterrupt):
        world.processor().run_once()


def test_heartbeats_keep_a_long_task_from_being_taken_as_stale(world: World) -> None:
    rival = world.processor("w2")
    recovered: list[int] = []

    def long_task(task: Task) -> JsonObject:
        for _ in range(3):
            world.clock.advance(LEASE.stale_after - timedelta(seconds=1))
            world.keepalive.beat()
            recovered.append(rival.recover_stale())
        return {"done": True}

    done = world.run(long_task)
    assert recovered == [0, 0, 0]
    assert world.keepalive.beats == [True, True, True]
    assert done.status is TaskStatus.COMPLETED


def test_task_without_heartbeats_is_taken_as_stale_mid_run(world: World) -> None:
    rival = world.processor("w2")
    recovered: list[int] = []

    def silent_task(task: Task) -> JsonObject:
        world.clock.advance(LEASE.stale_after + timedelta(seconds=1))
        recovered.append(rival.recover_stale())
        return {"done": True}

    expired = world.run(silent_task)
    assert recovered == [1]
    assert expired.status is TaskStatus.RETRYING
    assert expired.error == "lease expired: worker w1 stopped heartbeating"
    assert expired.result is None


def test_heartbeat_after_the_claim_was_lost_reports_it(world: World) -> None:
    rival = world.processor("w2")

    def outlived(task: Task) -> JsonObject:
        world.clock.advance(LEASE.stale_after + timedelta(seconds=1))
        rival.recover_stale()
        assert not world.keepalive.beat()
        return {}

    world.run(outlived)
    assert world.keepalive.beats == [False]


def test_settle_after_the_claim_was_lost_writes_nothing(world: World) -> None:
    world.handlers["echo"] = OUTCOMES["success"]
    task = world.enqueue()
    worker, rival = world.processor("w1"), world.processor("w2")
    [claimed] = worker.claim()
    settled = worker.execute(claimed)
    world.clock.advance(LEASE.stale_after + timedelta(seconds=1))
    assert rival.recover_stale() == 1
    recovered = world.stored(task)

    assert not worker.settle(claimed, settled)
    assert world.stored(task) == recovered


def test_settle_after_the_task_was_reclaimed_does_not_touch_the_new_claim(
    world: World,
) -> None:
    world.handlers["echo"] = OUTCOMES["success"]
    task = world.enqueue()
    worker, rival = world.processor("w1"), world.processor("w2")
    [claimed] = worker.claim()
    world.clock.advance(LEASE.stale_after + timedelta(seconds=1))
    rival.recover_stale()
    world.clock.advance(timedelta(minutes=1))
    [reclaimed] = rival.claim()

    assert not worker.process(claimed).written
    assert world.stored(task) == reclaimed
    assert rival.process(reclaimed).written
    assert world.stored(task).status is TaskStatus.COMPLETED


def test_recovery_leaves_a_task_whose_worker_is_alive(world: World) -> None:
    world.enqueue()
    worker = world.processor("w1")
    [claimed] = worker.claim()
    world.clock.advance(LEASE.stale_after)
    assert world.processor("w2").recover_stale() == 0
    assert world.stored(claimed).status is TaskStatus.IN_PROGRESS


class HeartbeatAfterFind(InMemoryTaskRepository):
    """A store whose workers all heartbeat just after the sweep has found them stale."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock

    def find_stale(self, *, stale_before: datetime, limit: int) -> Sequence[Task]:
        found = super().find_stale(stale_before=stale_before, limit=limit)
        for task in found:
            assert self.heartbeat(task, now=self._clock.now())
        return found


def test_recovery_spares_a_task_that_heartbeated_after_it_was_found_stale() -> None:
    clock = FakeClock()
    repository = HeartbeatAfterFind(clock)
    service = TaskService(repository=repository, clock=clock, signal=NullSignal())
    task = service.enqueue(actor=ADA, type="echo", payload={})
    processor = Processor(repository=repository, clock=clock, handlers={}, worker_id="w1")
    [claimed] = processor.claim()
    clock.advance(LEASE.stale_after + timedelta(seconds=1))
    assert (
        Processor(repository=repository, clock=clock, handlers={}, worker_id="w2").recover_stale()
        == 0
    )
    alive = repository.get(task.id)
    assert alive is not None
    assert (alive.status, alive.version) == (TaskStatus.IN_PROGRESS, claimed.version)


def test_settle_many_writes_only_the_claims_still_held(world: World) -> None:
    world.handlers["echo"] = OUTCOMES["success"]
    first, second = world.enqueue(), world.enqueue()
    worker = world.processor("w1")
    claimed = worker.claim(limit=2)
    assert {t.id for t in claimed} == {first.id, second.id}
    lost = next(t for t in claimed if t.id == first.id)
    # Another party moves `first` on (here: a release) while the worker runs it.
    world.repository.replace(lost.release(now=world.clock.now()), expected_version=lost.version)

    written = worker.settle_many([(t, worker.execute(t)) for t in claimed])
    assert dict(zip([t.id for t in claimed], written, strict=True)) == {
        first.id: False,
        second.id: True,
    }
    assert world.stored(first).status is TaskStatus.PENDING
    assert world.stored(second).status is TaskStatus.COMPLETED


def test_released_task_runs_again_without_losing_an_attempt(world: World) -> None:
    task = world.enqueue(max_attempts=1)
    worker = world.processor("w1")
    [claimed] = worker.claim()
    assert worker.release(claimed)
    released = world.stored(task)
    assert (released.status, released.attempts) == (TaskStatus.PENDING, 0)
    world.handlers["echo"] = OUTCOMES["success"]
    assert world.processor("w2").run_once() == 1
    assert world.stored(task).status is TaskStatus.COMPLETED


def test_claim_takes_the_highest_priority_first_up_to_the_limit(world: World) -> None:
    low = world.enqueue(priority=0)
    high = world.enqueue(priority=5)
    middle = world.enqueue(priority=2)
    claimed = world.processor().claim(limit=2)
    assert [t.id for t in claimed] == [high.id, middle.id]
    assert world.stored(low).status is TaskStatus.PENDING


def test_claim_skips_a_task_not_yet_due(world: World) -> None:
    world.enqueue(run_at=world.clock.now() + timedelta(minutes=1))
    assert world.processor().claim() == []
    world.clock.advance(timedelta(minutes=1))
    assert len(world.processor().claim()) == 1


def test_no_task_is_claimed_by_two_workers(world: World) -> None:
    for _ in range(5):
        world.enqueue()
    first = world.processor("w1").claim(limit=3)
    second = world.processor("w2").claim(limit=3)
    assert len(first) == 3
    assert len(second) == 2
    assert not {t.id for t in first} & {t.id for t in second}
