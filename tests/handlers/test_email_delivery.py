"""email_delivery: one message per Message-ID, whatever the retries; faults sorted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from application.errors import InvalidRequest
from application.handlers.email_delivery import email_payload
from application.handlers.matching import matching_payload
from application.mail import UndeliverableMessage
from application.ports import TaskQuery
from domain.task import TaskStatus
from tests.fakes import FakeJobSource
from tests.handlers.support import Queue, posting


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    return Queue(tmp=tmp_path, source=FakeJobSource({"test": [posting("1", "Python Engineer")]}))


def hello(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {"to": "grace@example.com", "subject": "Hello", "body": "Hi!"}
    fields.update(overrides)
    return email_payload(**fields)  # type: ignore[arg-type]  # untyped test fields


def test_a_message_is_sent_with_a_message_id_derived_from_the_task(queue: Queue) -> None:
    task = queue.run(queue.enqueue("email_delivery", hello()))
    assert task.status is TaskStatus.COMPLETED
    [message] = queue.mailer.sent
    assert message.message_id == f"<{task.id}@example.org>"
    assert (message.to, message.subject, message.body) == ("grace@example.com", "Hello", "Hi!")
    assert task.result == {"messageId": message.message_id, "duplicate": False, "attachments": 0}


def test_a_retry_after_a_send_whose_status_write_was_lost_does_not_send_again(
    queue: Queue,
) -> None:
    task = queue.enqueue("email_delivery", hello())
    [claimed] = queue.processor.claim()
    queue.processor.execute(claimed)  # sent and recorded; the completion is never written
    queue.clock.advance(timedelta(minutes=10))
    assert queue.processor.recover_stale() == 1
    queue.clock.advance(timedelta(minutes=10))
    retried = queue.run(task)
    assert retried.status is TaskStatus.COMPLETED
    assert retried.attempts == 2
    assert retried.result is not None
    assert retried.result["duplicate"] is True
    assert len(queue.mailer.sent) == 1


def test_a_notifying_task_that_runs_twice_sends_one_message(queue: Queue) -> None:
    queue.run(queue.enqueue("job_fetch", {}))
    matching = queue.enqueue(
        "matching", matching_payload(keywords=["python"], notify="g@example.com")
    )
    [claimed] = queue.processor.claim()
    queue.processor.execute(claimed)  # enqueues the e-mail; the completion is lost
    queue.clock.advance(timedelta(minutes=10))
    queue.processor.recover_stale()
    queue.clock.advance(timedelta(minutes=10))
    assert queue.run(matching).status is TaskStatus.COMPLETED
    emails = queue.repository.list(TaskQuery(type="email_delivery")).items
    assert len(emails) == 2
    assert all(t.status is TaskStatus.COMPLETED for t in emails)
    assert len(queue.mailer.sent) == 1


def test_a_refused_connection_is_retried_and_then_sends_once(queue: Queue) -> None:
    queue.mailer.fail_next = ConnectionRefusedError(111, "Connection refused")
    task = queue.run(queue.enqueue("email_delivery", hello()))
    assert task.status is TaskStatus.RETRYING
    queue.clock.advance(task.run_at - queue.clock.now())
    assert queue.run(task).status is TaskStatus.COMPLETED
    assert len(queue.mailer.sent) == 1


def test_a_refusal_for_good_fails_at_once(queue: Queue) -> None:
    queue.mailer.fail_next = UndeliverableMessage("550 no such user")
    task = queue.run(queue.enqueue("email_delivery", hello()))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1


def test_an_invalid_address_in_a_stored_payload_fails_at_once(queue: Queue) -> None:
    task = queue.run(queue.enqueue("email_delivery", {"to": "grace at home", "subject": "Hi"}))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1
    assert "to must be a plain e-mail address" in (task.error or "")
    assert queue.mailer.sent == []


def test_a_missing_attachment_fails_at_once(queue: Queue) -> None:
    task = queue.run(queue.enqueue("email_delivery", hello(attachments=["gone.csv"])))
    assert task.status is TaskStatus.FAILED
    assert "attachment 'gone.csv' is not among the owner's files" in (task.error or "")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"to": "a@b"}, "to"),
        ({"to": "a@example.com\r\nBcc: x@example.com"}, "to"),
        ({"subject": "two\nlines"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"attachments": ["../etc/passwd"]}, "attachments"),
        ({"message_key": "<evil>"}, "messageKey"),
    ],
)
def test_an_email_payload_is_checked_field_by_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        hello(**overrides)
    assert caught.value.field == field
