"""A wake-up signal a test can watch."""

from __future__ import annotations

import threading

from adapters.signal import EventSignal


class WatchedSignal(EventSignal):
    """An EventSignal that tells the test when the worker has gone idle."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float) -> bool:
        self.waiting.set()
        return super().wait(timeout)
