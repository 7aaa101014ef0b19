"""Errors the use cases raise; the HTTP and CLI entrypoints map each to one answer."""

from __future__ import annotations

from uuid import UUID


class ApplicationError(Exception):
    """Base for errors a caller can act on."""


class TaskNotFound(ApplicationError):
    """No such task, or not one the caller may see (the two look the same on purpose)."""

    def __init__(self, task_id: UUID) -> None:
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class InvalidRequest(ApplicationError):
    """The caller's input breaks a rule; `field` names the part that does."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Forbidden(ApplicationError):
    """The caller is known but may not do this (for example, a non-admin asking for
    another owner's tasks)."""


class PayloadTooLarge(ApplicationError):
    """A task payload is over the documented size limit."""


class Conflict(ApplicationError):
    """The request does not fit the task's current state (for example cancelling a finished task)."""
