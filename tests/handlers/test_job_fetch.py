"""The job_fetch handler: postings stored once, updated on change, faults sorted."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.feed_file import SAMPLE_SOURCE, FileJobSource
from application.errors import InvalidRequest
from application.handlers.job_fetch import job_fetch_payload
from domain.postings import PostingFilter
from domain.task import TaskStatus
from tests.fakes import FakeJobSource
from tests.handlers.support import Queue, posting


def test_a_first_fetch_from_the_shipped_sample_stores_every_posting(tmp_path: Path) -> None:
    queue = Queue(tmp=tmp_path, source=FileJobSource())
    task = queue.run(queue.enqueue("job_fetch", {"source": None}))
    assert task.status is TaskStatus.COMPLETED
    assert task.result == {"source": SAMPLE_SOURCE, "fetched": 20, "created": 20, "updated": 0}
    assert len(queue.postings.query(PostingFilter(source=SAMPLE_SOURCE))) == 20


def test_refetching_updates_changed_postings_and_never_duplicates(tmp_path: Path) -> None:
    source = FakeJobSource(
        {"acme": [posting("1", "Cook", source="acme"), posting("2", "Baker", source="acme")]}
    )
    queue = Queue(tmp=tmp_path, source=source)
    queue.run(queue.enqueue("job_fetch", {"source": "acme"}))
    source.feeds["acme"] = [
        posting("1", "Head Cook", source="acme"),
        posting("2", "Baker", source="acme"),
        posting("3", "Waiter", source="acme"),
    ]
    second = queue.run(queue.enqueue("job_fetch", {"source": "acme"}))
    assert second.result == {"source": "acme", "fetched": 3, "created": 1, "updated": 1}
    titles = sorted(p.title for p in queue.postings.query(PostingFilter()))
    assert titles == ["Baker", "Head Cook", "Waiter"]


def test_a_posting_listed_twice_in_one_feed_is_stored_once(tmp_path: Path) -> None:
    source = FakeJobSource(
        {"acme": [posting("1", "Cook", source="acme"), posting("1", "Chef", source="acme")]}
    )
    queue = Queue(tmp=tmp_path, source=source)
    task = queue.run(queue.enqueue("job_fetch", {"source": "acme"}))
    assert task.result == {"source": "acme", "fetched": 1, "created": 1, "updated": 0}
    assert [p.title for p in queue.postings.query(PostingFilter())] == ["Chef"]


def test_an_unknown_source_fails_at_once(tmp_path: Path) -> None:
    queue = Queue(tmp=tmp_path, source=FileJobSource())
    task = queue.run(queue.enqueue("job_fetch", {"source": "elsewhere"}))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1
    assert "unknown job source 'elsewhere'" in (task.error or "")


def test_a_malformed_feed_file_fails_at_once(tmp_path: Path) -> None:
    feed = tmp_path / "broken.json"
    feed.write_text('{"postings": [{"id": 1}]}')
    queue = Queue(tmp=tmp_path, source=FileJobSource(files={"local": feed}))
    task = queue.run(queue.enqueue("job_fetch", {}))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1
    assert "posting 0 has no title" in (task.error or "")


def test_the_request_may_name_only_a_configured_source() -> None:
    assert job_fetch_payload(source=None, sources=["sample"]) == {"source": None}
    with pytest.raises(InvalidRequest) as caught:
        job_fetch_payload(source="other", sources=["sample"])
    assert caught.value.field == "source"
