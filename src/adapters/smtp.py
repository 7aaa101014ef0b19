"""Sending mail over SMTP, configured by one URL.

``SMTP_URL`` forms: ``smtp://host[:port]`` (plain, port 25), ``smtp+starttls://``
(upgraded with STARTTLS, port 587) and ``smtps://`` (TLS from the start, port 465),
each optionally with ``user:password@`` (percent-encoded) to log in. The password is
never logged and never shown in a repr or an error.

The server's certificate is always verified, against the system's trusted CAs or,
with ``ca_file``, against the CAs in that PEM file (``SMTP_CA_FILE``, for a private CA).

A 5xx refusal (bad recipient, sender, content or credentials) is permanent; a
refused connection, a timeout, a dropped line or a 4xx is transient and retried. So is
a certificate that fails verification (`UntrustedMailServer`): it is a fault of the
server or the network, not of the message, and it is mended there (a renewed
certificate, a fixed route) without the message changing.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from attrs import field, frozen

from adapters.mime import to_mime
from application.mail import EmailMessage, UndeliverableMessage

log = logging.getLogger(__name__)


class SmtpSecurity(StrEnum):
    PLAIN = "smtp"
    STARTTLS = "smtp+starttls"
    TLS = "smtps"


_DEFAULT_PORTS = {SmtpSecurity.PLAIN: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}


@frozen(kw_only=True)
class SmtpConfig:
    """Where and how to reach the mail server."""

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.PLAIN
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: timedelta = timedelta(seconds=30)

    @classmethod
    def from_url(cls, url: str, *, timeout: timedelta = timedelta(seconds=30)) -> SmtpConfig:
        """Parse an SMTP URL; ValueError (never quoting the password) if it is not one."""
        parts = urlsplit(url)
        try:
            security = SmtpSecurity(parts.scheme)
        except ValueError:
            raise ValueError(
                "SMTP URL scheme must be smtp://, smtp+starttls:// or smtps://"
            ) from None
        try:
            port = parts.port or _DEFAULT_PORTS[security]
        except ValueError:
            raise ValueError("SMTP URL has an invalid port") from None
        if not parts.hostname:
            raise ValueError("SMTP URL names no host")
        return cls(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
        )


class UntrustedMailServer(ConnectionError):
    """The mail server's certificate failed verification; transient, so retried."""


class SmtpSender:
    """An `EmailSender` that opens one SMTP session per message.

    `ca_file` (PEM) replaces the system's trusted CAs; `tls` replaces the whole context.
    """

    def __init__(
        self,
        *,
        config: SmtpConfig,
        tls: ssl.SSLContext | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self._config = config
        self._tls = tls or ssl.create_default_context(cafile=ca_file)

    def send(self, message: EmailMessage) -> None:
        mime = to_mime(message)
        try:
            with self._connect() as smtp:
                if self._config.security is SmtpSecurity.STARTTLS:
                    smtp.starttls(context=self._tls)
                if self._config.username is not None:
                    smtp.login(self._config.username, self._config.password or "")
                smtp.send_message(mime)
        except ssl.SSLCertVerificationError as exc:
            raise UntrustedMailServer(
                f"the certificate of mail server {self._config.host}:{self._config.port} "
                f"is not trusted ({exc.verify_message}); set SMTP_CA_FILE if it is "
                "signed by a private CA"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise UndeliverableMessage(
                    f"recipient refused: {_describe(exc.recipients)}"
                ) from exc
            raise
        except smtplib.SMTPNotSupportedError as exc:
            raise UndeliverableMessage(f"the mail server does not support that: {exc}") from exc
        except smtplib.SMTPConnectError:
            raise  # the greeting was refused: the server may come back
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise UndeliverableMessage(
                    f"mail server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
                ) from exc
            raise
        log.info(
            "message %s handed to %s:%d", message.message_id, self._config.host, self._config.port
        )

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        seconds = config.timeout.total_seconds()
        if config.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(config.host, config.port, timeout=seconds, context=self._tls)
        return smtplib.SMTP(config.host, config.port, timeout=seconds)


def _describe(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{to}: {code} {_text(text)}" for to, (code, text) in recipients.items())


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
