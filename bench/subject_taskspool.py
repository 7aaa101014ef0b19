"""taskspool itself, on PostgreSQL and on a SQLite file, driven through its real parts.

Enqueues go through `TaskService.enqueue` (what the HTTP API calls) and
`TaskRepository.add_many` (bulk). The worker process runs `entrypoints.worker.Worker`,
the loop `taskspool worker` runs, wired as the container wires it (Processor,
ThreadKeepalive heartbeats, an EventSignal woken by PostgreSQL NOTIFY), with a
no-op handler. `TASKSPOOL_BENCH_LOOP=batch` swaps in a plain Processor loop
(claim a batch, run, `settle_many`) to show what batched settling is worth.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from adapters.clock import SystemClock
from adapters.ids import TimeOrderedIds
from adapters.keepalive import ThreadKeepalive
from adapters.signal import EventSignal, NullSignal
from adapters.sql.engine import make_engine
from adapters.sql.migrate import upgrade
from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from application.actor import Actor
from application.ports import Keepalive, TaskRepository
from application.processor import Processor
from application.tasks import TaskService
from bench.probe import Probe
from domain.lease import LeasePolicy
from domain.task import JsonObject, Task

TYPE = "noop"
ACTOR = Actor(name="bench")
#: The loop a worker process runs: "worker" (entrypoints.worker.Worker, what
#: `taskspool worker` runs) when this build has it, else "batch" (a Processor loop).
LOOP = os.environ.get("TASKSPOOL_BENCH_LOOP") or (
    "worker" if importlib.util.find_spec("entrypoints.worker") else "batch"
)
#: Worker settings for a no-op workload (WORKER_CONCURRENCY / WORKER_BATCH_SIZE):
#: the best of a sweep on this machine (see README).
CONCURRENCY = int(os.environ.get("BENCH_TASKSPOOL_CONCURRENCY", "8"))
BATCH_SIZE = int(
    os.environ.get("BENCH_TASKSPOOL_BATCH_SIZE", "1000" if LOOP == "worker" else "100")
)
#: How often an idle worker without NOTIFY (SQLite) looks for work: the worker's default.
POLL_INTERVAL = timedelta(seconds=float(os.environ.get("BENCH_TASKSPOOL_POLL_S", "5")))


class _Taskspool:
    name: str
    storage: str

    @property
    def setup(self) -> str:
        loop = (
            f"entrypoints.worker.Worker, {CONCURRENCY} handler threads, batch {BATCH_SIZE}"
            if LOOP == "worker"
            else f"Processor loop (claim {BATCH_SIZE}, execute, settle_many); no Worker in this build"
        )
        return f"{loop}; ThreadKeepalive heartbeats"

    def repository(self, engine: Engine) -> TaskRepository:
        raise NotImplementedError

    @contextmanager
    def _repo(self, url: str) -> Iterator[TaskRepository]:
        engine = make_engine(url)
        try:
            yield self.repository(engine)
        finally:
            engine.dispose()

    def prepare(self, url: str) -> None:
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def enqueue_single(self, url: str, n: int) -> float:
        with self._repo(url) as repository:
            service = _service(repository)
            start = time.perf_counter()
            for seq in range(n):
                service.enqueue(actor=ACTOR, type=TYPE, payload={"seq": seq})
            return time.perf_counter() - start

    def enqueue_bulk(self, url: str, n: int, *, chunk: int) -> float:
        clock = SystemClock()
        new_id = TimeOrderedIds(clock)
        with self._repo(url) as repository:
            start = time.perf_counter()
            for first in range(0, n, chunk):
                now = clock.now()
                repository.add_many(
                    [
                        Task.create(
                            id=new_id(), type=TYPE, owner=ACTOR.name, payload={"seq": seq}, now=now
                        )
                        for seq in range(first, min(n, first + chunk))
                    ]
                )
            return time.perf_counter() - start

    def add_finished(self, url: str, n: int) -> None:
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(text(self._finished_sql()), {"n": n})
                connection.execute(
                    text("ANALYZE tasks" if self.storage == "postgres" else "ANALYZE")
                )
        finally:
            engine.dispose()

    def _finished_sql(self) -> str:
        raise NotImplementedError

    def produce_paced(
        self, url: str, n: int, *, interval: float, on_first: Callable[[], None]
    ) -> list[float]:
        stamps: list[float] = []
        with self._repo(url) as repository:
            service = _service(repository)
            service.enqueue(actor=ACTOR, type=TYPE, payload={"seq": -1})
            on_first()
            for seq in range(n):
                stamps.append(time.time())
                service.enqueue(actor=ACTOR, type=TYPE, payload={"seq": seq})
                time.sleep(max(0.0, stamps[-1] + interval - time.time()))
        return stamps

    def unfinished(self, url: str) -> int:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                return int(
                    connection.execute(
                        text(
                            "SELECT count(*) FROM tasks"
                            " WHERE status IN ('pending', 'retrying', 'in_progress')"
                        )
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def work(self, url: str, *, mode: str, probe: Probe) -> None:
        # Default pool, as the container builds it: users cannot size it from settings.
        engine = make_engine(url)
        repository = self.repository(engine)
        wakeup = EventSignal()
        done = threading.Event()

        def noop(task: Task) -> JsonObject:
            seq = int(task.payload["seq"])
            probe.started(seq)
            if seq == -1:
                probe.say("warm")
            if probe.finished():
                done.set()
            return {}

        processor = bench_processor(repository, noop, worker_id=f"bench-{os.getpid()}")
        try:
            with self._wake_on_notify(url, wakeup):
                if mode == "drain":
                    _watch_until_drained(url, done, wakeup)
                run = _run_worker if LOOP == "worker" else _run_batches
                run(processor, wakeup=wakeup, done=done)
        finally:
            engine.dispose()

    @contextmanager
    def _wake_on_notify(self, url: str, wakeup: EventSignal) -> Iterator[None]:
        yield


def _service(repository: TaskRepository) -> TaskService:
    """The enqueue use case as the container builds it: time-ordered ids."""
    clock = SystemClock()
    return TaskService(
        repository=repository, clock=clock, signal=NullSignal(), new_id=TimeOrderedIds(clock)
    )


def bench_processor(
    repository: TaskRepository, handler: Callable[[Task], JsonObject], *, worker_id: str
) -> Processor:
    """The Processor a bench worker runs: `handler` for the bench's task type, the
    default lease, and heartbeats from one keepalive thread."""
    lease = LeasePolicy()
    return Processor(
        repository=repository,
        clock=SystemClock(),
        handlers={TYPE: handler},
        worker_id=worker_id,
        lease=lease,
        keepalive=_keepalive(lease),
    )


def _keepalive(lease: LeasePolicy) -> Keepalive:
    return ThreadKeepalive(interval=lease.heartbeat_every())


def _watch_until_drained(url: str, done: threading.Event, wakeup: EventSignal) -> None:
    """Set `done` once no task is left unfinished (drain mode: workers share the queue)."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    # EXISTS over the claimable and in-progress sets reads their partial indexes and stops
    # at the first row. A count(*) there was a parallel sequential scan of the whole table:
    # 66 ms on both cores every 50 ms, among a million finished rows.
    query = text(
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE status IN ('pending', 'retrying'))"
        " OR EXISTS (SELECT 1 FROM tasks WHERE status = 'in_progress')"
    )

    def watch() -> None:
        try:
            while not done.is_set():
                with engine.connect() as connection:
                    if not connection.execute(query).scalar_one():
                        done.set()
                        wakeup.notify()
                        return
                time.sleep(0.05)
        finally:
            engine.dispose()

    threading.Thread(target=watch, name="bench-drain-watch", daemon=True).start()


def _run_worker(processor: Processor, *, wakeup: EventSignal, done: threading.Event) -> None:
    """The real worker loop, stopped once `done` is set."""
    from entrypoints.worker import Worker

    worker = Worker(
        processor=processor,
        wakeup=wakeup,
        concurrency=CONCURRENCY,
        batch_size=BATCH_SIZE,
        poll_interval=POLL_INTERVAL,
    )

    def stop_when_done() -> None:
        done.wait()
        worker.stop()

    threading.Thread(target=stop_when_done, name="bench-stop", daemon=True).start()
    worker.run()


def _run_batches(processor: Processor, *, wakeup: EventSignal, done: threading.Event) -> None:
    """Claim a batch, run each task, settle the batch in one write; wait when idle."""
    poll = POLL_INTERVAL.total_seconds()
    while not done.is_set():
        claimed = processor.claim(limit=BATCH_SIZE)
        if claimed:
            processor.settle_many([(task, processor.execute(task)) for task in claimed])
        if len(claimed) < BATCH_SIZE and not done.is_set():
            wakeup.wait(poll)


class PostgresSubject(_Taskspool):
    name = "taskspool-pg"
    storage = "postgres"

    def repository(self, engine: Engine) -> TaskRepository:
        return PostgresTaskRepository(engine)

    def _finished_sql(self) -> str:
        return (
            "INSERT INTO tasks (id, type, owner, status, payload, result, errors, attempts,"
            " max_attempts, priority, run_at, locked_by, locked_at, heartbeat_at, created_at,"
            " updated_at, started_at, finished_at, version)"
            " SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7'"
            " || substr(md5(g::text), 1, 3) || '8' || substr(md5(g::text), 4, 15))::uuid,"
            " 'noop', 'bench', 'completed', jsonb_build_object('seq', -g),"
            " '{}'::jsonb, '[]'::jsonb, 1, 3, 0, t, NULL, t, t, t, t, t, t, 3"
            " FROM generate_series(1, :n) AS g,"
            " LATERAL (SELECT now() - interval '1 day' + g * interval '1 ms' AS t) AS times"
        )

    @contextmanager
    def _wake_on_notify(self, url: str, wakeup: EventSignal) -> Iterator[None]:
        from adapters.sql.notify import PostgresListener

        listener = PostgresListener(url, on_notify=wakeup.notify)
        listener.start()
        try:
            yield
        finally:
            listener.stop()


class SqliteSubject(_Taskspool):
    name = "taskspool-sqlite"
    storage = "sqlite"

    def repository(self, engine: Engine) -> TaskRepository:
        return SqliteTaskRepository(engine)

    @contextmanager
    def _wake_on_notify(self, url: str, wakeup: EventSignal) -> Iterator[None]:
        # What `taskspool worker` runs on SQLite: a watcher of other processes' commits.
        from adapters.sql.sqlite_watch import SqliteChangeWatcher

        engine = make_engine(url, pool_size=1, max_overflow=0)
        watcher = SqliteChangeWatcher(engine, on_change=wakeup.notify)
        watcher.start()
        try:
            yield
        finally:
            watcher.stop()
            engine.dispose()

    def _finished_sql(self) -> str:
        # Times as the UTC-normalising column type stores them on SQLite: naive UTC text.
        base = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
        stamp = base.strftime("%Y-%m-%d %H:%M:%S.%f")
        millis = int(base.replace(tzinfo=UTC).timestamp() * 1000)
        return (
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n)"
            " INSERT INTO tasks (id, type, owner, status, payload, result, errors, attempts,"
            " max_attempts, priority, run_at, locked_by, locked_at, heartbeat_at, created_at,"
            " updated_at, started_at, finished_at, version)"
            # Ids as taskspool makes them (adapters/ids.py): the creation millisecond first.
            f" SELECT printf('%012x', {millis} + i) || '7' || substr(lower(hex(randomblob(2))), 2)"
            " || '8' || substr(lower(hex(randomblob(8))), 2), 'noop', 'bench', 'completed',"
            " json_object('seq', -i), '{}', '[]', 1, 3, 0, t, NULL, t, t, t, t, t, t, 3"
            f" FROM (SELECT i, '{stamp}' AS t FROM g)"
        )
