"""Job postings, match sets and delivery records in memory: thread-safe, for tests and embedding."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.matching import ScoredPosting
from domain.postings import JobPosting, PostingFilter, UpsertCounts, distinct, newest_first


class InMemoryPostingStore:
    """A `PostingStore` in dicts behind one lock."""

    def __init__(self) -> None:
        self._postings: dict[UUID, JobPosting] = {}
        self._matches: dict[UUID, list[tuple[UUID, int]]] = {}
        self._lock = threading.Lock()

    def upsert(self, postings: Sequence[JobPosting]) -> UpsertCounts:
        created = updated = unchanged = 0
        with self._lock:
            for posting in distinct(postings):
                stored = self._postings.get(posting.id)
                if stored is None:
                    created += 1
                elif stored.same_content(posting):
                    unchanged += 1
                    continue
                else:
                    updated += 1
                self._postings[posting.id] = posting
        return UpsertCounts(created=created, updated=updated, unchanged=unchanged)

    def query(
        self, posting_filter: PostingFilter, *, limit: int | None = None
    ) -> Sequence[JobPosting]:
        with self._lock:
            found = [p for p in self._postings.values() if posting_filter.accepts(p)]
        found.sort(key=newest_first)
        return found if limit is None else found[:limit]

    def save_matches(self, task_id: UUID, matches: Sequence[ScoredPosting]) -> None:
        with self._lock:
            self._matches[task_id] = [(m.posting_id, m.score) for m in matches]

    def matches(self, task_id: UUID) -> Sequence[ScoredPosting] | None:
        with self._lock:
            saved = self._matches.get(task_id)
            if saved is None:
                return None
            return [
                ScoredPosting(posting=self._postings[pid], score=score)
                for pid, score in saved
                if pid in self._postings
            ]


class InMemoryDeliveryLog:
    """A `DeliveryLog` in a dict behind one lock."""

    def __init__(self) -> None:
        self._delivered: dict[str, tuple[UUID, datetime]] = {}
        self._lock = threading.Lock()

    def was_delivered(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._delivered

    def record_delivery(self, message_id: str, *, task_id: UUID, at: datetime) -> None:
        with self._lock:
            self._delivered.setdefault(message_id, (task_id, at))
