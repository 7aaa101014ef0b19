"""The SMTP mailer against a real aiosmtpd server: delivery, login, and faults sorted.

STARTTLS and SMTPS, with a throwaway certificate, are in test_smtp_tls.py.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.smtp import SmtpConfig, SmtpSecurity, SmtpSender
from application.handlers.email_delivery import EmailDeliveryHandler
from application.mail import Attachment, EmailMessage, UndeliverableMessage
from domain.task import TaskStatus
from tests.fakes import FakeJobSource
from tests.handlers.support import MAIL_FROM, Queue
from tests.integration.smtp_server import Credentials, Inbox, free_port, smtp_server

MESSAGE = EmailMessage(
    message_id="<fixed-id@example.org>",
    sender="taskspool@example.org",
    to="grace@example.com",
    subject="Your export: Zürich jobs",
    body="Hello Grace,\nthe file is attached.\n",
    attachments=(
        Attachment(
            filename="jobs.csv", content=b"title\r\n\xc3\xa9t\xc3\xa9\r\n", content_type="text/csv"
        ),
    ),
)


@pytest.fixture
def server() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


def sender_for(url: str) -> SmtpSender:
    return SmtpSender(config=SmtpConfig.from_url(url))


def test_a_message_arrives_whole_with_its_message_id(server: tuple[Inbox, int]) -> None:
    inbox, port = server
    sender_for(f"smtp://127.0.0.1:{port}").send(MESSAGE)
    [received] = inbox.messages
    assert inbox.authenticated == [False]
    assert inbox.envelopes == [("taskspool@example.org", ["grace@example.com"])]
    assert received["Message-ID"] == "<fixed-id@example.org>"
    assert received["Subject"] == "Your export: Zürich jobs"
    body = received.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Hello Grace,\nthe file is attached.\n"
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == "jobs.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == b"title\r\n\xc3\xa9t\xc3\xa9\r\n"


def test_a_url_with_credentials_logs_in_before_sending() -> None:
    with smtp_server(credentials=Credentials("mailer", "p@ss:word")) as (inbox, port):
        sender_for(f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}").send(MESSAGE)
    assert inbox.authenticated == [True]


def test_wrong_credentials_fail_for_good() -> None:
    with (
        smtp_server(credentials=Credentials("mailer", "secret")) as (inbox, port),
        pytest.raises(UndeliverableMessage, match="535"),
    ):
        sender_for(f"smtp://mailer:wrong@127.0.0.1:{port}").send(MESSAGE)
    assert inbox.messages == []


def test_a_recipient_refused_for_good_is_undeliverable(server: tuple[Inbox, int]) -> None:
    _, port = server
    message = EmailMessage(
        message_id="<x@example.org>",
        sender="a@example.org",
        to="nobody@example.com",
        subject="s",
        body="b",
    )
    with pytest.raises(UndeliverableMessage, match="550"):
        sender_for(f"smtp://127.0.0.1:{port}").send(message)


def test_a_recipient_refused_for_now_is_transient(server: tuple[Inbox, int]) -> None:
    _, port = server
    message = EmailMessage(
        message_id="<x@example.org>",
        sender="a@example.org",
        to="busy@example.com",
        subject="s",
        body="b",
    )
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="451"):
        sender_for(f"smtp://127.0.0.1:{port}").send(message)


def test_a_refused_connection_is_transient() -> None:
    with pytest.raises(ConnectionRefusedError):
        sender_for(f"smtp://127.0.0.1:{free_port()}").send(MESSAGE)


def test_an_smtp_url_gives_security_port_and_login_without_showing_the_password() -> None:
    config = SmtpConfig.from_url("smtp+starttls://me%40corp:s3cr%2Ft@mail.example.com")
    assert (config.security, config.host, config.port) == (
        SmtpSecurity.STARTTLS,
        "mail.example.com",
        587,
    )
    assert (config.username, config.password) == ("me@corp", "s3cr/t")
    assert "s3cr" not in repr(config)
    assert SmtpConfig.from_url("smtps://mail.example.com").port == 465
    assert SmtpConfig.from_url("smtp://mail.example.com").port == 25
    with pytest.raises(ValueError, match="scheme") as caught:
        SmtpConfig.from_url("http://user:hunter2@mail.example.com")
    assert "hunter2" not in str(caught.value)


def use_smtp(queue: Queue, port: int) -> None:
    queue.handlers["email_delivery"] = EmailDeliveryHandler(
        sender=sender_for(f"smtp://127.0.0.1:{port}"),
        deliveries=queue.deliveries,
        files=queue.files,
        clock=queue.clock,
        mail_from=MAIL_FROM,
    )


def test_email_tasks_retry_a_down_server_and_fail_a_bad_recipient_at_once(tmp_path: Path) -> None:
    port = free_port()
    queue = Queue(tmp=tmp_path, source=FakeJobSource({}))
    use_smtp(queue, port)
    down = queue.run(queue.enqueue("email_delivery", {"to": "grace@example.com", "subject": "Hi"}))
    assert down.status is TaskStatus.RETRYING
    with smtp_server() as (inbox, real_port):
        use_smtp(queue, real_port)
        queue.clock.advance(down.run_at - queue.clock.now())
        assert queue.run(down).status is TaskStatus.COMPLETED
        refused = queue.run(
            queue.enqueue("email_delivery", {"to": "nobody@example.com", "subject": "Hi"})
        )
    assert refused.status is TaskStatus.FAILED
    assert refused.attempts == 1
    assert [m["To"] for m in inbox.messages] == ["grace@example.com"]
