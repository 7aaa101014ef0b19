"""The poll loop: claim due tasks into a pool of handler threads, sleep only when idle.

One loop thread claims; `concurrency` daemon threads run handlers. The loop claims
while slots are free and claims again at once after a full batch; it waits on the
wake-up event (an enqueue in this process, a PostgreSQL NOTIFY, a finished task or
a stop request) for at most the poll interval only when there is nothing to do.
On stop it claims no more, lets started tasks finish within the grace period, and
releases whatever is left so another worker runs it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from application.processor import Processor
from domain.task import Task

log = logging.getLogger(__name__)


class Wakeup(Protocol):
    """An interruptible wait: `notify` ends the current or next `wait` early."""

    def notify(self) -> None:
        """Wake the waiting loop."""

    def wait(self, timeout: float) -> bool:
        """Block until notified or `timeout` seconds pass; True if notified."""


class Worker:
    """Runs claimed tasks on a fixed pool of threads until stopped."""

    def __init__(
        self,
        *,
        processor: Processor,
        wakeup: Wakeup,
        concurrency: int = 4,
        batch_size: int = 4,
        poll_interval: timedelta = timedelta(seconds=5),
        recover_every: timedelta = timedelta(minutes=1),
        shutdown_grace: timedelta = timedelta(seconds=30),
        error_pause: timedelta = timedelta(seconds=1),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._processor = processor
        self._wakeup = wakeup
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._poll_seconds = poll_interval.total_seconds()
        self._recover_seconds = recover_every.total_seconds()
        self._grace_seconds = shutdown_grace.total_seconds()
        self._error_pause_seconds = error_pause.total_seconds()
        self._monotonic = monotonic
        self._next_recovery = float("-inf")
        self._queue: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        #: Claimed by this worker and not yet settled or released.
        self._claimed: dict[UUID, Task] = {}
        #: The ids among `_claimed` whose handler has started.
        self._started: set[UUID] = set()
        self._stopping = threading.Event()

    @property
    def worker_id(self) -> str:
        return self._processor.worker_id

    def stop(self) -> None:
        """Ask `run` to stop claiming and shut down; safe from any thread or signal handler."""
        self._stopping.set()
        self._wakeup.notify()

    def run(self) -> None:
        """Poll until `stop`; then finish or release every claimed task and return."""
        slots = [
            threading.Thread(target=self._run_slot, name=f"taskspool-slot-{n}", daemon=True)
            for n in range(self._concurrency)
        ]
        for slot in slots:
            slot.start()
        log.info("worker %s started with %d slots", self.worker_id, self._concurrency)
        try:
            while not self._stopping.is_set():
                self._poll_once()
        finally:
            self._shut_down(slots)

    def _poll_once(self) -> None:
        self._recover_if_due()
        wanted = min(self._batch_size, self._concurrency - self._in_flight())
        if wanted > 0:
            claimed = self._claim(wanted)
            if claimed is None:
                self._wakeup.wait(self._error_pause_seconds)
                return
            for task in claimed:
                self._hand_over(task)
            if len(claimed) == wanted:
                return  # a full batch: more may be due, so look again at once
        self._wakeup.wait(self._poll_seconds)

    def _claim(self, limit: int) -> Sequence[Task] | None:
        try:
            return self._processor.claim(limit=limit)
        except Exception:
            log.exception("worker %s: claiming failed; pausing before the next try", self.worker_id)
            return None

    def _recover_if_due(self) -> None:
        now = self._monotonic()
        if now < self._next_recovery:
            return
        self._next_recovery = now + self._recover_seconds
        try:
            self._processor.recover_stale()
        except Exception:
            log.exception("worker %s: recovering stale tasks failed", self.worker_id)

    def _in_flight(self) -> int:
        with self._lock:
            return len(self._claimed)

    def _hand_over(self, task: Task) -> None:
        with self._lock:
            self._claimed[task.id] = task
        self._queue.put(task)

    def _run_slot(self) -> None:
        while (task := self._queue.get()) is not None:
            with self._lock:
                if self._stopping.is_set() or task.id not in self._claimed:
                    continue  # claimed as we stopped: shutdown releases it unrun
                self._started.add(task.id)
            try:
                self._processor.process(task)
            except Exception:
                # The settle write failed (the handler's own errors never get here):
                # the lease lapses and the stale sweep retries the task.
                log.exception("task %s: could not record the outcome", task.id)
            finally:
                self._forget(task)
                self._wakeup.notify()

    def _forget(self, task: Task) -> None:
        with self._lock:
            self._claimed.pop(task.id, None)
            self._started.discard(task.id)
            self._settled.notify_all()

    def _shut_down(self, slots: Sequence[threading.Thread]) -> None:
        with self._lock:
            started = len(self._started)
            if started:
                log.info(
                    "worker %s stopping: waiting up to %gs for %d running tasks",
                    self.worker_id,
                    self._grace_seconds,
                    started,
                )
            self._settled.wait_for(lambda: not self._started, timeout=self._grace_seconds)
            leftover = list(self._claimed.values())
            self._claimed.clear()
            self._started.clear()
        for task in leftover:
            self._release(task)
        for _ in slots:
            self._queue.put(None)
        log.info("worker %s stopped; released %d tasks", self.worker_id, len(leftover))

    def _release(self, task: Task) -> None:
        try:
            if not self._processor.release(task):
                log.warning("task %s: could not be released; the claim was lost", task.id)
        except Exception:
            log.exception("task %s: release failed; its lease will lapse instead", task.id)
