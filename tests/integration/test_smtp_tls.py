"""The SMTP mailer over TLS against a real aiosmtpd server with a throwaway certificate.

The server allows AUTH only over TLS, so a login here also proves the line was encrypted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.smtp import SmtpConfig, SmtpSender, UntrustedMailServer
from application.mail import UndeliverableMessage
from entrypoints.container import mailer_for
from entrypoints.settings import Settings
from tests.integration.smtp_server import (
    Certificate,
    Inbox,
    make_certificate,
    tls_smtp_server,
)
from tests.integration.test_smtp import MESSAGE

PASSWORD = "s3cret-Pa55"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[tuple[Inbox, int]]:
    with tls_smtp_server(certificate, implicit=False, user="mailer", password=PASSWORD) as running:
        yield running


@pytest.fixture
def smtps_server(certificate: Certificate) -> Iterator[tuple[Inbox, int]]:
    with tls_smtp_server(certificate, implicit=True, user="mailer", password=PASSWORD) as running:
        yield running


def sender_for(url: str, *, ca_file: Path | None) -> SmtpSender:
    return SmtpSender(config=SmtpConfig.from_url(url), ca_file=ca_file)


def test_a_message_is_delivered_over_starttls_after_logging_in(
    starttls_server: tuple[Inbox, int], certificate: Certificate
) -> None:
    inbox, port = starttls_server
    url = f"smtp+starttls://mailer:{PASSWORD}@127.0.0.1:{port}"
    sender_for(url, ca_file=certificate.cert_file).send(MESSAGE)
    assert inbox.authenticated == [True]
    assert [m["Message-ID"] for m in inbox.messages] == ["<fixed-id@example.org>"]


def test_a_message_is_delivered_over_smtps_after_logging_in(
    smtps_server: tuple[Inbox, int], certificate: Certificate
) -> None:
    inbox, port = smtps_server
    url = f"smtps://mailer:{PASSWORD}@127.0.0.1:{port}"
    sender_for(url, ca_file=certificate.cert_file).send(MESSAGE)
    assert inbox.authenticated == [True]
    assert [m["Message-ID"] for m in inbox.messages] == ["<fixed-id@example.org>"]


def test_a_starttls_server_whose_certificate_is_not_trusted_is_refused_for_now(
    starttls_server: tuple[Inbox, int],
) -> None:
    inbox, port = starttls_server
    url = f"smtp+starttls://mailer:{PASSWORD}@127.0.0.1:{port}"
    with pytest.raises(UntrustedMailServer, match="not trusted") as caught:
        sender_for(url, ca_file=None).send(MESSAGE)
    # Transient (retried), not UndeliverableMessage: the server, not the message, is at fault.
    assert not isinstance(caught.value, UndeliverableMessage)
    assert PASSWORD not in str(caught.value)
    assert inbox.messages == []


def test_an_smtps_server_whose_certificate_is_not_trusted_is_refused_for_now(
    smtps_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtps_server
    other_ca = make_certificate(tmp_path / "other").cert_file
    url = f"smtps://mailer:{PASSWORD}@127.0.0.1:{port}"
    with pytest.raises(UntrustedMailServer, match="not trusted"):
        sender_for(url, ca_file=other_ca).send(MESSAGE)
    assert inbox.messages == []


def test_a_wrong_password_over_tls_fails_for_good_without_showing_it(
    starttls_server: tuple[Inbox, int],
    certificate: Certificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox, port = starttls_server
    wrong = "not-the-Pa55word"
    url = f"smtp+starttls://mailer:{wrong}@127.0.0.1:{port}"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UndeliverableMessage, match="535") as caught:
        sender_for(url, ca_file=certificate.cert_file).send(MESSAGE)
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)
    assert wrong not in caplog.text
    assert inbox.messages == []


def test_the_smtp_ca_file_setting_makes_the_mailer_trust_that_ca(
    smtps_server: tuple[Inbox, int], certificate: Certificate, tmp_path: Path
) -> None:
    inbox, port = smtps_server
    settings = Settings.from_env(
        {
            "TASKSPOOL_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "memory://",
            "SMTP_URL": f"smtps://mailer:{PASSWORD}@127.0.0.1:{port}",
            "SMTP_CA_FILE": str(certificate.cert_file),
        }
    )
    mailer_for(settings).send(MESSAGE)
    assert inbox.authenticated == [True]
