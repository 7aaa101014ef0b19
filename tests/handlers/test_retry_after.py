"""A handler that was told when to come back (HTTP 429 Retry-After) waits that long."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from adapters.memory import InMemoryTaskRepository
from application.processor import Processor
from domain.backoff import BackoffPolicy
from domain.errors import RetryLaterError
from domain.task import JsonObject, Task, TaskStatus
from tests.fakes import FakeClock
from tests.handlers.support import START

POLICY = BackoffPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=30))


def run_throttled(delay: timedelta) -> Task:
    def throttled(task: Task) -> JsonObject:
        raise RetryLaterError("feed answered HTTP 429", delay=delay)

    clock = FakeClock(START)
    repository = InMemoryTaskRepository()
    task = Task.create(id=uuid4(), type="job_fetch", owner="ada", payload={}, now=START)
    repository.add(task)
    processor = Processor(
        repository=repository,
        clock=clock,
        handlers={"job_fetch": throttled},
        worker_id="w",
        backoff=POLICY,
    )
    processor.run_once()
    stored = repository.get(task.id)
    assert stored is not None
    return stored


def test_the_next_attempt_waits_as_long_as_the_peer_asked() -> None:
    task = run_throttled(timedelta(minutes=2))
    assert task.status is TaskStatus.RETRYING
    assert task.run_at == START + timedelta(minutes=2)
    assert task.error == "RetryLaterError: feed answered HTTP 429"


def test_a_shorter_request_than_the_backoff_keeps_the_backoff() -> None:
    assert run_throttled(timedelta(seconds=1)).run_at == START + timedelta(seconds=5)


def test_the_backoff_cap_bounds_what_a_peer_may_ask() -> None:
    assert run_throttled(timedelta(days=2)).run_at == START + timedelta(minutes=30)


def test_a_throttled_attempt_still_counts_against_max_attempts() -> None:
    task = Task.create(id=uuid4(), type="t", owner="ada", payload={}, now=START, max_attempts=1)
    claimed = task.claim(now=START, worker_id="w")
    failed = claimed.fail(
        now=START, message="429", backoff=POLICY, wait_at_least=timedelta(minutes=1)
    )
    assert failed.status is TaskStatus.FAILED
