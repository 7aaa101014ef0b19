"""Heartbeats from one background thread for every handler running in this process."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from application.ports import BeatFunction

log = logging.getLogger(__name__)


class ThreadKeepalive:
    """Calls every registered `beat` each `interval`, on one daemon thread per process.

    Entering the block costs a dict insertion rather than a thread start and join per
    task, which matters when thousands of short tasks run a second. A beat that
    returns False (the claim was lost) is dropped; one that raises is logged and tried
    again next round: if none succeed, the lease lapses and the task runs elsewhere.
    """

    def __init__(self, *, interval: timedelta) -> None:
        self._seconds = interval.total_seconds()
        self._beats: dict[int, BeatFunction] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def __call__(self, beat: BeatFunction) -> Iterator[None]:
        key = next(self._keys)
        with self._lock:
            self._beats[key] = beat
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="taskspool-heartbeats", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._beats.pop(key, None)

    def _run(self) -> None:
        ticker = threading.Event()  # never set: a sleep that reads no clock
        while not ticker.wait(self._seconds):
            with self._lock:
                due = list(self._beats.items())
                if not due:
                    # Nothing runs: end the thread; the next block starts a new one.
                    self._thread = None
                    return
            for key, beat in due:
                self._beat(key, beat)

    def _beat(self, key: int, beat: BeatFunction) -> None:
        try:
            alive = beat()
        except Exception:
            log.exception("heartbeat failed; trying again next round")
            return
        if not alive:
            log.warning("heartbeat found the claim lost; no more heartbeats for it")
            with self._lock:
                self._beats.pop(key, None)
