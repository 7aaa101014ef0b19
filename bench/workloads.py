"""The six workloads of issue 5, each run against one subject in fresh storage.

Workers run in their own OS processes (`python -m bench.worker`); the parent
enqueues, starts them, and reads back one JSON line per worker. Drain throughput
is tasks handled / (last handler end - first handler start) over all workers of
the run, so interpreter start-up and imports are not counted for anyone.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg

from bench.cluster import Cluster
from bench.subjects import Subject

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    enqueue: int
    drain: int
    finished: int
    latency: int
    interval: float = 0.020
    chunk: int = 1_000
    #: Longest any one worker run may take before it is killed and reported as a timeout.
    timeout: float = 300.0


FULL = Sizes(enqueue=20_000, drain=20_000, finished=1_000_000, latency=200, timeout=600.0)
QUICK = Sizes(enqueue=2_000, drain=5_000, finished=100_000, latency=50, timeout=90.0)


class WorkloadError(RuntimeError):
    """A workload could not produce a figure (timeout, crash, tasks left over)."""


@dataclass
class WorkerResult:
    count: int
    first_start: float | None
    last_end: float | None
    starts: dict[int, float]
    maxrss_kb: int


@dataclass
class Figures:
    """Everything measured for one subject; missing keys are reported with the reason."""

    values: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Runner:
    """Runs workloads against subjects on one cluster."""

    def __init__(self, *, cluster: Cluster, sizes: Sizes, log: bool = True) -> None:
        self.cluster = cluster
        self.sizes = sizes
        self._log = log
        self._serial = 0

    def say(self, text: str) -> None:
        if self._log:
            print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    @contextmanager
    def storage(self, subject: Subject) -> Iterator[str]:
        """Fresh, prepared storage for one workload: a new database, or a new SQLite file."""
        self._serial += 1
        name = f"{subject.name.replace('-', '_')}_{self._serial}"
        if subject.storage == "sqlite":
            tmp = Path(tempfile.mkdtemp(prefix="taskspool-bench-sqlite-"))
            try:
                url = f"sqlite:///{tmp / 'tasks.db'}"
                subject.prepare(url)
                yield url
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            with self.cluster.database(name) as url:
                subject.prepare(url)
                yield url

    # -- (1) enqueue -----------------------------------------------------------------

    def enqueue(self, subject: Subject, figures: Figures) -> None:
        n = self.sizes.enqueue
        with self.storage(subject) as url:
            seconds = subject.enqueue_single(url, n)
        figures.values["enqueue_single"] = n / seconds
        self.say(f"{subject.name}: enqueue single {n / seconds:,.0f}/s")
        with self.storage(subject) as url:
            seconds = subject.enqueue_bulk(url, n, chunk=self.sizes.chunk)
        figures.values["enqueue_bulk"] = n / seconds
        self.say(f"{subject.name}: enqueue bulk {n / seconds:,.0f}/s")

    # -- (2), (3), (5) drain ---------------------------------------------------------

    def drain(self, subject: Subject, figures: Figures, *, workers: int, finished: int) -> None:
        key = {(1, False): "drain_1", (4, False): "drain_4", (1, True): "drain_1m"}[
            (workers, bool(finished))
        ]
        n = self.sizes.drain
        with self.storage(subject) as url:
            if finished:
                self.say(f"{subject.name}: storing {finished:,} finished tasks")
                subject.add_finished(url, finished)
            subject.enqueue_bulk(url, n, chunk=self.sizes.chunk)
            self._settle_storage(subject, url)
            procs = [_spawn(subject.name, "drain", url, 0) for _ in range(workers)]
            results = [_collect(proc, timeout=self.sizes.timeout) for proc in procs]
            handled = sum(r.count for r in results)
            left = subject.unfinished(url)
        starts = [r.first_start for r in results if r.first_start is not None]
        ends = [r.last_end for r in results if r.last_end is not None]
        if handled != n or left:
            raise WorkloadError(f"handled {handled} of {n} tasks; {left} left unfinished")
        rate = handled / (max(ends) - min(starts))
        figures.values[key] = rate
        rss = max(r.maxrss_kb for r in results) / 1024
        figures.values["rss_mb"] = max(figures.values.get("rss_mb", 0.0), rss)
        self.say(f"{subject.name}: {key} {rate:,.0f}/s (worker peak RSS {rss:.0f} MB)")

    def _settle_storage(self, subject: Subject, url: str) -> None:
        # Start every drain from the same state: statistics fresh, no checkpoint pending.
        if subject.storage != "postgres":
            return
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")

    # -- (4) pickup latency ----------------------------------------------------------

    def latency(self, subject: Subject, figures: Figures) -> None:
        n = self.sizes.latency
        with self.storage(subject) as url:
            proc = _spawn(subject.name, "listen", url, n + 1)
            lines = _lines(proc)

            def wait_warm() -> None:
                # The first task proves the worker is up and idle-waiting; then we pace.
                _expect_line(lines, "warm", proc, timeout=60.0)
                time.sleep(0.5)

            try:
                stamps = subject.produce_paced(
                    url, n, interval=self.sizes.interval, on_first=wait_warm
                )
            except BaseException:
                proc.kill()
                raise
            result = _collect(proc, timeout=self.sizes.timeout, lines=lines)
        missing = [seq for seq in range(n) if seq not in result.starts]
        if missing:
            raise WorkloadError(f"{len(missing)} of {n} tasks never started")
        waits = sorted((result.starts[seq] - stamps[seq]) * 1000 for seq in range(n))
        figures.values["pickup_p50"] = statistics.median(waits)
        figures.values["pickup_p95"] = _percentile(waits, 95)
        figures.values["pickup_p99"] = _percentile(waits, 99)
        figures.values["pickup_max"] = waits[-1]
        self.say(
            f"{subject.name}: pickup p50 {figures.values['pickup_p50']:.2f} ms,"
            f" p99 {figures.values['pickup_p99']:.2f} ms, max {waits[-1]:.2f} ms"
        )


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of values at or below."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def _spawn(subject: str, mode: str, url: str, expect: int) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", ""), str(ROOT / "src")) if p
    )
    # stderr goes to a file, not a pipe: a chatty worker must not block on a full pipe.
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (lives as long as the worker)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", subject, mode, url, str(expect)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    _STDERR[proc.pid] = err
    return proc


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """Stdout lines of `proc` as they come, None at the end (read on a daemon thread)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _expect_line(
    lines: queue.Queue[str | None], wanted: str, proc: subprocess.Popen[str], *, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise WorkloadError(f"worker did not say {wanted!r} within {timeout:.0f} s") from None
        if line is None:
            raise WorkloadError(f"worker exited before saying {wanted!r}: {_stderr(proc)}")
        if line == wanted:
            return


def _collect(
    proc: subprocess.Popen[str],
    *,
    timeout: float,
    lines: queue.Queue[str | None] | None = None,
) -> WorkerResult:
    lines = lines if lines is not None else _lines(proc)
    deadline = time.monotonic() + timeout
    result: dict[str, object] | None = None
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            proc.wait()
            raise WorkloadError(f"worker still running after {timeout:.0f} s; killed") from None
        if line is None:
            break
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
    code = proc.wait()
    if result is None or code != 0:
        raise WorkloadError(f"worker exited with {code}: {_stderr(proc)}")
    starts = result["starts"]
    assert isinstance(starts, dict)
    return WorkerResult(
        count=int(result["count"]),  # type: ignore[call-overload]  # JSON from the worker
        first_start=result["first_start"],  # type: ignore[arg-type]  # JSON from the worker
        last_end=result["last_end"],  # type: ignore[arg-type]  # JSON from the worker
        starts={int(k): float(v) for k, v in starts.items()},
        maxrss_kb=int(result["maxrss_kb"]),  # type: ignore[call-overload]  # JSON from the worker
    )


_STDERR: dict[int, IO[str]] = {}


def _stderr(proc: subprocess.Popen[str]) -> str:
    """The last line the worker wrote to stderr (its exception, usually)."""
    err = _STDERR.get(proc.pid)
    if err is None:
        return "(no output)"
    err.seek(0)
    text = err.read().strip()
    return text.splitlines()[-1] if text else "(no output)"
