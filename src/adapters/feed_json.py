"""The JSON feed format both feed adapters read.

A feed is a JSON array of postings, or an object holding one under ``postings`` or
``jobs``. Each posting is an object with ``id`` (string or integer) and ``title``
(both required), and optionally ``company``, ``location``, ``description``, ``url``
(strings), ``remote`` (boolean) and ``postedAt`` (ISO 8601; a bare date or a time
without an offset is taken as UTC). Anything else in a posting is ignored.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from application.jobs import FeedRejected
from domain.postings import JobPosting

#: Most postings one feed may hold; a bigger feed is refused rather than half-read.
MAX_POSTINGS = 20_000
_TEXT_FIELDS = ("company", "location", "description", "url")


def parse_feed(content: bytes, *, source: str, fetched_at: datetime) -> list[JobPosting]:
    """The postings in `content`; FeedRejected if it is not a well-formed feed."""
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FeedRejected(f"feed {source!r} is not valid JSON: {exc}") from exc
    if isinstance(document, dict):
        document = document.get("postings", document.get("jobs"))
    if not isinstance(document, list):
        raise FeedRejected(f"feed {source!r} holds no list of postings")
    if len(document) > MAX_POSTINGS:
        raise FeedRejected(f"feed {source!r} holds over {MAX_POSTINGS} postings")
    return [_posting(item, index, source, fetched_at) for index, item in enumerate(document)]


def _posting(item: Any, index: int, source: str, fetched_at: datetime) -> JobPosting:
    if not isinstance(item, dict):
        raise FeedRejected(f"feed {source!r}: posting {index} is not an object")
    external_id = item.get("id")
    if isinstance(external_id, bool) or not isinstance(external_id, (str, int)):
        raise FeedRejected(f"feed {source!r}: posting {index} has no string or integer id")
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        raise FeedRejected(f"feed {source!r}: posting {index} has no title")
    texts = {name: _text(item, name, index, source) for name in _TEXT_FIELDS}
    remote = item.get("remote", False)
    if not isinstance(remote, bool):
        raise FeedRejected(f"feed {source!r}: posting {index}: remote must be true or false")
    try:
        return JobPosting(
            source=source,
            external_id=_clean(str(external_id)),
            title=_clean(title),
            remote=remote,
            posted_at=_when(item.get("postedAt"), index, source),
            fetched_at=fetched_at,
            **texts,
        )
    except ValueError as exc:
        raise FeedRejected(f"feed {source!r}: posting {index}: {exc}") from exc


def _text(item: dict[str, Any], name: str, index: int, source: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FeedRejected(f"feed {source!r}: posting {index}: {name} must be a string")
    return _clean(value)


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; drop it here so every store keeps the same text.
    return text.replace("\x00", "")


def _when(value: Any, index: int, source: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedRejected(f"feed {source!r}: posting {index}: postedAt must be a string")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FeedRejected(f"feed {source!r}: posting {index}: postedAt: {exc}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
