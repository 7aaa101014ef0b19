"""The `matching` task: rank the stored postings against a profile and keep the match set."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from application.errors import InvalidRequest
from application.handlers.fields import (
    optional_bool,
    optional_int,
    optional_text,
    permanent_on_bad_payload,
    text_list,
)
from application.handlers.notify import Notifier
from application.jobs import Matcher, PostingStore
from application.mail import MAX_SUBJECT_CHARS, check_address
from domain.matching import MAX_KEYWORDS, MAX_LIMIT, Profile, ScoredPosting, rank
from domain.postings import PostingFilter
from domain.task import JsonObject, Task

log = logging.getLogger(__name__)

TASK_TYPE = "matching"
MAX_KEYWORD_CHARS = 100


def matching_payload(
    *,
    keywords: Sequence[str],
    location: str | None = None,
    remote: bool | None = None,
    limit: int | None = None,
    notify: str | None = None,
) -> JsonObject:
    """The payload of a matching run, checked."""
    payload: JsonObject = {
        "keywords": list(keywords),
        "location": location,
        "remote": remote,
        "limit": limit,
        "notify": notify,
    }
    read_matching(payload)
    return payload


def read_matching(payload: Mapping[str, Any]) -> tuple[Profile, str | None]:
    """The profile and the notify address of a payload; InvalidRequest if bad."""
    keywords = text_list(payload, "keywords", max_items=MAX_KEYWORDS)
    if any(len(k) > MAX_KEYWORD_CHARS for k in keywords):
        raise InvalidRequest(
            f"each keyword must be at most {MAX_KEYWORD_CHARS} characters", field="keywords"
        )
    location = optional_text(payload, "location", max_chars=MAX_KEYWORD_CHARS)
    remote = optional_bool(payload, "remote")
    limit = optional_int(payload, "limit", low=1, high=MAX_LIMIT)
    notify = optional_text(payload, "notify")
    if notify is not None:
        check_address(notify, field="notify")
    try:
        profile = Profile(keywords=keywords, location=location, remote=remote, limit=limit or 20)
    except ValueError as exc:
        raise InvalidRequest(str(exc), field="keywords") from exc
    return profile, notify


class MatchingHandler:
    """Scores every stored posting, stores the best `limit` as the task's match set."""

    def __init__(self, *, store: PostingStore, notifier: Notifier, matcher: Matcher = rank) -> None:
        self._store = store
        self._notifier = notifier
        self._matcher = matcher

    def __call__(self, task: Task) -> JsonObject:
        with permanent_on_bad_payload():
            profile, notify = read_matching(task.payload)
        ranked = self._matcher(self._store.query(PostingFilter()), profile)
        top = ranked[: profile.limit]
        self._store.save_matches(task.id, top)
        log.info("task %s: %d postings matched; kept %d", task.id, len(ranked), len(top))
        result: JsonObject = {
            "matched": len(ranked),
            "top": [
                {"postingId": str(m.posting_id), "title": m.posting.title, "score": m.score}
                for m in top
            ],
        }
        if notify is not None:
            email = self._notifier.notify(
                parent=task,
                to=notify,
                subject=_subject(profile, matched=len(ranked)),
                body=_summary(task, top, matched=len(ranked)),
            )
            result["notifyTaskId"] = str(email)
        return result


def _subject(profile: Profile, *, matched: int) -> str:
    subject = f"{matched} job postings match {', '.join(profile.keywords)}"
    return (
        subject if len(subject) <= MAX_SUBJECT_CHARS else subject[: MAX_SUBJECT_CHARS - 3] + "..."
    )


def _summary(task: Task, top: Sequence[ScoredPosting], *, matched: int) -> str:
    lines = [f"Matching task {task.id} found {matched} matching postings. The best:", ""]
    for index, match in enumerate(top, start=1):
        posting = match.posting
        where = ", ".join(filter(None, [posting.company, posting.location]))
        lines.append(f"{index}. {posting.title} ({where}) - score {match.score}")
        if posting.url:
            lines.append(f"   {posting.url}")
    return "\n".join(lines) + "\n"
