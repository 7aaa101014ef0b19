"""CPU a worker process spends per task in each step, with no threads in the way.

    python bench/cpu_per_task.py [--subject taskspool-pg] [--tasks 50000] [--batch 1000]

Queues the tasks, then runs the Worker's three steps in turn on one thread until the
queue is empty: claim a batch, execute each task (the no-op handler, through
`Processor.execute`), settle the batch (`Processor.settle_many`). Prints this
process's CPU time (not wall time: the database works on the other core meanwhile)
per task for each step. The drain's ceiling in one process is about one task per
the sum of the three; `profile_drain.py` shows where the rest goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import subject_taskspool  # noqa: E402
from bench.scratch import add_subject_option, scratch_url  # noqa: E402
from bench.subjects import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_subject_option(parser)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    subject = load(args.subject)
    with scratch_url(subject, "cpu") as url:
        measure(subject, url, args.tasks, args.batch)


def measure(subject: subject_taskspool._Taskspool, url: str, tasks: int, batch: int) -> None:
    subject.prepare(url)
    subject.enqueue_bulk(url, tasks, chunk=1_000)
    with subject._repo(url) as repository:
        processor = subject_taskspool.bench_processor(
            repository, lambda task: {}, worker_id="cpu-per-task"
        )
        spent = {"claim": 0.0, "execute": 0.0, "settle": 0.0}
        done = 0
        while True:
            start = time.process_time()
            claimed = processor.claim(limit=batch)
            claimed_at = time.process_time()
            if not claimed:
                break
            settled = [(task, processor.execute(task)) for task in claimed]
            executed_at = time.process_time()
            processor.settle_many(settled)
            spent["claim"] += claimed_at - start
            spent["execute"] += executed_at - claimed_at
            spent["settle"] += time.process_time() - executed_at
            done += len(claimed)
    steps = ", ".join(f"{step} {seconds / done * 1e6:.1f} us" for step, seconds in spent.items())
    total = sum(spent.values()) / done
    print(f"{subject.name}: {done:,} tasks, batch {batch}; CPU per task: {steps};")
    print(f"  total {total * 1e6:.1f} us: at most {1 / total:,.0f} tasks/s on one core")


if __name__ == "__main__":
    main()
