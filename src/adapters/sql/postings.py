"""Job postings and match sets in SQLite or PostgreSQL, through SQLAlchemy Core.

Upserts use INSERT ... ON CONFLICT (source, external_id) DO UPDATE on both
databases. Created, updated and unchanged are told apart by reading the batch's
stored rows first in the same write transaction; the ON CONFLICT clause still
keeps a concurrent fetch of the same source from failing (it may then count a row
as created that the other fetch created a moment before).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Row, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.engine import writer
from adapters.sql.posting_tables import job_postings, match_sets, task_matches
from domain.matching import ScoredPosting
from domain.postings import JobPosting, PostingFilter, UpsertCounts, distinct

#: Rows per statement: well under SQLite's bound-parameter limit.
CHUNK = 400
_CONTENT = ("title", "company", "location", "location_key", "remote", "description", "url")
_UPDATED_ON_CONFLICT = (*_CONTENT, "posted_at", "fetched_at")


class SqlPostingStore:
    """A `PostingStore` over one engine (SQLite or PostgreSQL)."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def upsert(self, postings: Sequence[JobPosting]) -> UpsertCounts:
        created = updated = unchanged = 0
        with self._writer.begin() as connection:
            for chunk in _chunks(distinct(postings)):
                ids = [p.id for p in chunk]
                rows = connection.execute(select(job_postings).where(job_postings.c.id.in_(ids)))
                stored = {row.id: _posting(row) for row in rows}
                changed = []
                for posting in chunk:
                    before = stored.get(posting.id)
                    if before is None:
                        created += 1
                    elif before.same_content(posting):
                        unchanged += 1
                        continue
                    else:
                        updated += 1
                    changed.append(_row(posting))
                if changed:
                    connection.execute(self._upsert_statement(), changed)
        return UpsertCounts(created=created, updated=updated, unchanged=unchanged)

    def query(
        self, posting_filter: PostingFilter, *, limit: int | None = None
    ) -> Sequence[JobPosting]:
        c = job_postings.c
        statement = select(job_postings).order_by(c.posted_at.is_(None), c.posted_at.desc(), c.id)
        if posting_filter.source is not None:
            statement = statement.where(c.source == posting_filter.source)
        if posting_filter.company is not None:
            statement = statement.where(c.company == posting_filter.company)
        if posting_filter.location is not None:
            key = posting_filter.location.casefold()
            statement = statement.where(c.location_key.contains(key, autoescape=True))
        if posting_filter.remote is not None:
            statement = statement.where(c.remote.is_(posting_filter.remote))
        if limit is not None:
            statement = statement.limit(limit)
        with self._engine.connect() as connection:
            return [_posting(row) for row in connection.execute(statement)]

    def save_matches(self, task_id: UUID, matches: Sequence[ScoredPosting]) -> None:
        with self._writer.begin() as connection:
            connection.execute(delete(task_matches).where(task_matches.c.task_id == task_id))
            connection.execute(delete(match_sets).where(match_sets.c.task_id == task_id))
            connection.execute(insert(match_sets).values(task_id=task_id, size=len(matches)))
            if matches:
                connection.execute(
                    insert(task_matches),
                    [
                        {
                            "task_id": task_id,
                            "rank": rank,
                            "posting_id": m.posting_id,
                            "score": m.score,
                        }
                        for rank, m in enumerate(matches, start=1)
                    ],
                )

    def matches(self, task_id: UUID) -> Sequence[ScoredPosting] | None:
        statement = (
            select(task_matches.c.score, job_postings)
            .join(job_postings, job_postings.c.id == task_matches.c.posting_id)
            .where(task_matches.c.task_id == task_id)
            .order_by(task_matches.c.rank)
        )
        with self._engine.connect() as connection:
            known = connection.execute(
                select(match_sets.c.task_id).where(match_sets.c.task_id == task_id)
            ).first()
            if known is None:
                return None
            return [
                ScoredPosting(posting=_posting(row), score=row.score)
                for row in connection.execute(statement)
            ]

    def _upsert_statement(self) -> Any:
        dialect = self._engine.dialect.name
        statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(job_postings)
        return statement.on_conflict_do_update(
            index_elements=[job_postings.c.source, job_postings.c.external_id],
            set_={name: statement.excluded[name] for name in _UPDATED_ON_CONFLICT},
        )


def _chunks(postings: list[JobPosting]) -> Iterator[list[JobPosting]]:
    for start in range(0, len(postings), CHUNK):
        yield postings[start : start + CHUNK]


def _row(posting: JobPosting) -> dict[str, Any]:
    return {
        "id": posting.id,
        "source": posting.source,
        "external_id": posting.external_id,
        "title": posting.title,
        "company": posting.company,
        "location": posting.location,
        "location_key": posting.location_key,
        "remote": posting.remote,
        "description": posting.description,
        "url": posting.url,
        "posted_at": posting.posted_at,
        "fetched_at": posting.fetched_at,
    }


def _posting(row: Row[Any]) -> JobPosting:
    return JobPosting(
        source=row.source,
        external_id=row.external_id,
        title=row.title,
        company=row.company,
        location=row.location,
        remote=row.remote,
        description=row.description,
        url=row.url,
        posted_at=row.posted_at,
        fetched_at=row.fetched_at,
    )
