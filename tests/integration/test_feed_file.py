"""The file feed and the sample feed shipped in the package."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.feed_file import SAMPLE_SOURCE, FileJobSource, sample_feed
from application.jobs import FeedRejected

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_sample_feed_ships_twenty_distinct_dated_postings() -> None:
    postings = FileJobSource().fetch(SAMPLE_SOURCE, fetched_at=NOW)
    assert len(postings) == 20
    assert len({p.id for p in postings}) == 20
    assert all(p.posted_at is not None and p.url.startswith("https://") for p in postings)
    assert sample_feed().is_file()


def test_the_default_file_source_is_the_sample() -> None:
    assert FileJobSource().names() == [SAMPLE_SOURCE]


def test_a_local_feed_file_is_read_afresh_each_time(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    source = FileJobSource(files={"local": feed})
    feed.write_text('[{"id": "1", "title": "Cook"}]')
    assert [p.title for p in source.fetch("local", fetched_at=NOW)] == ["Cook"]
    feed.write_text('[{"id": "1", "title": "Chef"}]')
    assert [p.title for p in source.fetch("local", fetched_at=NOW)] == ["Chef"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[", "not valid JSON"),
        ('{"other": []}', "no list of postings"),
        ('[{"id": true, "title": "x"}]', "no string or integer id"),
        ('[{"id": 1, "title": "x", "remote": "yes"}]', "remote must be true or false"),
        ('[{"id": 1, "title": "x", "postedAt": "yesterday"}]', "postedAt"),
        ('[{"id": 1, "title": "x", "company": 7}]', "company must be a string"),
    ],
)
def test_a_malformed_feed_is_refused_with_a_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(content)
    with pytest.raises(FeedRejected, match=message):
        FileJobSource(files={"local": feed}).fetch("local", fetched_at=NOW)


def test_nul_characters_are_dropped_so_every_store_keeps_the_same_text(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text('[{"id": "1", "title": "Co\\u0000ok"}]')
    [posting] = FileJobSource(files={"local": feed}).fetch("local", fetched_at=NOW)
    assert posting.title == "Cook"
