"""The matching handler: ranked results, a stored match set, and an e-mail on request."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

import pytest

from application.errors import InvalidRequest
from application.handlers.matching import MatchingHandler, matching_payload
from application.handlers.notify import Notifier
from domain.matching import Profile, ScoredPosting
from domain.postings import JobPosting
from domain.task import TaskStatus
from tests.fakes import FakeJobSource
from tests.handlers.support import MAIL_FROM, Queue, posting

FEED = [
    posting("1", "Python Engineer", location="Berlin", description="Python and SQL"),
    posting("2", "Data Engineer", description="Some Python", remote=True),
    posting("3", "Pastry Chef", location="Berlin"),
    posting("4", "Python Developer", location="Paris"),
]


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    queue = Queue(tmp=tmp_path, source=FakeJobSource({"test": FEED}))
    queue.run(queue.enqueue("job_fetch", {}))
    return queue


def test_matching_ranks_stored_postings_and_keeps_the_best_as_the_match_set(queue: Queue) -> None:
    task = queue.run(
        queue.enqueue("matching", matching_payload(keywords=["python"], location="Berlin", limit=2))
    )
    assert task.status is TaskStatus.COMPLETED
    assert task.result is not None
    assert task.result["matched"] == 3
    assert task.result["top"] == [
        {"postingId": str(FEED[0].id), "title": "Python Engineer", "score": 3 + 1 + 2},
        {"postingId": str(FEED[3].id), "title": "Python Developer", "score": 3},
    ]
    stored = queue.postings.matches(task.id)
    assert stored is not None
    assert [(m.posting_id, m.score) for m in stored] == [(FEED[0].id, 6), (FEED[3].id, 3)]


def test_running_matching_twice_replaces_its_match_set(queue: Queue) -> None:
    task = queue.enqueue("matching", matching_payload(keywords=["python"]))
    queue.run(task)
    queue.postings.save_matches(task.id, [])
    handler = queue.handlers["matching"]
    handler(queue.get(task.id))
    stored = queue.postings.matches(task.id)
    assert stored is not None
    assert len(stored) == 3


def test_matching_with_notify_mails_the_top_postings_to_the_address(queue: Queue) -> None:
    task = queue.run(
        queue.enqueue("matching", matching_payload(keywords=["python"], notify="grace@example.com"))
    )
    assert task.result is not None
    email_task = queue.get(task.result["notifyTaskId"])
    assert email_task.status is TaskStatus.COMPLETED
    assert email_task.owner == task.owner
    [message] = queue.mailer.sent
    assert message.to == "grace@example.com"
    assert message.sender == MAIL_FROM
    assert message.subject == "3 job postings match python"
    assert message.message_id == f"<{task.id}@example.org>"
    assert "1. Python Engineer (Berlin) - score 4" in message.body


def test_a_matching_payload_is_checked_field_by_field() -> None:
    for kwargs, field in [
        ({"keywords": []}, "keywords"),
        ({"keywords": ["python"], "limit": 0}, "limit"),
        ({"keywords": ["python"], "notify": "not an address"}, "notify"),
        ({"keywords": ["python"], "location": "a\nb"}, "location"),
    ]:
        with pytest.raises(InvalidRequest) as caught:
            matching_payload(**kwargs)  # type: ignore[arg-type]  # wrong types on purpose
        assert caught.value.field == field


def test_a_stored_payload_that_breaks_the_rules_fails_at_once(queue: Queue) -> None:
    task = queue.run(queue.enqueue("matching", {"keywords": "python"}))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1
    assert "keywords must be a list of strings" in (task.error or "")
    assert queue.postings.matches(UUID(str(task.id))) is None


def test_a_host_service_may_replace_the_scoring(queue: Queue) -> None:
    def everything_scores_one(
        postings: Iterable[JobPosting], profile: Profile, /
    ) -> list[ScoredPosting]:
        return sorted(
            (ScoredPosting(posting=p, score=1) for p in postings), key=lambda m: m.posting_id
        )

    queue.handlers["matching"] = MatchingHandler(
        store=queue.postings, notifier=Notifier(tasks=queue.tasks), matcher=everything_scores_one
    )
    task = queue.run(queue.enqueue("matching", matching_payload(keywords=["nothing"])))
    assert task.result is not None
    assert task.result["matched"] == len(FEED)
