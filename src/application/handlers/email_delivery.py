"""The `email_delivery` task: send one message, at most once per Message-ID.

The Message-ID is `<messageKey@sender-domain>`; `messageKey` defaults to the task id,
and tasks that notify on completion pass their own id, so a notifying task that runs
twice (its completion write was lost) still sends one message. The delivery is
recorded before the task completes: a retry after a successful send whose status
write failed finds the record and does not send again.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from application.errors import InvalidRequest
from application.files import FileStore, is_plain_file_name
from application.handlers.fields import (
    optional_text,
    permanent_on_bad_payload,
    required_text,
    text_list,
)
from application.mail import (
    MAX_SUBJECT_CHARS,
    Attachment,
    DeliveryLog,
    EmailMessage,
    EmailSender,
    check_address,
)
from application.ports import Clock
from domain.errors import PermanentTaskError
from domain.task import JsonObject, Task

log = logging.getLogger(__name__)

TASK_TYPE = "email_delivery"
MAX_BODY_CHARS = 100_000
MAX_ATTACHMENTS = 10
MAX_KEY_CHARS = 100


def email_payload(
    *,
    to: str,
    subject: str,
    body: str,
    attachments: Sequence[str] = (),
    message_key: str | None = None,
) -> JsonObject:
    """The payload of an `email_delivery` task, checked; `attachments` name files in the output directory."""
    payload: JsonObject = {
        "to": to,
        "subject": subject,
        "body": body,
        "attachments": list(attachments),
        "messageKey": message_key,
    }
    read_email(payload)
    return payload


def read_email(payload: Mapping[str, Any]) -> tuple[str, str, str, list[str], str | None]:
    """(to, subject, body, attachment names, message key) from a payload; InvalidRequest if bad."""
    to = check_address(required_text(payload, "to"), field="to")
    subject = required_text(payload, "subject", max_chars=MAX_SUBJECT_CHARS)
    body = optional_text(payload, "body", max_chars=MAX_BODY_CHARS, one_line=False) or ""
    names = text_list(payload, "attachments", max_items=MAX_ATTACHMENTS)
    for name in names:
        if not is_plain_file_name(name):
            raise InvalidRequest(
                "attachments must name files in the output directory", field="attachments"
            )
    key = optional_text(payload, "messageKey", max_chars=MAX_KEY_CHARS)
    if key is not None and not key.replace("-", "").replace(".", "").isalnum():
        raise InvalidRequest(
            "messageKey may hold only letters, digits, dots and dashes", field="messageKey"
        )
    return to, subject, body, names, key


def message_id(key: str, *, sender: str) -> str:
    """The Message-ID for `key`, in the sender's domain."""
    return f"<{key}@{sender.rpartition('@')[2]}>"


class EmailDeliveryHandler:
    """Sends the payload's message through `sender` unless its Message-ID already went out."""

    def __init__(
        self,
        *,
        sender: EmailSender,
        deliveries: DeliveryLog,
        files: FileStore,
        clock: Clock,
        mail_from: str,
    ) -> None:
        self._sender = sender
        self._deliveries = deliveries
        self._files = files
        self._clock = clock
        self._mail_from = check_address(mail_from, field="MAIL_FROM")

    def __call__(self, task: Task) -> JsonObject:
        with permanent_on_bad_payload():
            to, subject, body, names, key = read_email(task.payload)
        mid = message_id(key or str(task.id), sender=self._mail_from)
        if self._deliveries.was_delivered(mid):
            log.info("task %s: message %s was already delivered; not sending again", task.id, mid)
            return {"messageId": mid, "duplicate": True}
        message = EmailMessage(
            message_id=mid,
            sender=self._mail_from,
            to=to,
            subject=subject,
            body=body,
            attachments=tuple(self._attachment(name, owner=task.owner) for name in names),
        )
        self._sender.send(message)
        self._deliveries.record_delivery(mid, task_id=task.id, at=self._clock.now())
        log.info("task %s: delivered message %s", task.id, mid)
        return {"messageId": mid, "duplicate": False, "attachments": len(names)}

    def _attachment(self, name: str, *, owner: str) -> Attachment:
        try:
            content = Path(self._files.open_path(name, owner=owner)).read_bytes()
        except FileNotFoundError as exc:
            raise PermanentTaskError(f"attachment {name!r} is not among the owner's files") from exc
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Attachment(filename=name, content=content, content_type=content_type)
