"""The subjects under test, by name; each module is imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from bench.probe import Probe

#: name -> module; the order is the table's column order.
SUBJECTS = {
    "taskspool-pg": "bench.subject_taskspool:PostgresSubject",
    "taskspool-sqlite": "bench.subject_taskspool:SqliteSubject",
    "procrastinate": "bench.peers_procrastinate:ProcrastinateSubject",
    "pgqueuer": "bench.peers_pgqueuer:PgQueuerSubject",
}
PEERS = ("procrastinate", "pgqueuer")


class Subject(Protocol):
    """One queue library, driven the way its documentation recommends."""

    name: str
    #: Where its data lives: "postgres" (a fresh database per workload) or "sqlite".
    storage: str
    #: How it is configured, in a line for the results file.
    setup: str

    def prepare(self, url: str) -> None:
        """Install the library's schema in the empty database at `url`."""

    def enqueue_single(self, url: str, n: int) -> float:
        """Enqueue `n` no-op tasks one call each; return the seconds it took."""

    def enqueue_bulk(self, url: str, n: int, *, chunk: int) -> float:
        """Enqueue `n` no-op tasks `chunk` per call; return the seconds it took."""

    def add_finished(self, url: str, n: int) -> None:
        """Store `n` finished tasks where the library keeps them, in one statement."""

    def produce_paced(
        self, url: str, n: int, *, interval: float, on_first: Callable[[], None]
    ) -> list[float]:
        """Enqueue task seq=-1, call `on_first`, then seqs 0..n-1 `interval` apart; return
        the wall-clock time taken just before each of those n enqueues."""

    def unfinished(self, url: str) -> int:
        """Tasks stored and not yet finished (a drain must leave none)."""

    def work(self, url: str, *, mode: str, probe: Probe) -> None:
        """Run one worker process's loop with a no-op handler that calls the probe."""


def load(name: str) -> Subject:
    module_name, _, attr = SUBJECTS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    subject: Subject = cls()
    return subject
