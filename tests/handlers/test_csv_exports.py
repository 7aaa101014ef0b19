"""csv_generation exports of stored postings and match sets, and notification by e-mail."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from application.actor import Actor
from application.errors import InvalidRequest
from application.handlers.csv_generation import (
    MATCH_COLUMNS,
    POSTING_COLUMNS,
    matches_export_payload,
    postings_export_payload,
)
from application.handlers.matching import matching_payload
from domain.task import TaskStatus
from tests.fakes import FakeJobSource
from tests.handlers.support import START, Queue, posting

TRICKY = posting(
    "t1",
    '=HYPERLINK("http://evil")',
    company='Quote "Co", Ltd',
    location="Zürich",
    description="line one\nline two, with comma",
    posted_at=START,
)
PLAIN = posting("p1", "Python Engineer", company="Acme", location="Berlin", remote=True)
OTHER = posting("o1", "Python Developer", company="Else", location="Berlin", source="other")


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    queue = Queue(tmp=tmp_path, source=FakeJobSource({"test": [TRICKY, PLAIN], "other": [OTHER]}))
    queue.run(queue.enqueue("job_fetch", {"source": "test"}))
    queue.run(queue.enqueue("job_fetch", {"source": "other"}))
    return queue


def read_rows(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def test_an_export_of_postings_quotes_cells_and_neutralises_formulas(queue: Queue) -> None:
    payload = postings_export_payload(filters={"source": "test"}, filename="postings.csv")
    task = queue.run(queue.enqueue("csv_generation", payload))
    assert task.status is TaskStatus.COMPLETED
    assert task.result is not None
    rows = read_rows(task.result["path"])
    assert rows[0] == list(POSTING_COLUMNS)
    assert task.result["rows"] == len(rows) - 1 == 2
    tricky = dict(zip(rows[0], rows[1], strict=True))  # dated postings come first
    assert tricky["title"] == '\'=HYPERLINK("http://evil")'
    assert tricky["company"] == 'Quote "Co", Ltd'
    assert tricky["location"] == "Zürich"
    assert tricky["description"] == "line one\nline two, with comma"
    assert tricky["posted_at"] == "2026-12-01T09:00:00+00:00"
    assert dict(zip(rows[0], rows[2], strict=True))["remote"] == "true"


def test_an_export_of_postings_applies_its_filters(queue: Queue) -> None:
    payload = postings_export_payload(
        filters={"location": "berlin", "remote": False}, filename=None
    )
    task = queue.run(queue.enqueue("csv_generation", payload))
    assert task.result is not None
    rows = read_rows(task.result["path"])
    assert [row[3] for row in rows[1:]] == ["Python Developer"]
    assert Path(task.result["path"]).name == f"{task.id}.csv"


def test_an_export_of_matches_lists_them_in_rank_order(queue: Queue) -> None:
    matching = queue.run(
        queue.enqueue("matching", matching_payload(keywords=["python"], remote=True))
    )
    payload = matches_export_payload(
        actor=Actor(name="ada"),
        tasks=queue.tasks,
        matching_task_id=matching.id,
        filename="matches.csv",
    )
    task = queue.run(queue.enqueue("csv_generation", payload))
    assert task.result is not None
    rows = read_rows(task.result["path"])
    assert rows[0] == list(MATCH_COLUMNS)
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [
        ("1", "5", "Python Engineer"),
        ("2", "3", "Python Developer"),
    ]


def test_an_export_of_matches_waits_while_the_matching_task_is_unfinished(queue: Queue) -> None:
    matching = queue.enqueue("matching", matching_payload(keywords=["python"]))
    export = queue.enqueue(
        "csv_generation", {"export": "matches", "matchingTaskId": str(matching.id)}
    )
    claimed = queue.processor.claim(limit=10)
    export_claim = next(t for t in claimed if t.id == export.id)
    matching_claim = next(t for t in claimed if t.id == matching.id)
    assert queue.processor.process(export_claim).settled.status is TaskStatus.RETRYING
    queue.processor.process(matching_claim)
    queue.clock.advance(queue.get(export.id).run_at - queue.clock.now())
    assert queue.run(export).status is TaskStatus.COMPLETED


def test_only_the_owner_of_a_matching_task_may_export_its_matches(queue: Queue) -> None:
    matching = queue.run(
        queue.enqueue("matching", matching_payload(keywords=["python"]), owner="ada")
    )
    with pytest.raises(InvalidRequest) as caught:
        matches_export_payload(
            actor=Actor(name="eve"), tasks=queue.tasks, matching_task_id=matching.id, filename=None
        )
    assert caught.value.field == "matchingTaskId"
    sneaky = queue.run(
        queue.enqueue(
            "csv_generation", {"export": "matches", "matchingTaskId": str(matching.id)}, owner="eve"
        )
    )
    assert sneaky.status is TaskStatus.FAILED
    assert sneaky.attempts == 1


def test_an_export_with_notify_mails_the_file_as_an_attachment(queue: Queue) -> None:
    payload = postings_export_payload(filters=None, filename="all.csv", notify="grace@example.com")
    task = queue.run(queue.enqueue("csv_generation", payload))
    assert task.result is not None
    assert queue.get(task.result["notifyTaskId"]).status is TaskStatus.COMPLETED
    [message] = queue.mailer.sent
    assert message.to == "grace@example.com"
    assert message.subject == "CSV export ready: all.csv"
    assert f"/api/csv/{task.id}/download" in message.body
    [attachment] = message.attachments
    assert attachment.filename == "all.csv"
    assert attachment.content_type == "text/csv"
    assert attachment.content == Path(task.result["path"]).read_bytes()


def test_export_payloads_are_checked_field_by_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        postings_export_payload(filters={"salary": 1}, filename=None)
    assert caught.value.field == "filters"
    with pytest.raises(InvalidRequest) as caught:
        postings_export_payload(filters=None, filename="../escape.csv")
    assert caught.value.field == "filename"
    with pytest.raises(InvalidRequest) as caught:
        postings_export_payload(filters=None, filename=None, notify="nobody")
    assert caught.value.field == "notify"


def test_an_explicit_table_still_renders_as_before(queue: Queue) -> None:
    task = queue.run(
        queue.enqueue(
            "csv_generation", {"columns": ["a", "b"], "rows": [["-1", "x,y"]], "filename": "t.csv"}
        )
    )
    assert task.result is not None
    content = Path(task.result["path"]).read_bytes()
    assert content == b'a,b\r\n\'-1,"x,y"\r\n'
    assert list(csv.reader(io.StringIO(content.decode()))) == [["a", "b"], ["'-1", "x,y"]]


def test_only_string_cells_are_guarded_and_values_keep_their_json_spelling(queue: Queue) -> None:
    payload = {
        "columns": ["n", "f", "b", "s", "formula", "null"],
        "rows": [[-5, -2.5, False, "-", "=1+1", None], [7, 0.5, True, "plain", "@x", None]],
        "filename": "values.csv",
    }

    task = queue.run(queue.enqueue("csv_generation", payload))

    assert task.result is not None
    rows = list(csv.reader(io.StringIO(Path(task.result["path"]).read_text())))
    assert rows[1:] == [
        ["-5", "-2.5", "false", "'-", "'=1+1", ""],
        ["7", "0.5", "true", "plain", "'@x", ""],
    ]
