"""Errors the domain raises or defines for others to raise."""

from __future__ import annotations

from datetime import timedelta


class DomainError(Exception):
    """Base for every rule the domain refuses to break."""


class InvalidTransition(DomainError):
    """A task was asked to move along an edge its state machine does not have."""

    def __init__(self, *, task_id: object, current: str, target: str) -> None:
        super().__init__(f"task {task_id} cannot go from {current} to {target}")
        self.task_id = task_id
        self.current = current
        self.target = target


class PermanentTaskError(Exception):
    """Raised by a handler when retrying cannot help (bad input, 4xx, malformed data).

    The processor fails the task at once instead of burning the remaining attempts.
    """


class RetryLaterError(Exception):
    """Raised by a handler when the peer said how long to wait (an HTTP 429's Retry-After).

    The attempt counts as failed; the next one waits at least `delay`, within the
    backoff policy's cap.
    """

    def __init__(self, message: str, *, delay: timedelta) -> None:
        super().__init__(message)
        self.delay = delay
