"""PgQueuer, in its recommended setup for one worker process.

asyncpg driver (its fastest; psycopg 3 is supported but slower), `async def`
entrypoints, a dequeue batch per round trip (`batch_size`), no concurrency limit,
LISTEN/NOTIFY wake-ups (always on), durable (logged) tables, the default.
PgQueuer deletes a finished job from its queue table and appends a row to
`pgqueuer_log`, so its "1,000,000 finished tasks" live in that log.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import timedelta

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode

from bench.probe import Probe

#: Jobs per dequeue round trip: chosen by a sweep on this machine (see README).
BATCH_SIZE = int(os.environ.get("BENCH_PGQUEUER_BATCH_SIZE", "1000"))
ENTRYPOINT = "noop"


def _payload(seq: int) -> bytes:
    return str(seq).encode()


class PgQueuerSubject:
    name = "pgqueuer"
    storage = "postgres"
    setup = f"asyncpg, async entrypoint, QueueManager batch_size={BATCH_SIZE}"

    def prepare(self, url: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(url)
            try:
                await Queries(AsyncpgDriver(conn)).install()
            finally:
                await conn.close()

        asyncio.run(run())

    def enqueue_single(self, url: str, n: int) -> float:
        async def run() -> float:
            conn = await asyncpg.connect(url)
            try:
                queries = Queries(AsyncpgDriver(conn))
                start = time.perf_counter()
                for seq in range(n):
                    await queries.enqueue(ENTRYPOINT, _payload(seq), 0)
                return time.perf_counter() - start
            finally:
                await conn.close()

        return asyncio.run(run())

    def enqueue_bulk(self, url: str, n: int, *, chunk: int) -> float:
        async def run() -> float:
            conn = await asyncpg.connect(url)
            try:
                queries = Queries(AsyncpgDriver(conn))
                start = time.perf_counter()
                for first in range(0, n, chunk):
                    seqs = range(first, min(n, first + chunk))
                    await queries.enqueue(
                        [ENTRYPOINT] * len(seqs), [_payload(s) for s in seqs], [0] * len(seqs)
                    )
                return time.perf_counter() - start
            finally:
                await conn.close()

        return asyncio.run(run())

    def add_finished(self, url: str, n: int) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(url)
            try:
                # Already folded into statistics, as in a long-running installation.
                await conn.execute(
                    "INSERT INTO pgqueuer_log (job_id, status, priority, entrypoint, aggregated)"
                    " SELECT g, 'successful', 0, $1, true FROM generate_series(1, $2) AS g",
                    ENTRYPOINT,
                    n,
                )
                await conn.execute("ANALYZE pgqueuer_log")
            finally:
                await conn.close()

        asyncio.run(run())

    def produce_paced(
        self, url: str, n: int, *, interval: float, on_first: Callable[[], None]
    ) -> list[float]:
        async def run() -> list[float]:
            conn = await asyncpg.connect(url)
            stamps: list[float] = []
            try:
                queries = Queries(AsyncpgDriver(conn))
                await queries.enqueue(ENTRYPOINT, _payload(-1), 0)
                on_first()
                for seq in range(n):
                    stamps.append(time.time())
                    await queries.enqueue(ENTRYPOINT, _payload(seq), 0)
                    await asyncio.sleep(max(0.0, stamps[-1] + interval - time.time()))
            finally:
                await conn.close()
            return stamps

        return asyncio.run(run())

    def unfinished(self, url: str) -> int:
        async def run() -> int:
            conn = await asyncpg.connect(url)
            try:
                return int(await conn.fetchval("SELECT count(*) FROM pgqueuer"))
            finally:
                await conn.close()

        return asyncio.run(run())

    def work(self, url: str, *, mode: str, probe: Probe) -> None:
        asyncio.run(_work(url, mode=mode, probe=probe))


async def _work(url: str, *, mode: str, probe: Probe) -> None:
    conn = await asyncpg.connect(url)
    qm = QueueManager(Queries(AsyncpgDriver(conn)))

    @qm.entrypoint(ENTRYPOINT)
    async def noop(job: Job) -> None:
        seq = int(job.payload or b"0")
        probe.started(seq)
        if seq == -1:
            probe.say("warm")
        if probe.finished():
            qm.shutdown.set()

    try:
        await qm.run(
            batch_size=BATCH_SIZE,
            mode=QueueExecutionMode.drain if mode == "drain" else QueueExecutionMode.continuous,
            dequeue_timeout=timedelta(seconds=30),
        )
    finally:
        await conn.close()
