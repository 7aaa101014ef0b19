"""Job feeds fetched over HTTP(S) with httpx, with timeouts and a size limit.

Faults are sorted for the queue: a timeout, a refused or dropped connection, a 5xx,
a 408 or a 429 may pass, so they are ordinary (retried) errors; any other 4xx, a
redirect loop, an oversized or malformed body will not, so they are permanent. A 429
whose Retry-After asks for at most `MAX_RETRY_AFTER` sets the wait before the retry.
Feed URLs may carry credentials, so logs and errors name the source, never the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from adapters.feed_json import parse_feed
from application.jobs import FeedRejected, FeedUnavailable
from domain.errors import RetryLaterError
from domain.postings import JobPosting

log = logging.getLogger(__name__)

#: The longest Retry-After we honour; a longer one is ignored in favour of backoff.
MAX_RETRY_AFTER = timedelta(hours=1)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_TRANSIENT_STATUSES = frozenset({408, 429})


class HttpJobSource:
    """A `JobSource` over named feed URLs."""

    def __init__(
        self,
        *,
        feeds: Mapping[str, str],
        timeout: timedelta = timedelta(seconds=10),
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if not feeds:
            raise ValueError("an HTTP job source needs at least one feed URL")
        self._feeds = dict(feeds)
        self._timeout = httpx.Timeout(timeout.total_seconds())
        self._max_bytes = max_bytes

    def names(self) -> Sequence[str]:
        return list(self._feeds)

    def fetch(self, source: str, *, fetched_at: datetime) -> Sequence[JobPosting]:
        url = self._feeds.get(source)
        if url is None:
            raise FeedRejected(f"unknown job source {source!r}")
        content = self._download(source, url, now=fetched_at)
        postings = parse_feed(content, source=source, fetched_at=fetched_at)
        log.info("feed %s: %d bytes, %d postings", source, len(content), len(postings))
        return postings

    def _download(self, source: str, url: str, *, now: datetime) -> bytes:
        try:
            with (
                httpx.Client(timeout=self._timeout, follow_redirects=True) as client,
                client.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                self._check_status(source, response, now=now)
                return self._read(source, response)
        except httpx.TimeoutException as exc:
            raise FeedUnavailable(f"feed {source!r} timed out ({type(exc).__name__})") from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.TooManyRedirects) as exc:
            raise FeedRejected(f"feed {source!r} cannot be fetched: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise FeedUnavailable(f"feed {source!r} unreachable ({type(exc).__name__})") from exc

    def _check_status(self, source: str, response: httpx.Response, *, now: datetime) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"feed {source!r} answered HTTP {status}"
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"), now=now)
            if wait is not None:
                raise RetryLaterError(f"{message}; retrying after {wait}", delay=wait)
        if status >= 500 or status in _TRANSIENT_STATUSES:
            raise FeedUnavailable(message)
        raise FeedRejected(message)

    def _read(self, source: str, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise FeedRejected(f"feed {source!r} is larger than {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """The wait a Retry-After header asks for (seconds or an HTTP date), if it is sane."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
        if seconds > MAX_RETRY_AFTER.total_seconds():
            return None
        wait = timedelta(seconds=seconds)
    else:
        try:
            wait = parsedate_to_datetime(value) - now
        except (TypeError, ValueError):
            return None
    return wait if timedelta(0) < wait <= MAX_RETRY_AFTER else None
