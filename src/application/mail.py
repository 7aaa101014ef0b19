"""Ports for e-mail: sending a message, and remembering which messages went out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol
from uuid import UUID

from attrs import frozen

from application.errors import InvalidRequest
from domain.errors import PermanentTaskError

#: A deliberately plain address rule: one @, no spaces or controls, a dotted domain.
#: Anything fancier (quoted local parts, comments) is refused rather than guessed at.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
MAX_ADDRESS_CHARS = 254
MAX_SUBJECT_CHARS = 300


def check_address(address: str, *, field: str) -> str:
    """`address` if it is a plain e-mail address; InvalidRequest naming `field` otherwise."""
    if len(address) > MAX_ADDRESS_CHARS or not _ADDRESS.fullmatch(address):
        raise InvalidRequest(
            f"{field} must be a plain e-mail address like name@example.com", field=field
        )
    return address


class UndeliverableMessage(PermanentTaskError):
    """The mail server refused the message or its recipient for good (5xx): retrying cannot help."""


@frozen(kw_only=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@frozen(kw_only=True)
class EmailMessage:
    """A message ready to send; `message_id` stays the same across retries."""

    message_id: str
    sender: str
    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


class EmailSender(Protocol):
    """Hands messages to a mail system."""

    def send(self, message: EmailMessage) -> None:
        """Deliver `message`, or raise: UndeliverableMessage when retrying cannot help,
        any other exception (refused connection, 4xx) when it may."""


class DeliveryLog(Protocol):
    """Which messages were handed over, so a retried task does not send one twice."""

    def was_delivered(self, message_id: str) -> bool:
        """True if `message_id` was recorded as delivered."""

    def record_delivery(self, message_id: str, *, task_id: UUID, at: datetime) -> None:
        """Record that `message_id` went out, by task `task_id`; recording twice is harmless."""
