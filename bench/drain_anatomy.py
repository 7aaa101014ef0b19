"""One drain through the real Worker, taken apart: whose CPU, which batch sizes.

    python bench/drain_anatomy.py [--subject taskspool-pg] [--tasks 30000]
                                  [--concurrency 8] [--batch 1000]

Queues the tasks and drains them with `entrypoints.worker.Worker` in this process
(the no-op handler), then prints the rate, this process's CPU per task, how busy the
whole machine was (from /proc/stat, so the database server's share shows too), and
the sizes of the claims and settles the worker made. On a 2-core machine shared
with PostgreSQL, the drain is bounded by the CPU both spend per task, not by the
worker's alone.
"""

from __future__ import annotations

import argparse
import collections
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from adapters.signal import EventSignal  # noqa: E402
from bench import subject_taskspool  # noqa: E402
from bench.scratch import add_subject_option, scratch_url  # noqa: E402
from bench.subjects import load  # noqa: E402
from domain.task import Task  # noqa: E402
from entrypoints.worker import Worker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_subject_option(parser)
    parser.add_argument("--tasks", type=int, default=30_000)
    parser.add_argument("--concurrency", type=int, default=subject_taskspool.CONCURRENCY)
    parser.add_argument("--batch", type=int, default=subject_taskspool.BATCH_SIZE)
    args = parser.parse_args()
    subject = load(args.subject)
    with scratch_url(subject, "anatomy") as url:
        drain(subject, url, args)


def drain(subject: subject_taskspool._Taskspool, url: str, args: argparse.Namespace) -> None:
    subject.prepare(url)
    subject.enqueue_bulk(url, args.tasks, chunk=1_000)
    claims: list[int] = []
    settles: list[int] = []
    handled = 0
    done = threading.Event()

    def noop(task: Task) -> dict[str, Any]:
        nonlocal handled
        handled += 1  # slots run one at a time under the GIL; the count is for stopping
        if handled >= args.tasks:
            done.set()
        return {}

    with subject._repo(url) as repository:
        claim, replace_many = repository.claim, repository.replace_many

        def counted_claim(**kwargs: Any) -> Sequence[Task]:
            claimed = claim(**kwargs)
            claims.append(len(claimed))
            return claimed

        def counted_replace_many(pairs: Sequence[tuple[Task, int]]) -> Sequence[bool]:
            settles.append(len(pairs))
            return replace_many(pairs)

        # Counting wrappers on this one instance, for the report; mypy forbids
        # assigning to methods, hence the ignores.
        repository.claim = counted_claim  # type: ignore[method-assign]
        repository.replace_many = counted_replace_many  # type: ignore[method-assign]
        processor = subject_taskspool.bench_processor(repository, noop, worker_id="anatomy")
        worker = Worker(
            processor=processor,
            wakeup=EventSignal(),
            concurrency=args.concurrency,
            batch_size=args.batch,
        )
        thread = threading.Thread(target=worker.run, name="anatomy-worker")
        machine_before, cpu_before, start = _machine(), time.process_time(), time.perf_counter()
        thread.start()
        done.wait()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_before
        machine_after = _machine()
        worker.stop()
        thread.join()
    total = machine_after[0] - machine_before[0]
    busy = 1 - (machine_after[1] - machine_before[1]) / total
    print(
        f"{subject.name}: {args.tasks / seconds:,.0f} tasks/s with {args.concurrency} threads,"
        f" batch {args.batch}; this process {cpu / args.tasks * 1e6:.1f} us CPU a task;"
        f" machine {busy * 100:.0f}% busy"
    )
    for name, sizes in (("claims", claims), ("settles", settles)):
        common = ", ".join(f"{size} x{n}" for size, n in collections.Counter(sizes).most_common(6))
        print(
            f"  {len(sizes)} {name}, {sum(sizes) / len(sizes):.0f} tasks each on average ({common})"
        )


def _machine() -> tuple[int, int]:
    """(all jiffies, idle and iowait jiffies) since boot, over every core."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return sum(values), values[3] + values[4]


if __name__ == "__main__":
    main()
