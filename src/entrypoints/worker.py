"""The poll loop: claim due tasks into a pool of handler threads, sleep only when idle.

One loop thread claims; `concurrency` daemon threads run handlers; one settler
thread writes their outcomes. The loop claims while slots are free and claims again
at once after a full batch; it waits on the wake-up event (an enqueue in this
process, a PostgreSQL NOTIFY, a finished task or a stop request) for at most the
poll interval only when there is nothing to do. The settler writes every outcome
that is ready in one transaction (`Processor.settle_many`), so under load one commit
settles many tasks, and when idle a single outcome is written at once.
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

#: Most outcomes written in one transaction.
MAX_SETTLE_BATCH = 500


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
        #: Executed tasks waiting to be written: (as claimed, as settled).
        self._outcomes: queue.SimpleQueue[tuple[Task, Task] | None] = queue.SimpleQueue()
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
        settler = threading.Thread(target=self._run_settler, name="taskspool-settler", daemon=True)
        for thread in [*slots, settler]:
            thread.start()
        log.info("worker %s started with %d slots", self.worker_id, self._concurrency)
        try:
            while not self._stopping.is_set():
                self._poll_once()
        finally:
            self._shut_down(slots)
            self._outcomes.put(None)
            settler.join()

    def _poll_once(self) -> None:
        self._recover_if_due()
        # Holding more claims than slots (a batch size above the concurrency) lets the
        # next batch be claimed while this one runs; `_recover_if_due` heartbeats the
        # claims still waiting for a slot, so none of them goes stale.
        capacity = max(self._concurrency, self._batch_size)
        wanted = min(self._batch_size, capacity - self._in_flight())
        if wanted > 0:
            claimed = self._claim(wanted)
            if claimed is None:
                self._wakeup.wait(self._error_pause_seconds)
                return
            for task in claimed:
                self._hand_over(task)
            if len(claimed) == wanted:
                return  # a full batch: more may be due, so look again at once
        # Claims waiting for a slot need heartbeats at least every `recover_every`.
        waiting = self._waiting()
        self._wakeup.wait(
            min(self._poll_seconds, self._recover_seconds) if waiting else self._poll_seconds
        )

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
        for task in self._waiting():
            try:
                held = self._processor.heartbeat(task)
            except Exception:
                log.exception("task %s: heartbeat of a waiting claim failed", task.id)
                continue
            if not held:
                # Taken back meanwhile (stale sweep, operator): its slot must not run it.
                log.warning("task %s: waiting claim lost; not running it", task.id)
                self._forget([task])

    def _waiting(self) -> list[Task]:
        """Tasks claimed by this worker whose handler has not started yet."""
        with self._lock:
            return [t for t in self._claimed.values() if t.id not in self._started]

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
                if self._stopping.is_set() or self._claimed.get(task.id) is not task:
                    # Claimed as we stopped (shutdown releases it unrun), or a claim
                    # lost while it waited (a newer claim of the task may be queued).
                    continue
                self._started.add(task.id)
            try:
                settled = self._processor.execute(task)
            except Exception:
                # execute() turns every handler error into a failed attempt; reaching
                # here means a bug around it. The lease lapses and the task is retried.
                log.exception("task %s: could not be executed", task.id)
                self._forget([task])
                continue
            self._outcomes.put((task, settled))

    def _run_settler(self) -> None:
        done = False
        while not done:
            first = self._outcomes.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_SETTLE_BATCH:
                try:
                    more = self._outcomes.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                    break
                batch.append(more)
            self._settle(batch)

    def _settle(self, batch: Sequence[tuple[Task, Task]]) -> None:
        try:
            self._processor.settle_many(batch)
        except Exception:
            # The write failed: the leases lapse and the stale sweep retries these tasks.
            log.exception(
                "could not record the outcomes of tasks %s", ", ".join(str(t.id) for t, _ in batch)
            )
        finally:
            self._forget([claimed for claimed, _ in batch])

    def _forget(self, tasks: Sequence[Task]) -> None:
        with self._lock:
            for task in tasks:
                # Only this claim: a newer claim of the same task may be held already.
                if self._claimed.get(task.id) is task:
                    del self._claimed[task.id]
                    self._started.discard(task.id)
            self._settled.notify_all()
        self._wakeup.notify()

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
