"""The poll loop: wake-ups, full slots, surviving failures, and a shutdown that loses nothing."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.memory import InMemoryTaskRepository
from adapters.signal import EventSignal
from application.actor import Actor
from application.ports import Handler
from application.processor import Processor
from application.tasks import TaskService
from domain.task import JsonObject, Task, TaskStatus
from entrypoints.container import build_container
from entrypoints.settings import Settings
from entrypoints.worker import Worker
from tests.fakes import FakeClock
from tests.worker.signals import WatchedSignal

#: A safety net for waits that should end at once; never reached when the code is right.
PATIENCE = 10.0
ADA = Actor(name="ada")


class WatchedRepository(InMemoryTaskRepository):
    """The real in-memory store, with hooks a test can watch and act on."""

    def __init__(self) -> None:
        super().__init__()
        self.after_claim: Callable[[], None] = lambda: None
        self.writes: queue.SimpleQueue[tuple[TaskStatus, bool]] = queue.SimpleQueue()
        self.beats = threading.Event()
        self.beaten: set[UUID] = set()
        self.lost: set[UUID] = set()
        self.failing_claims = 0

    def claim(self, *, now: datetime, worker_id: str, limit: int) -> Sequence[Task]:
        if self.failing_claims:
            self.failing_claims -= 1
            raise RuntimeError("database is locked")
        claimed = super().claim(now=now, worker_id=worker_id, limit=limit)
        self.after_claim()
        return claimed

    def replace(
        self, task: Task, *, expected_version: int, heartbeat_before: datetime | None = None
    ) -> bool:
        written = super().replace(
            task, expected_version=expected_version, heartbeat_before=heartbeat_before
        )
        self.writes.put((task.status, written))
        return written

    def heartbeat(self, task: Task, *, now: datetime) -> bool:
        held = super().heartbeat(task, now=now)
        self.beaten.add(task.id)
        if not held:
            self.lost.add(task.id)
        self.beats.set()
        return held


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repository() -> WatchedRepository:
    return WatchedRepository()


@pytest.fixture
def signal() -> WatchedSignal:
    return WatchedSignal()


def make_worker(
    repository: InMemoryTaskRepository,
    clock: FakeClock,
    signal: EventSignal,
    handlers: dict[str, Handler],
    **options: Any,
) -> Worker:
    processor = Processor(repository=repository, clock=clock, handlers=handlers, worker_id="w1")
    options = {"poll_interval": timedelta(hours=1), **options}
    return Worker(processor=processor, wakeup=signal, **options)


def enqueue(
    repository: InMemoryTaskRepository, clock: FakeClock, type: str, **options: Any
) -> Task:
    service = TaskService(repository=repository, clock=clock, signal=EventSignal())
    return service.enqueue(actor=ADA, type=type, payload={}, **options)


def status_of(repository: InMemoryTaskRepository, task_id: UUID) -> Task:
    task = repository.get(task_id)
    assert task is not None
    return task


@contextmanager
def running(worker: Worker) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop()
        thread.join(PATIENCE)
        assert not thread.is_alive(), "the worker did not stop"


def test_an_enqueue_wakes_an_idle_worker_at_once(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    ran = threading.Event()

    def handler(task: Task) -> JsonObject:
        ran.set()
        return {}

    worker = make_worker(repository, clock, signal, {"job": handler})
    service = TaskService(repository=repository, clock=clock, signal=signal)
    with running(worker):
        assert signal.waiting.wait(PATIENCE), "the worker never went idle"

        service.enqueue(actor=ADA, type="job", payload={})

        # The poll interval is an hour: only the wake-up can make this happen.
        assert ran.wait(PATIENCE)


def test_a_raising_handler_does_not_stop_the_worker(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    good_ran = threading.Event()

    def bad(task: Task) -> JsonObject:
        raise RuntimeError("handler exploded")

    def good(task: Task) -> JsonObject:
        good_ran.set()
        return {}

    # One slot, and the bad task first: the good one runs only after the bad one settled.
    bad_task = enqueue(repository, clock, "bad", priority=1)
    enqueue(repository, clock, "good")
    worker = make_worker(repository, clock, signal, {"bad": bad, "good": good}, concurrency=1)
    with running(worker) as thread:
        assert good_ran.wait(PATIENCE)
        assert thread.is_alive()

    settled = status_of(repository, bad_task.id)
    assert settled.status is TaskStatus.RETRYING
    assert settled.error == "RuntimeError: handler exploded"


def test_the_worker_survives_a_storage_error_while_claiming(
    repository: WatchedRepository,
    clock: FakeClock,
    signal: WatchedSignal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran = threading.Event()

    def handler(task: Task) -> JsonObject:
        ran.set()
        return {}

    repository.failing_claims = 2
    enqueue(repository, clock, "job")
    worker = make_worker(
        repository, clock, signal, {"job": handler}, error_pause=timedelta(milliseconds=1)
    )
    with caplog.at_level(logging.ERROR), running(worker):
        assert ran.wait(PATIENCE)

    assert "claiming failed" in caplog.text


def test_free_slots_are_filled_without_waiting_for_the_poll_interval(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    # Four handlers that each wait for all four to be running: this only finishes
    # if the worker claims its second batch at once rather than after the interval.
    all_running = threading.Barrier(4, timeout=PATIENCE)
    passed = threading.Semaphore(0)

    def handler(task: Task) -> JsonObject:
        all_running.wait()
        passed.release()
        return {}

    tasks = [enqueue(repository, clock, "job") for _ in range(4)]
    worker = make_worker(repository, clock, signal, {"job": handler}, concurrency=4, batch_size=2)
    with running(worker):
        for _ in tasks:
            assert passed.acquire(timeout=PATIENCE)

    assert {status_of(repository, t.id).status for t in tasks} == {TaskStatus.COMPLETED}


def one_slot_claiming_ahead(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal, handler: Handler
) -> Worker:
    """A worker with one handler slot that claims three tasks at a time and heartbeats
    the waiting claims every 10 ms."""
    return make_worker(
        repository,
        clock,
        signal,
        {"job": handler},
        concurrency=1,
        batch_size=3,
        recover_every=timedelta(milliseconds=10),
    )


def wait_for_heartbeats_until(repository: WatchedRepository, done: Callable[[], bool]) -> None:
    while not done():
        repository.beats.clear()
        assert repository.beats.wait(PATIENCE), "no heartbeat came"


def wait_until_completed(
    repository: WatchedRepository, signal: WatchedSignal, tasks: Sequence[Task]
) -> None:
    for task in tasks:
        while status_of(repository, task.id).status is not TaskStatus.COMPLETED:
            assert signal.waiting.wait(PATIENCE)
            signal.waiting.clear()


def test_a_batch_larger_than_the_slots_is_claimed_ahead_and_kept_alive_while_it_waits(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    release = threading.Event()
    running_ids: list[UUID] = []

    def handler(task: Task) -> JsonObject:
        running_ids.append(task.id)
        release.wait(PATIENCE)
        return {}

    tasks = [enqueue(repository, clock, "job") for _ in range(3)]
    with running(one_slot_claiming_ahead(repository, clock, signal, handler)):
        # One slot runs a task; the other two are claimed ahead and wait for it,
        # heartbeated by the worker so they cannot be taken for stale.
        def waiting_ones_beaten() -> bool:
            waiting = {t.id for t in tasks} - set(running_ids)
            return bool(running_ids) and waiting <= repository.beaten

        wait_for_heartbeats_until(repository, waiting_ones_beaten)
        assert {status_of(repository, t.id).status for t in tasks} == {TaskStatus.IN_PROGRESS}
        release.set()
        wait_until_completed(repository, signal, tasks)


def test_a_waiting_claim_taken_back_meanwhile_is_not_run_on_the_old_claim(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    release = threading.Event()
    ran: list[UUID] = []

    def handler(task: Task) -> JsonObject:
        ran.append(task.id)
        if len(ran) == 1:
            release.wait(PATIENCE)
        return {}

    tasks = [enqueue(repository, clock, "job") for _ in range(2)]
    with running(one_slot_claiming_ahead(repository, clock, signal, handler)):
        wait_for_heartbeats_until(repository, lambda: bool(ran))
        (waiting,) = {t.id for t in tasks} - set(ran)
        held = status_of(repository, waiting)
        # As a stale sweep or a shutting-down peer would: the claim is taken back.
        assert repository.replace(held.release(now=clock.now()), expected_version=held.version)
        wait_for_heartbeats_until(repository, lambda: waiting in repository.lost)
        release.set()
        wait_until_completed(repository, signal, tasks)

    assert ran.count(waiting) == 1  # run once, under its new claim


def test_stop_lets_running_tasks_finish_within_the_grace_period(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    started, release = threading.Event(), threading.Event()

    def handler(task: Task) -> JsonObject:
        started.set()
        release.wait(PATIENCE)
        return {"finished": True}

    task = enqueue(repository, clock, "job")
    worker = make_worker(
        repository, clock, signal, {"job": handler}, shutdown_grace=timedelta(seconds=PATIENCE)
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(PATIENCE)

    worker.stop()
    release.set()
    thread.join(PATIENCE)

    assert not thread.is_alive()
    finished = status_of(repository, task.id)
    assert (finished.status, finished.result) == (TaskStatus.COMPLETED, {"finished": True})


def test_stop_releases_a_task_still_running_after_the_grace_period(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def handler(task: Task) -> JsonObject:
        started.set()
        release.wait(PATIENCE)
        finished.set()
        return {}

    task = enqueue(repository, clock, "job")
    worker = make_worker(repository, clock, signal, {"job": handler}, shutdown_grace=timedelta(0))
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(PATIENCE)

    worker.stop()
    thread.join(PATIENCE)

    assert not thread.is_alive()
    released = status_of(repository, task.id)
    assert (released.status, released.attempts, released.locked_by) == (
        TaskStatus.PENDING,
        0,
        None,
    )
    # The handler finishing late must not overwrite the released task.
    release.set()
    assert finished.wait(PATIENCE)
    assert status_of(repository, task.id).status is TaskStatus.PENDING


def test_tasks_claimed_as_shutdown_begins_are_released_unrun(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    ran: list[UUID] = []

    def handler(task: Task) -> JsonObject:
        ran.append(task.id)
        return {}

    tasks = [enqueue(repository, clock, "job") for _ in range(3)]
    worker = make_worker(repository, clock, signal, {"job": handler}, concurrency=3)
    repository.after_claim = worker.stop  # the stop request lands while the claim returns

    worker.run()

    assert ran == []
    for task in tasks:
        released = status_of(repository, task.id)
        assert (released.status, released.attempts) == (TaskStatus.PENDING, 0)


def test_the_worker_recovers_stale_tasks(
    repository: WatchedRepository, clock: FakeClock, signal: WatchedSignal
) -> None:
    task = enqueue(repository, clock, "job")
    [claimed] = repository.claim(now=clock.now(), worker_id="dead-worker", limit=1)
    clock.advance(timedelta(minutes=10))
    worker = make_worker(repository, clock, signal, {})
    repository.after_claim = worker.stop

    worker.run()

    recovered = status_of(repository, task.id)
    assert recovered.status is TaskStatus.RETRYING
    assert recovered.error == "lease expired: worker dead-worker stopped heartbeating"
    assert claimed.version < recovered.version


def test_the_container_wires_heartbeats_while_a_handler_runs(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TASKSPOOL_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "memory://",
            "STALE_AFTER_SECONDS": "0.05",  # heartbeats every 10 ms
        }
    )
    container = build_container(settings)
    repository = WatchedRepository()
    container.repository.override(repository)
    beat_seen = threading.Event()

    def handler(task: Task) -> JsonObject:
        if repository.beats.wait(PATIENCE):
            beat_seen.set()
        return {}

    container.handlers.override({"job": handler})
    container.task_service().enqueue(actor=ADA, type="job", payload={})

    with running(container.worker()):
        assert beat_seen.wait(PATIENCE)
