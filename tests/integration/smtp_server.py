"""A real SMTP server (aiosmtpd) on localhost that keeps what it receives."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from attrs import frozen
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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

    def __init__(self, user: str, password: str, *, tls_only: bool = False) -> None:
        self._user, self._password = user.encode(), password.encode()
        self._tls_only = tls_only

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        ok = (
            (encrypted or not self._tls_only)
            and isinstance(auth_data, LoginPassword)
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


@frozen
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1; `cert_file` is also its CA."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificate(directory: Path) -> Certificate:
    """Mint a throwaway self-signed certificate and key into `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file=cert_file, key_file=key_file)


@contextmanager
def tls_smtp_server(
    certificate: Certificate, *, implicit: bool, user: str, password: str
) -> Iterator[tuple[Inbox, int]]:
    """Run an SMTP server that allows AUTH only over TLS; yield its inbox and port.

    implicit=False: plain at first, and every command but EHLO/STARTTLS needs STARTTLS.
    implicit=True: TLS from the first byte (SMTPS).
    """
    inbox = Inbox()
    port = free_port()
    context = certificate.server_context()
    # aiosmtpd 1.4's auth_require_tls only sees STARTTLS, not implicit TLS; the
    # authenticator (tls_only) enforces "AUTH only over TLS" in both modes.
    tls: dict[str, Any] = (
        {"ssl_context": context, "auth_require_tls": False}
        if implicit
        else {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=Credentials(user, password, tls_only=True),
        **tls,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
