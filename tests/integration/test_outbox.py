"""The outbox mailer: each message a parseable .eml file, named by its Message-ID."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from adapters.outbox import OutboxSender
from application.mail import Attachment, EmailMessage

MESSAGE = EmailMessage(
    message_id="<3f2a@example.org>",
    sender="taskspool@example.org",
    to="grace@example.com",
    subject="Größe: 3 Treffer",
    body="Erste Zeile\nzweite Zeile\n",
    attachments=(Attachment(filename="a.csv", content=b"x,y\r\n1,2\r\n", content_type="text/csv"),),
)


def test_a_message_is_written_as_a_parseable_eml_file(tmp_path: Path) -> None:
    outbox = OutboxSender(directory=tmp_path / "outbox")
    outbox.send(MESSAGE)
    [file] = (tmp_path / "outbox").iterdir()
    assert file.name == "3f2a@example.org.eml"
    parsed = message_from_bytes(file.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<3f2a@example.org>"
    assert parsed["From"] == "taskspool@example.org"
    assert parsed["To"] == "grace@example.com"
    assert parsed["Subject"] == "Größe: 3 Treffer"
    assert parsed["Date"] is not None
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Erste Zeile\nzweite Zeile\n"
    [attachment] = parsed.iter_attachments()
    assert attachment.get_filename() == "a.csv"
    assert attachment.get_payload(decode=True) == b"x,y\r\n1,2\r\n"


def test_sending_the_same_message_twice_leaves_one_file(tmp_path: Path) -> None:
    outbox = OutboxSender(directory=tmp_path)
    outbox.send(MESSAGE)
    outbox.send(MESSAGE)
    assert [f.name for f in tmp_path.iterdir()] == ["3f2a@example.org.eml"]


def test_a_hostile_message_id_cannot_leave_the_outbox(tmp_path: Path) -> None:
    outbox = OutboxSender(directory=tmp_path / "outbox")
    assert outbox.path_of("<../../etc/passwd>").parent == tmp_path / "outbox"
    assert outbox.path_of("<../../etc/passwd>").name == ".._.._etc_passwd.eml"
