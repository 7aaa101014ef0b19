"""Scoring job postings against a seeker's profile: deterministic, explainable, pure.

The score of a posting is a sum of whole points:

* each profile keyword found in the title: ``TITLE_POINTS`` (3);
* each profile keyword found in the description or the company: ``BODY_POINTS`` (1);
* the profile's location found in the posting's location: ``LOCATION_POINTS`` (2);
* the profile asks for remote work and the posting is remote: ``REMOTE_POINTS`` (2).

A keyword is found when its words appear in that order as whole words, ignoring
case (``"data engineer"`` is in ``"Senior Data Engineer"``; ``"java"`` is not in
``"JavaScript"``). A posting with no keyword found anywhere is not a match, whatever
its location or remoteness. Matches are ranked by score, highest first, and ties by
posting id, so the same postings and profile always give the same ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from attrs import field, frozen

from domain.postings import JobPosting, words

TITLE_POINTS = 3
BODY_POINTS = 1
LOCATION_POINTS = 2
REMOTE_POINTS = 2
#: Most matches one profile may ask for.
MAX_LIMIT = 100
MAX_KEYWORDS = 20


def _keywords(values: Iterable[str]) -> tuple[str, ...]:
    """Keywords as case-folded words, blanks dropped, duplicates removed, order kept."""
    return tuple(dict.fromkeys(w for w in (words(v) for v in values) if w))


def _limit(_: object, __: object, value: int) -> None:
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {value}")


def _some_keywords(_: object, __: object, value: tuple[str, ...]) -> None:
    if not 1 <= len(value) <= MAX_KEYWORDS:
        raise ValueError(f"keywords must hold 1 to {MAX_KEYWORDS} words or phrases")


@frozen(kw_only=True)
class Profile:
    """What a job seeker is looking for."""

    keywords: tuple[str, ...] = field(converter=_keywords, validator=_some_keywords)
    location: str | None = None
    #: True to favour remote postings; False or None expresses no preference.
    remote: bool | None = None
    limit: int = field(default=20, validator=_limit)


@frozen(kw_only=True)
class ScoredPosting:
    """A posting and the points it scored against a profile."""

    posting: JobPosting
    score: int

    @property
    def posting_id(self) -> UUID:
        return self.posting.id


def score(posting: JobPosting, profile: Profile) -> int:
    """The points `posting` scores against `profile`; 0 means it does not match."""
    title = _padded(posting.title)
    body = _padded(f"{posting.description} {posting.company}")
    keyword_points = sum(
        (TITLE_POINTS if f" {k} " in title else 0) + (BODY_POINTS if f" {k} " in body else 0)
        for k in profile.keywords
    )
    if keyword_points == 0:
        return 0
    location = words(profile.location or "")
    bonus = LOCATION_POINTS if location and f" {location} " in _padded(posting.location) else 0
    if profile.remote and posting.remote:
        bonus += REMOTE_POINTS
    return keyword_points + bonus


def rank(postings: Iterable[JobPosting], profile: Profile) -> Sequence[ScoredPosting]:
    """All matching postings, best first, ties by posting id (not cut to the limit)."""
    scored = [ScoredPosting(posting=p, score=s) for p in postings if (s := score(p, profile)) > 0]
    scored.sort(key=lambda m: (-m.score, m.posting_id))
    return scored


def _padded(text: str) -> str:
    return f" {words(text)} "
