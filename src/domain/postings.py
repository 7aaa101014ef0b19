"""Job postings: what a feed offers, identified by where it came from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID, uuid5

from attrs import field, frozen

from domain.clocktime import optional_utc, utc

#: Namespace of posting ids, so that one (source, external id) has one id in every store.
POSTING_NAMESPACE = UUID("5b0c1a52-6f3e-4c8e-9d4b-2f6a7e1c9d30")

_WORD = re.compile(r"\w+")


def posting_id(source: str, external_id: str) -> UUID:
    """The stable id of the posting `external_id` of feed `source`."""
    return uuid5(POSTING_NAMESPACE, f"{source}\x1f{external_id}")


def words(text: str) -> str:
    """`text` as case-folded words joined by single spaces, for whole-word matching."""
    return " ".join(_WORD.findall(text.casefold()))


def _not_blank(_: object, attribute: object, value: str) -> None:
    if not value.strip():
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must not be blank")


@frozen(kw_only=True)
class JobPosting:
    """One job offer from one feed. Re-fetching it updates it; it is never duplicated."""

    #: The feed it came from (a configured source name such as ``sample``).
    source: str = field(validator=_not_blank)
    #: The feed's own id for it; unique within `source`.
    external_id: str = field(validator=_not_blank)
    title: str = field(validator=_not_blank)
    company: str = ""
    location: str = ""
    remote: bool = False
    description: str = ""
    url: str = ""
    #: When the employer published it, if the feed says.
    posted_at: datetime | None = field(default=None, converter=optional_utc)
    #: When this version of its content was fetched.
    fetched_at: datetime = field(converter=utc)

    @property
    def id(self) -> UUID:
        return posting_id(self.source, self.external_id)

    @property
    def location_key(self) -> str:
        """The location case-folded, which location filters compare against."""
        return self.location.casefold()

    def same_content(self, other: JobPosting) -> bool:
        """True if `other` says the same thing, whenever it was fetched."""
        return _content(self) == _content(other)


def _content(posting: JobPosting) -> tuple[object, ...]:
    return (
        posting.source,
        posting.external_id,
        posting.title,
        posting.company,
        posting.location,
        posting.remote,
        posting.description,
        posting.url,
        posting.posted_at,
    )


@frozen(kw_only=True)
class PostingFilter:
    """Which stored postings to read; unset fields do not filter."""

    source: str | None = None
    company: str | None = None
    #: Case-insensitive substring of the posting's location.
    location: str | None = None
    remote: bool | None = None

    def accepts(self, posting: JobPosting) -> bool:
        """The filter's meaning, which every store reproduces."""
        return (
            (self.source is None or posting.source == self.source)
            and (self.company is None or posting.company == self.company)
            and (self.location is None or self.location.casefold() in posting.location_key)
            and (self.remote is None or posting.remote is self.remote)
        )


@frozen(kw_only=True)
class UpsertCounts:
    """What storing a batch of postings did."""

    created: int
    updated: int
    #: Postings already stored with the same content; left untouched.
    unchanged: int


def distinct(postings: Iterable[JobPosting]) -> list[JobPosting]:
    """`postings` with one posting per (source, external id): the last one given wins."""
    return list({p.id: p for p in postings}.values())


def newest_first(posting: JobPosting) -> tuple[bool, float, UUID]:
    """Sort key of stored postings: newest `posted_at` first, undated last, then by id."""
    stamp = -posting.posted_at.timestamp() if posting.posted_at is not None else 0.0
    return (posting.posted_at is None, stamp, posting.id)
