"""Turning an application `EmailMessage` into a MIME message, the same for SMTP and the outbox."""

from __future__ import annotations

import email.message
import email.policy
from email.utils import formatdate

from application.mail import EmailMessage


def to_mime(message: EmailMessage) -> email.message.EmailMessage:
    """`message` as a MIME message with its stable Message-ID and the current Date."""
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    mime["Message-ID"] = message.message_id
    mime["Date"] = formatdate(usegmt=True)
    mime["From"] = message.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime.set_content(message.body)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime
