"""Where a draining taskspool worker spends its time: a py-spy profile of one drain.

    python bench/profile_drain.py [--tasks 20000] [--subject taskspool-pg] [--top 30] [--gil] [--rate 100]

Starts a throwaway cluster like run.py, queues the tasks, runs one drain worker
(`python -m bench.worker`, the same process the benchmark measures) under
`py-spy record`, and prints the functions that were on the stack in the most
samples (inclusive) and the ones at the top of it (exclusive), over all threads.
Idle samples (threads blocked in a wait) are left out by py-spy's default.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.scratch import scratch_url  # noqa: E402
from bench.subjects import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--subject", default="taskspool-pg")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL: where the process's CPU goes,"
        " without the threads queued for the GIL",
    )
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    subject = load(args.subject)
    with scratch_url(subject, "profile") as url, tempfile.TemporaryDirectory() as tmp:
        subject.prepare(url)
        subject.enqueue_bulk(url, args.tasks, chunk=1_000)
        raw = Path(tmp) / "profile.txt"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
        worker = [sys.executable, "-m", "bench.worker", subject.name, "drain", url, "0"]
        subprocess.run(
            [
                py_spy,
                "record",
                *(["--gil"] if args.gil else []),
                "--rate",
                str(args.rate),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--",
                *worker,
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        report(raw, top=args.top)


def report(raw: Path, *, top: int) -> None:
    """Print inclusive and exclusive sample shares per function from py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")[1:]]  # drop the thread frame
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            exclusive[frames[-1]] += count
    print(f"{total} samples (non-idle, all threads)")
    for title, counter in (("inclusive", inclusive), ("exclusive", exclusive)):
        print(f"\n-- {title}")
        for frame, count in counter.most_common(top):
            print(f"{100 * count / total:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """`func (path/to/module.py:12)` as `func (module.py)`: lines differ within one function."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})"


if __name__ == "__main__":
    main()
