"""Job feeds read from local JSON files, including the sample feed shipped in the package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from adapters.feed_json import parse_feed
from application.jobs import FeedRejected
from domain.postings import JobPosting

#: The name under which the shipped sample feed is offered.
SAMPLE_SOURCE = "sample"


def sample_feed() -> Traversable:
    """The sample feed shipped with taskspool: about twenty realistic postings."""
    return resources.files("adapters").joinpath("samples", "jobs.json")


class FileJobSource:
    """A `JobSource` over named JSON files, read afresh on every fetch."""

    def __init__(self, *, files: Mapping[str, Path | Traversable] | None = None) -> None:
        self._files = dict(files) if files is not None else {SAMPLE_SOURCE: sample_feed()}
        if not self._files:
            raise ValueError("a file job source needs at least one file")

    def names(self) -> Sequence[str]:
        return list(self._files)

    def fetch(self, source: str, *, fetched_at: datetime) -> Sequence[JobPosting]:
        file = self._files.get(source)
        if file is None:
            raise FeedRejected(f"unknown job source {source!r}")
        try:
            content = file.read_bytes()
        except FileNotFoundError as exc:
            raise FeedRejected(f"feed file of {source!r} is missing") from exc
        return parse_feed(content, source=source, fetched_at=fetched_at)
