"""A real SMTP server (aiosmtpd) on localhost that keeps what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

#: Recipients the server refuses, with the reply it gives.
REFUSED = {
    "nobody@example.com": "550 5.1.1 no such user",
    "busy@example.com": "451 4.3.0 try again later",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """The aiosmtpd handler: accepts mail for anyone but the REFUSED addresses."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        #: Per message, whether its session had logged in.
        self.authenticated: list[bool] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in REFUSED:
            return REFUSED[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.authenticated.append(bool(session.authenticated))
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


class Credentials:
    """An aiosmtpd authenticator accepting one user and password."""

    def __init__(self, user: str, password: str) -> None:
        self._user, self._password = user.encode(), password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self._user
            and auth_data.password == self._password
        )
        # handled=False makes aiosmtpd answer a refusal with 535 itself.
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(*, credentials: Credentials | None = None) -> Iterator[tuple[Inbox, int]]:
    """Run an SMTP server; yield its inbox and port. With credentials, it offers AUTH."""
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {}
    if credentials is not None:
        # Login over plain text, for tests only; requiring it would make aiosmtpd warn.
        options = {"authenticator": credentials, "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
