"""Process bodies for the multi-process storage tests (importable by spawned children).

Each reports back through a queue as ``(name, claimed_ids, errors)``, where errors
are formatted tracebacks: a child never dies silently.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, text

from adapters.clock import SystemClock
from adapters.sql.engine import make_engine
from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from application.ports import TaskQuery
from application.processor import Processor
from domain.task import Task

Report = tuple[str, list[str], list[str]]
#: How long a child waits for its siblings to start (spawning is slow on a busy machine).
START_WAIT_S = 120


def _reporting(name: str, results: Queue[Report], body: Callable[[list[str]], None]) -> None:
    claimed: list[str] = []
    errors: list[str] = []
    try:
        body(claimed)
    except BaseException:  # reported to the test, which fails on it
        errors.append(traceback.format_exc())
    finally:
        results.put((name, claimed, errors))


def sqlite_claimer(
    url: str, name: str, enqueuing_done: Event, start: Barrier, results: Queue[Report]
) -> None:
    """Claim and complete tasks until none are due and the enqueuer has finished."""

    def body(claimed: list[str]) -> None:
        engine = make_engine(url)
        repository, clock = SqliteTaskRepository(engine), SystemClock()
        start.wait(timeout=START_WAIT_S)
        while True:
            finished = enqueuing_done.is_set()
            batch = repository.claim(now=clock.now(), worker_id=name, limit=5)
            if not batch and finished:
                break
            claimed.extend(str(task.id) for task in batch)
            settled = [(t.complete(now=clock.now(), result={"by": name}), t.version) for t in batch]
            if not all(repository.replace_many(settled)):
                raise AssertionError(f"{name} lost a claim it had just made")
        engine.dispose()

    _reporting(name, results, body)


def sqlite_api_client(
    url: str, name: str, adds: int, enqueuing_done: Event, start: Barrier, results: Queue[Report]
) -> None:
    """What the HTTP API does while workers claim: enqueue, read one, list a page."""

    def body(_: list[str]) -> None:
        engine = make_engine(url)
        repository, clock = SqliteTaskRepository(engine), SystemClock()
        start.wait(timeout=START_WAIT_S)
        try:
            for n in range(adds):
                task = Task.create(
                    id=uuid4(), type="noop", owner="api", payload={"n": n}, now=clock.now()
                )
                repository.add(task)
                if repository.get(task.id) is None:
                    raise AssertionError(f"task {task.id} vanished after add")
                repository.list(TaskQuery(owner="api", page=1 + n % 3, limit=20))
        finally:
            enqueuing_done.set()
            engine.dispose()

    _reporting(name, results, body)


def postgres_processor(url: str, name: str, start: Barrier, results: Queue[Report]) -> None:
    """A worker: `Processor` over PostgreSQL whose handler records each execution."""

    def body(claimed: list[str]) -> None:
        engine = make_engine(url)
        processor = Processor(
            repository=PostgresTaskRepository(engine),
            clock=SystemClock(),
            handlers={"record": _recording_handler(engine, name)},
            worker_id=name,
        )
        start.wait(timeout=START_WAIT_S)
        while batch := processor.claim(limit=10):
            claimed.extend(str(task.id) for task in batch)
            processor.settle_many([(task, processor.execute(task)) for task in batch])
        engine.dispose()

    _reporting(name, results, body)


def _recording_handler(engine: Engine, worker: str) -> Callable[[Task], dict[str, Any]]:
    def record(task: Task) -> dict[str, Any]:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO executions (task_id, worker) VALUES (:task_id, :worker)"),
                {"task_id": task.id, "worker": worker},
            )
        return {"worker": worker}

    return record
