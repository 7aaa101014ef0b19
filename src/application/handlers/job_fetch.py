"""The `job_fetch` task: read a feed and store its postings, updating rather than duplicating."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application.errors import InvalidRequest
from application.handlers.fields import optional_text, permanent_on_bad_payload
from application.jobs import FeedRejected, JobSource, PostingStore
from application.ports import Clock
from domain.postings import distinct
from domain.task import JsonObject, Task

log = logging.getLogger(__name__)

TASK_TYPE = "job_fetch"


def job_fetch_payload(*, source: str | None, sources: Sequence[str]) -> JsonObject:
    """The payload of a fetch from `source` (default: the first of `sources`), checked."""
    if source is not None and source not in sources:
        raise InvalidRequest(f"source must be one of: {', '.join(sources)}", field="source")
    return {"source": source}


class JobFetchHandler:
    """Fetches every posting of one source and upserts them into the store."""

    def __init__(self, *, source: JobSource, store: PostingStore, clock: Clock) -> None:
        self._source = source
        self._store = store
        self._clock = clock

    def __call__(self, task: Task) -> JsonObject:
        with permanent_on_bad_payload():
            name = optional_text(task.payload, "source") or self._source.names()[0]
        if name not in self._source.names():
            raise FeedRejected(f"unknown job source {name!r}")
        postings = distinct(self._source.fetch(name, fetched_at=self._clock.now()))
        counts = self._store.upsert(postings)
        log.info(
            "task %s: source %s gave %d postings: %d created, %d updated",
            task.id,
            name,
            len(postings),
            counts.created,
            counts.updated,
        )
        return {
            "source": name,
            "fetched": len(postings),
            "created": counts.created,
            "updated": counts.updated,
        }
