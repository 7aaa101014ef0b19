"""Heartbeats from a background thread while a handler runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from application.ports import BeatFunction

log = logging.getLogger(__name__)


class ThreadKeepalive:
    """Calls `beat` every `interval` on a daemon thread until the block exits."""

    def __init__(self, *, interval: timedelta) -> None:
        self._seconds = interval.total_seconds()

    @contextmanager
    def __call__(self, beat: BeatFunction) -> Iterator[None]:
        done = threading.Event()

        def run() -> None:
            while not done.wait(self._seconds):
                try:
                    if not beat():
                        log.warning("heartbeat found the claim lost; stopping heartbeats")
                        return
                except Exception:
                    # A failed heartbeat is not fatal: the next one may succeed, and
                    # if none do the lease lapses and the task is retried elsewhere.
                    log.exception("heartbeat failed")

        thread = threading.Thread(target=run, name="taskspool-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
