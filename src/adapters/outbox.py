"""Messages written as `.eml` files to a directory: the mailer of the embedded default."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from adapters.mime import to_mime
from application.mail import EmailMessage

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9.@_-]")


class OutboxSender:
    """An `EmailSender` that files each message as `<outbox>/<Message-ID>.eml`.

    A message sent twice overwrites its own file, so the outbox never holds duplicates.
    """

    def __init__(self, *, directory: Path) -> None:
        self._directory = directory

    def send(self, message: EmailMessage) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self.path_of(message.message_id)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(to_mime(message).as_bytes())
        os.replace(partial, path)
        log.info("message %s written to the outbox", message.message_id)

    def path_of(self, message_id: str) -> Path:
        """Where the message `message_id` is filed."""
        name = _UNSAFE.sub("_", message_id.strip("<>")) or "message"
        return self._directory / f"{name}.eml"
