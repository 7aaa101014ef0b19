"""The HTTP feed adapter against a real local HTTP server: postings, and faults sorted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.feed_http import HttpJobSource, retry_after
from application.jobs import FeedRejected, FeedUnavailable
from domain.errors import RetryLaterError
from domain.task import TaskStatus
from tests.handlers.support import Queue
from tests.integration.feed_server import FeedServer, feed_body

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POSTINGS: list[dict[str, Any]] = [
    {
        "id": 1,
        "title": "Python Engineer",
        "company": "Acme",
        "remote": True,
        "postedAt": "2026-11-30",
    },
    {
        "id": "b-2",
        "title": "Data Engineer",
        "location": "Köln",
        "postedAt": "2026-11-29T10:00:00+01:00",
    },
]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer().running() as server:
        yield server


def source_for(url: str, **kwargs: object) -> HttpJobSource:
    return HttpJobSource(feeds={"jobs": url}, timeout=timedelta(seconds=0.5), **kwargs)  # type: ignore[arg-type]  # untyped test options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_feed_is_read_into_postings(server: FeedServer) -> None:
    url = server.serve("/feed", feed_body(POSTINGS))
    first, second = source_for(url).fetch("jobs", fetched_at=NOW)
    assert (first.source, first.external_id, first.title, first.remote) == (
        "jobs",
        "1",
        "Python Engineer",
        True,
    )
    assert first.posted_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert second.location == "Köln"
    assert second.posted_at == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert second.fetched_at == NOW


def test_a_slow_feed_times_out_as_a_transient_fault(server: FeedServer) -> None:
    with pytest.raises(FeedUnavailable, match="timed out"):
        source_for(server.url("/slow")).fetch("jobs", fetched_at=NOW)


def test_a_refused_connection_is_transient() -> None:
    with pytest.raises(FeedUnavailable, match="unreachable"):
        source_for(f"http://127.0.0.1:{free_port()}/feed").fetch("jobs", fetched_at=NOW)


def test_a_server_error_is_transient(server: FeedServer) -> None:
    url = server.serve("/feed", b"oops", status=500)
    with pytest.raises(FeedUnavailable, match="HTTP 500"):
        source_for(url).fetch("jobs", fetched_at=NOW)


def test_a_429_with_a_sane_retry_after_asks_for_that_wait(server: FeedServer) -> None:
    url = server.serve("/feed", b"slow down", status=429, **{"Retry-After": "120"})
    with pytest.raises(RetryLaterError) as caught:
        source_for(url).fetch("jobs", fetched_at=NOW)
    assert caught.value.delay == timedelta(minutes=2)


def test_a_429_without_a_sane_retry_after_is_left_to_backoff(server: FeedServer) -> None:
    url = server.serve("/feed", b"go away", status=429, **{"Retry-After": "86400"})
    with pytest.raises(FeedUnavailable, match="HTTP 429"):
        source_for(url).fetch("jobs", fetched_at=NOW)


def test_a_client_error_is_permanent(server: FeedServer) -> None:
    with pytest.raises(FeedRejected, match="HTTP 404"):
        source_for(server.url("/nowhere")).fetch("jobs", fetched_at=NOW)


def test_malformed_json_is_permanent(server: FeedServer) -> None:
    url = server.serve("/feed", b'{"postings": [')
    with pytest.raises(FeedRejected, match="not valid JSON"):
        source_for(url).fetch("jobs", fetched_at=NOW)


def test_a_feed_over_the_size_limit_is_permanent(server: FeedServer) -> None:
    url = server.serve("/feed", feed_body(POSTINGS * 50))
    with pytest.raises(FeedRejected, match="larger than 1000 bytes"):
        source_for(url, max_bytes=1000).fetch("jobs", fetched_at=NOW)


def test_retry_after_reads_seconds_and_http_dates_and_refuses_nonsense() -> None:
    assert retry_after("30", now=NOW) == timedelta(seconds=30)
    assert retry_after("Tue, 01 Dec 2026 09:05:00 GMT", now=NOW) == timedelta(minutes=5)
    assert retry_after("Tue, 01 Dec 2026 08:00:00 GMT", now=NOW) is None
    assert retry_after("soon", now=NOW) is None
    assert retry_after("9" * 40, now=NOW) is None
    assert retry_after(None, now=NOW) is None


def test_a_feed_that_answers_404_fails_its_task_at_once(server: FeedServer, tmp_path: Path) -> None:
    queue = Queue(tmp=tmp_path, source=source_for(server.url("/gone")))
    task = queue.run(queue.enqueue("job_fetch", {}))
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 1


def test_a_feed_that_answers_500_is_retried_until_it_recovers(
    server: FeedServer, tmp_path: Path
) -> None:
    url = server.serve("/feed", b"oops", status=500)
    queue = Queue(tmp=tmp_path, source=source_for(url))
    task = queue.run(queue.enqueue("job_fetch", {}))
    assert task.status is TaskStatus.RETRYING
    server.serve("/feed", feed_body(POSTINGS))
    queue.clock.advance(task.run_at - queue.clock.now())
    task = queue.run(task)
    assert task.status is TaskStatus.COMPLETED
    assert task.result == {"source": "jobs", "fetched": 2, "created": 2, "updated": 0}
