"""The worker's core: recover stale tasks, claim, run the handler, settle the outcome.

No database transaction is held while a handler runs: the claim is one write, the
settle is another, and in between only heartbeats touch the row. Every write after
the claim is a compare-and-set on the claimed version, so a worker whose task was
taken back as stale writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

from attrs import frozen

from application.errors import ApplicationError
from application.payloads import MAX_RESULT_BYTES, check_document
from application.ports import BeatFunction, Clock, HandlerRegistry, Keepalive, TaskRepository
from domain.backoff import BackoffPolicy
from domain.errors import PermanentTaskError, RetryLaterError
from domain.lease import LeasePolicy
from domain.task import Task

log = logging.getLogger(__name__)


def no_keepalive(beat: BeatFunction) -> AbstractContextManager[None]:
    """A keepalive that never beats: for tests that drive heartbeats by hand."""
    return nullcontext()


@frozen(kw_only=True)
class Outcome:
    """What one attempt came to, and whether its write landed."""

    claimed: Task
    settled: Task
    written: bool


class Processor:
    """Claims and runs tasks for one worker identity."""

    def __init__(
        self,
        *,
        repository: TaskRepository,
        clock: Clock,
        handlers: HandlerRegistry,
        worker_id: str,
        backoff: BackoffPolicy | None = None,
        lease: LeasePolicy | None = None,
        keepalive: Keepalive = no_keepalive,
        rand: Callable[[], float] = lambda: 0.5,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._handlers = handlers
        self.worker_id = worker_id
        self._backoff = backoff or BackoffPolicy()
        self._lease = lease or LeasePolicy()
        self._keepalive = keepalive
        self._rand = rand

    def recover_stale(self, *, limit: int = 100) -> int:
        """Turn tasks whose workers went quiet into failed attempts; return how many."""
        now = self._clock.now()
        cutoff = self._lease.stale_before(now)
        recovered = 0
        for task in self._repository.find_stale(stale_before=cutoff, limit=limit):
            expired = task.expire(now=now, backoff=self._backoff, rand=self._rand())
            # The stale condition is checked again in the write itself: a task that
            # settled or heartbeated since we read it is left alone.
            if self._repository.replace(
                expired, expected_version=task.version, heartbeat_before=cutoff
            ):
                recovered += 1
                log.warning(
                    "task %s: lease of %s expired; now %s", task.id, task.locked_by, expired.status
                )
        return recovered

    def claim(self, *, limit: int = 1) -> Sequence[Task]:
        """Claim up to `limit` due tasks for this worker."""
        return self._repository.claim(now=self._clock.now(), worker_id=self.worker_id, limit=limit)

    def execute(self, task: Task) -> Task:
        """Run the handler for claimed `task` and return its settled state (not yet written)."""
        handler = self._handlers.get(task.type)
        if handler is None:
            return self._failed(task, f"no handler for task type {task.type!r}", retryable=False)

        def beat() -> bool:
            return self.heartbeat(task)

        try:
            with self._keepalive(beat):
                result = handler(task)
        except PermanentTaskError as exc:
            return self._failed(task, describe(exc), retryable=False)
        except RetryLaterError as exc:
            return self._failed(task, describe(exc), retryable=True, wait_at_least=exc.delay)
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as exc:  # a handler must never take the worker down
            return self._failed(task, describe(exc), retryable=True)
        return self._completed(task, result)

    def heartbeat(self, task: Task) -> bool:
        """Refresh the lease of claimed `task`; False if this worker no longer holds it."""
        return self._repository.heartbeat(task, now=self._clock.now())

    def settle(self, claimed: Task, settled: Task) -> bool:
        """Write `settled` if this worker still holds `claimed`; log and drop it otherwise."""
        written = self._repository.replace(settled, expected_version=claimed.version)
        self._log_settled(claimed, settled, written)
        return written

    def settle_many(self, pairs: Sequence[tuple[Task, Task]]) -> Sequence[bool]:
        """`settle` for a batch, in one round trip to storage."""
        written = self._repository.replace_many(
            [(settled, claimed.version) for claimed, settled in pairs]
        )
        for (claimed, settled), ok in zip(pairs, written, strict=True):
            self._log_settled(claimed, settled, ok)
        return written

    def process(self, task: Task) -> Outcome:
        """Execute and settle one claimed task."""
        settled = self.execute(task)
        return Outcome(claimed=task, settled=settled, written=self.settle(task, settled))

    def release(self, task: Task) -> bool:
        """Give a claimed, unfinished task back so another worker runs it (shutdown)."""
        released = task.release(now=self._clock.now())
        written = self._repository.replace(released, expected_version=task.version)
        if written:
            log.info("task %s: released by %s", task.id, self.worker_id)
        return written

    def run_once(self, *, limit: int = 1) -> int:
        """Claim up to `limit` tasks and process them in turn; return how many ran."""
        tasks = self.claim(limit=limit)
        for task in tasks:
            self.process(task)
        return len(tasks)

    def _completed(self, task: Task, result: object) -> Task:
        try:
            check_document(result, field="result", limit=MAX_RESULT_BYTES)
        except ApplicationError as exc:
            return self._failed(task, f"handler result refused: {exc}", retryable=False)
        assert isinstance(result, dict)  # check_document refuses anything else
        return task.complete(now=self._clock.now(), result=result)

    def _failed(
        self,
        task: Task,
        message: str,
        *,
        retryable: bool,
        wait_at_least: timedelta = timedelta(0),
    ) -> Task:
        return task.fail(
            now=self._clock.now(),
            message=message,
            backoff=self._backoff,
            retryable=retryable,
            rand=self._rand(),
            wait_at_least=wait_at_least,
        )

    def _log_settled(self, claimed: Task, settled: Task, written: bool) -> None:
        if written:
            log.info("task %s: %s after attempt %d", claimed.id, settled.status, claimed.attempts)
        else:
            log.warning(
                "task %s: claim lost before settling; dropped %s", claimed.id, settled.status
            )


def describe(exc: BaseException) -> str:
    """A readable one-line account of `exc`, even if its `str()` raises or is not text."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = "<error message could not be rendered>"
    if not isinstance(text, str):  # a broken __str__ may return anything
        text = repr(text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{name}: {text}" if text else name
