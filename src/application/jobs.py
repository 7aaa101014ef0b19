"""Ports for job postings: where they come from, and where they are kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from domain.errors import PermanentTaskError
from domain.matching import Profile, ScoredPosting
from domain.postings import JobPosting, PostingFilter, UpsertCounts


class FeedUnavailable(Exception):
    """The feed could not be read this time (timeout, refused, 5xx, 429): try again later."""


class FeedRejected(PermanentTaskError):
    """The feed refused the request or answered nonsense (4xx, malformed): retrying cannot help."""


# Runtime-checkable because the HTTP layer injects it, and Litestar checks the type
# of every injected value.
@runtime_checkable
class JobSource(Protocol):
    """Named feeds of job postings."""

    def names(self) -> Sequence[str]:
        """The source names this feed serves; the first is the default."""

    def fetch(self, source: str, *, fetched_at: datetime) -> Sequence[JobPosting]:
        """Every posting `source` offers now, stamped `fetched_at`.

        Raises FeedUnavailable for transient faults and FeedRejected (a
        PermanentTaskError) for permanent ones, including an unknown `source`.
        """


class PostingStore(Protocol):
    """Stored job postings and the match sets computed from them. Thread-safe."""

    def upsert(self, postings: Sequence[JobPosting]) -> UpsertCounts:
        """Insert new postings and update changed ones, keyed by (source, external_id)."""

    def query(
        self, posting_filter: PostingFilter, *, limit: int | None = None
    ) -> Sequence[JobPosting]:
        """Postings `posting_filter` accepts: newest `posted_at` first, undated last, then by id."""

    def save_matches(self, task_id: UUID, matches: Sequence[ScoredPosting]) -> None:
        """Store the ranked match set of matching task `task_id`, replacing any earlier one."""

    def matches(self, task_id: UUID) -> Sequence[ScoredPosting] | None:
        """The match set of `task_id` in rank order with current posting content, or None if none is stored."""


class Matcher(Protocol):
    """Ranks postings against a profile. The default is `domain.matching.rank`; a host
    service may put its own scoring here."""

    def __call__(
        self, postings: Iterable[JobPosting], profile: Profile, /
    ) -> Sequence[ScoredPosting]:
        """Every matching posting, best first, in a deterministic order."""
