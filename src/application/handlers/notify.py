"""Notifications on completion: a task enqueues an `email_delivery` task for its owner."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.actor import Actor
from application.handlers.email_delivery import TASK_TYPE as EMAIL_TASK_TYPE
from application.handlers.email_delivery import email_payload
from application.tasks import TaskService
from domain.task import Task


class Notifier:
    """Enqueues the e-mail a finishing task promised to send."""

    def __init__(self, *, tasks: TaskService) -> None:
        self._tasks = tasks

    def notify(
        self, *, parent: Task, to: str, subject: str, body: str, attachments: Sequence[str] = ()
    ) -> UUID:
        """Enqueue the message for `parent`'s owner; return the e-mail task's id.

        The message is keyed by `parent`'s id, so if `parent` runs again the second
        e-mail task finds the first one's delivery and sends nothing.
        """
        payload = email_payload(
            to=to, subject=subject, body=body, attachments=attachments, message_key=str(parent.id)
        )
        email = self._tasks.enqueue(
            actor=Actor(name=parent.owner), type=EMAIL_TASK_TYPE, payload=payload
        )
        return email.id
