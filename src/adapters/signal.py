"""In-process wake-ups: an enqueue sets an event an idle worker waits on."""

from __future__ import annotations

import threading


class EventSignal:
    """A `QueueSignal` for workers in the same process as the API."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait until notified or `timeout` seconds pass; True if notified. Resets the event."""
        woke = self._event.wait(timeout)
        self._event.clear()
        return woke


class NullSignal:
    """A `QueueSignal` for processes that run no worker (or whose store notifies by itself)."""

    def notify(self) -> None:
        return None
