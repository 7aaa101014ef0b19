"""procrastinate, in its recommended setup for one worker process.

Its documentation recommends the async API (`PsycopgConnector`, psycopg 3 with a
connection pool), `async def` tasks, and `concurrency` > 1 for a worker whose
tasks are I/O-light; each of the `concurrency` sub-workers fetches one job per
round trip (procrastinate has no batch fetch), so concurrency is its only lever.
LISTEN/NOTIFY wakes idle workers (`listen_notify=True`, the default).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable

import procrastinate
import psycopg

from bench.probe import Probe

#: Sub-workers in the one worker process: chosen by a sweep on this machine (see README).
CONCURRENCY = int(os.environ.get("BENCH_PROCRASTINATE_CONCURRENCY", "4"))
QUEUE = "bench"


def _app(url: str, *, pool: int) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=pool)
    return procrastinate.App(connector=connector)


def _noop_task(app: procrastinate.App) -> procrastinate.tasks.Task:  # type: ignore[type-arg]  # procrastinate's generic
    @app.task(name="noop", queue=QUEUE)
    async def noop(seq: int) -> None:
        return None

    return noop


class ProcrastinateSubject:
    name = "procrastinate"
    storage = "postgres"
    setup = f"PsycopgConnector, async task, concurrency={CONCURRENCY}, listen_notify"

    def prepare(self, url: str) -> None:
        async def run() -> None:
            app = _app(url, pool=1)
            async with app.open_async():
                await app.schema_manager.apply_schema_async()

        asyncio.run(run())

    def enqueue_single(self, url: str, n: int) -> float:
        async def run() -> float:
            app = _app(url, pool=1)
            noop = _noop_task(app)
            async with app.open_async():
                start = time.perf_counter()
                for seq in range(n):
                    await noop.defer_async(seq=seq)
                return time.perf_counter() - start

        return asyncio.run(run())

    def enqueue_bulk(self, url: str, n: int, *, chunk: int) -> float:
        async def run() -> float:
            app = _app(url, pool=1)
            noop = _noop_task(app)
            async with app.open_async():
                start = time.perf_counter()
                for first in range(0, n, chunk):
                    await noop.batch_defer_async(
                        *({"seq": seq} for seq in range(first, min(n, first + chunk)))
                    )
                return time.perf_counter() - start

        return asyncio.run(run())

    def add_finished(self, url: str, n: int) -> None:
        with psycopg.connect(url) as conn:
            # Triggers would write an event row per job; finished history needs none.
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
                " SELECT %s, 'noop', jsonb_build_object('seq', -g), 'succeeded', 1"
                " FROM generate_series(1, %s) AS g",
                (QUEUE, n),
            )
            conn.execute("ANALYZE procrastinate_jobs")

    def produce_paced(
        self, url: str, n: int, *, interval: float, on_first: Callable[[], None]
    ) -> list[float]:
        async def run() -> list[float]:
            app = _app(url, pool=1)
            noop = _noop_task(app)
            stamps: list[float] = []
            async with app.open_async():
                await noop.defer_async(seq=-1)
                on_first()
                for seq in range(n):
                    stamps.append(time.time())
                    await noop.defer_async(seq=seq)
                    await asyncio.sleep(max(0.0, stamps[-1] + interval - time.time()))
            return stamps

        return asyncio.run(run())

    def unfinished(self, url: str) -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            ).fetchone()
        assert row is not None
        return int(row[0])

    def work(self, url: str, *, mode: str, probe: Probe) -> None:
        asyncio.run(_work(url, mode=mode, probe=probe))


async def _work(url: str, *, mode: str, probe: Probe) -> None:
    app = _app(url, pool=CONCURRENCY + 2)
    done = asyncio.Event()

    @app.task(name="noop", queue=QUEUE)
    async def noop(seq: int) -> None:
        probe.started(seq)
        if seq == -1:
            probe.say("warm")
        if probe.finished():
            done.set()

    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                concurrency=CONCURRENCY,
                wait=mode == "listen",
                install_signal_handlers=False,
                listen_notify=True,
            )
        )
        if mode == "listen":
            await done.wait()
            worker.cancel()  # procrastinate's documented way to stop a worker gracefully
        with contextlib.suppress(asyncio.CancelledError):
            await worker
