"""What a worker process records while it runs, and how it hands that back.

Handlers call `started(seq)` first thing and `finished()` last; both read the
wall clock (`time.time`), the clock the parent also reads when it enqueues, so
pickup latency is one subtraction in one clock. The worker prints one JSON line
on stdout when it exits.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


class Probe:
    """Counts handled tasks and their first start and last end; keeps starts by seq on demand."""

    def __init__(self, *, keep_starts: bool, expect: int) -> None:
        self.keep_starts = keep_starts
        self.expect = expect
        self.count = 0
        self.first_start: float | None = None
        self.last_end: float | None = None
        self.starts: dict[int, float] = {}

    def started(self, seq: int) -> None:
        now = time.time()
        if self.first_start is None:
            self.first_start = now
        if self.keep_starts:
            self.starts[seq] = now

    def finished(self) -> bool:
        """Count one handled task; True once `expect` tasks (if set) have been handled."""
        self.last_end = time.time()
        self.count += 1
        return bool(self.expect) and self.count >= self.expect

    def say(self, line: str) -> None:
        """A progress line for the parent (the latency workload waits for 'warm')."""
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def report(self) -> None:
        self.say(
            "RESULT "
            + json.dumps(
                {
                    "count": self.count,
                    "first_start": self.first_start,
                    "last_end": self.last_end,
                    "starts": {str(k): v for k, v in self.starts.items()},
                    "maxrss_kb": peak_rss_kb(),
                }
            )
        )


def peak_rss_kb() -> int:
    """This process's peak resident set, in KiB.

    /proc's VmHWM belongs to the address space of the running program; getrusage's
    ru_maxrss survives exec on Linux, so a child would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
