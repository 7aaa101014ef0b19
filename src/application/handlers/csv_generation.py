"""The `csv_generation` task: write a CSV file in the output directory.

Three kinds of payload: explicit `columns` and `rows`; `"export": "postings"` with
optional `filters`, for stored job postings; `"export": "matches"` with a
`matchingTaskId`, for the match set of one of the owner's matching tasks. Any of them
may carry `notify`, an address that gets the file by e-mail once it is written.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from attrs import frozen

from application.actor import Actor
from application.errors import InvalidRequest, TaskNotFound
from application.files import FileStore, file_name_problem
from application.handlers.fields import (
    optional_bool,
    optional_text,
    permanent_on_bad_payload,
    task_id,
)
from application.handlers.matching import TASK_TYPE as MATCHING_TASK_TYPE
from application.handlers.notify import Notifier
from application.jobs import PostingStore
from application.mail import check_address
from application.tasks import TaskService
from domain.errors import PermanentTaskError
from domain.matching import ScoredPosting
from domain.postings import JobPosting, PostingFilter
from domain.task import JsonObject, Task, TaskStatus

log = logging.getLogger(__name__)

TASK_TYPE = "csv_generation"
#: Leading characters a spreadsheet reads as a formula; string cells starting with one
#: get a leading apostrophe (numbers, booleans and null are never changed).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Most postings one export writes.
MAX_EXPORT_ROWS = 100_000
#: Files up to this size are attached to the notification; bigger ones are only linked.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
POSTING_COLUMNS = (
    "id",
    "source",
    "external_id",
    "title",
    "company",
    "location",
    "remote",
    "url",
    "posted_at",
    "fetched_at",
    "description",
)
MATCH_COLUMNS = ("rank", "score", *POSTING_COLUMNS)
EXPORTS = ("postings", "matches")
_FILTER_KEYS = frozenset({"source", "company", "location", "remote"})


class MatchesNotReady(Exception):
    """The matching task to export has not finished yet; the export retries later."""


def csv_payload(
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    filename: str | None,
    notify: str | None = None,
) -> JsonObject:
    """The payload of an explicit export, checked before it is queued."""
    if not columns:
        raise InvalidRequest("columns must name at least one column", field="columns")
    for index, row in enumerate(rows):
        if len(row) != len(columns):
            raise InvalidRequest(
                f"rows[{index}] has {len(row)} cells; columns has {len(columns)}", field="rows"
            )
    _check_common(filename, notify)
    payload: JsonObject = {
        "columns": list(columns),
        "rows": [list(row) for row in rows],
        "filename": filename,
    }
    if notify is not None:
        payload["notify"] = notify
    return payload


def postings_export_payload(
    *, filters: Mapping[str, Any] | None, filename: str | None, notify: str | None = None
) -> JsonObject:
    """The payload of an export of stored postings, checked."""
    _check_common(filename, notify)
    payload: JsonObject = {
        "export": "postings",
        "filters": dict(filters or {}),
        "filename": filename,
        "notify": notify,
    }
    read_filters(payload)
    return payload


def matches_export_payload(
    *,
    actor: Actor,
    tasks: TaskService,
    matching_task_id: UUID,
    filename: str | None,
    notify: str | None = None,
) -> JsonObject:
    """The payload of an export of a matching task's match set; the task must be `actor`'s."""
    _check_common(filename, notify)
    try:
        matching = tasks.get(actor=actor, task_id=matching_task_id)
    except TaskNotFound as exc:
        raise InvalidRequest(
            "matchingTaskId names no task of yours", field="matchingTaskId"
        ) from exc
    if matching.type != MATCHING_TASK_TYPE:
        raise InvalidRequest("matchingTaskId must name a matching task", field="matchingTaskId")
    return {
        "export": "matches",
        "matchingTaskId": str(matching_task_id),
        "filename": filename,
        "notify": notify,
    }


def read_filters(payload: Mapping[str, Any]) -> PostingFilter:
    """The posting filter of an export payload; InvalidRequest if bad."""
    filters = payload.get("filters") or {}
    if not isinstance(filters, dict) or not _FILTER_KEYS.issuperset(filters):
        raise InvalidRequest(
            f"filters may hold only {', '.join(sorted(_FILTER_KEYS))}", field="filters"
        )
    return PostingFilter(
        source=optional_text(filters, "source", max_chars=100),
        company=optional_text(filters, "company", max_chars=200),
        location=optional_text(filters, "location", max_chars=100),
        remote=optional_bool(filters, "remote"),
    )


def _check_common(filename: str | None, notify: str | None) -> None:
    problem = None if filename is None else file_name_problem(filename)
    if problem is not None:
        raise InvalidRequest(f"filename {problem}", field="filename")
    if notify is not None:
        check_address(notify, field="notify")


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV in UTF-8: quotes, commas and newlines quoted, formulas neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in columns])
    writer.writerows([_cell(c) for c in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    """A JSON value as CSV text: numbers as numbers, `true`/`false`, null as empty.

    Only strings are guarded: one starting with = + - @ tab or CR gets a leading
    apostrophe, so a spreadsheet shows it as text instead of running a formula. A
    number such as -5 is data, and stays as it is.
    """
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def posting_row(posting: JobPosting) -> list[Any]:
    """The cells of `posting` under POSTING_COLUMNS."""
    return [
        posting.id,
        posting.source,
        posting.external_id,
        posting.title,
        posting.company,
        posting.location,
        posting.remote,
        posting.url,
        posting.posted_at.isoformat() if posting.posted_at else None,
        posting.fetched_at.isoformat(),
        posting.description,
    ]


@frozen(kw_only=True)
class _Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    what: str


class CsvGenerationHandler:
    """Writes the payload's table to `<output dir>/<filename>` (default `<task id>.csv`).

    `postings`, `tasks` and `notifier` are needed only for exports and notifications;
    without them such payloads fail permanently.
    """

    def __init__(
        self,
        *,
        files: FileStore,
        postings: PostingStore | None = None,
        tasks: TaskService | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self._files = files
        self._postings = postings
        self._tasks = tasks
        self._notifier = notifier

    def __call__(self, task: Task) -> JsonObject:
        with permanent_on_bad_payload():
            table = self._table(task)
            filename = optional_text(task.payload, "filename") or f"{task.id}.csv"
            _check_common(filename, None)
            notify = optional_text(task.payload, "notify")
            if notify is not None:
                check_address(notify, field="notify")
        content = render_csv(table.columns, table.rows)
        path = self._files.write(filename, content, owner=task.owner)
        log.info("task %s: wrote %d rows of %s", task.id, len(table.rows), table.what)
        result: JsonObject = {"path": path, "rows": len(table.rows), "bytes": len(content)}
        if notify is not None:
            result["notifyTaskId"] = str(self._notify(task, notify, filename, table, len(content)))
        return result

    def _table(self, task: Task) -> _Table:
        export = task.payload.get("export")
        if export is None:
            columns = task.payload.get("columns")
            rows = task.payload.get("rows")
            if not isinstance(columns, list) or not isinstance(rows, list):
                raise PermanentTaskError("payload needs a list of columns and a list of rows")
            return _Table(columns=columns, rows=rows, what="explicit rows")
        if export == "postings":
            postings = self._store().query(read_filters(task.payload), limit=MAX_EXPORT_ROWS)
            rows = [posting_row(p) for p in postings]
            return _Table(columns=POSTING_COLUMNS, rows=rows, what="stored postings")
        if export == "matches":
            matches = self._matches(task, task_id(task.payload, "matchingTaskId"))
            rows = [[i, m.score, *posting_row(m.posting)] for i, m in enumerate(matches, start=1)]
            return _Table(columns=MATCH_COLUMNS, rows=rows, what="matches")
        raise InvalidRequest(f"export must be one of: {', '.join(EXPORTS)}", field="export")

    def _matches(self, task: Task, matching_id: UUID) -> Sequence[ScoredPosting]:
        if self._tasks is None:
            raise PermanentTaskError("this service cannot export matches: no task service")
        try:
            matching = self._tasks.get(actor=Actor(name=task.owner), task_id=matching_id)
        except TaskNotFound as exc:
            raise PermanentTaskError(f"matching task {matching_id} not found") from exc
        if matching.type != MATCHING_TASK_TYPE:
            raise PermanentTaskError(f"task {matching_id} is not a matching task")
        if not matching.is_terminal:
            raise MatchesNotReady(
                f"matching task {matching_id} is {matching.status.value}; not done yet"
            )
        if matching.status is not TaskStatus.COMPLETED:
            raise PermanentTaskError(f"matching task {matching_id} ended {matching.status.value}")
        matches = self._store().matches(matching_id)
        if matches is None:
            raise PermanentTaskError(f"matching task {matching_id} has no stored match set")
        return matches

    def _store(self) -> PostingStore:
        if self._postings is None:
            raise PermanentTaskError("this service cannot export postings: no posting store")
        return self._postings

    def _notify(self, task: Task, to: str, filename: str, table: _Table, size: int) -> UUID:
        if self._notifier is None:
            raise PermanentTaskError("this service cannot send notifications: no notifier")
        attached = size <= MAX_ATTACHMENT_BYTES
        body = (
            f"Your CSV export {task.id} is ready: {len(table.rows)} rows of {table.what}.\n\n"
            + (f"It is attached as {filename}.\n" if attached else "It is too big to attach.\n")
            + f"Download it with GET /api/csv/{task.id}/download\n"
        )
        return self._notifier.notify(
            parent=task,
            to=to,
            subject=f"CSV export ready: {filename}",
            body=body,
            attachments=[filename] if attached else [],
        )
