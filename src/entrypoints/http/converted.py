"""Endpoints converted from synchronous work to queued tasks: they answer 202 at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_202_ACCEPTED

from application.actor import Actor
from application.errors import Conflict, InvalidRequest, TaskNotFound
from application.files import FileStore
from application.handlers.csv_generation import TASK_TYPE as CSV_GENERATION
from application.handlers.csv_generation import (
    csv_payload,
    matches_export_payload,
    postings_export_payload,
)
from application.handlers.job_fetch import TASK_TYPE as JOB_FETCH
from application.handlers.job_fetch import job_fetch_payload
from application.handlers.matching import TASK_TYPE as MATCHING
from application.handlers.matching import matching_payload
from application.jobs import JobSource
from application.tasks import TaskService
from domain.errors import PermanentTaskError
from domain.task import JsonObject, Task, TaskStatus
from entrypoints.http.schemas import (
    Accepted,
    CsvGenerateRequest,
    JobFetchRequest,
    MatchingRequest,
    status_url,
)


def accepted(task: Task) -> Response[Accepted]:
    """202 with the task's id and where to poll it, also as the Location header."""
    url = status_url(task.id)
    body = Accepted(task_id=task.id, status=task.status, status_url=url)
    return Response(body, status_code=HTTP_202_ACCEPTED, headers={"Location": url})


class CsvController(Controller):
    path = "/csv"
    tags = ["csv"]

    @post(
        "/generate",
        operation_id="GenerateCsv",
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
    )
    def generate(
        self,
        data: JSONBody[CsvGenerateRequest],
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
    ) -> Response[Accepted]:
        """Queue a CSV export: explicit `columns`/`rows`, or `export` of stored postings
        (`filters`) or of a matching task's matches (`matchingTaskId`); `notify` mails it."""
        payload = csv_request_payload(data, actor=actor, service=service)
        return accepted(service.enqueue(actor=actor, type=CSV_GENERATION, payload=payload))

    @get("/{task_id:str}/download", operation_id="DownloadCsv", sync_to_thread=True)
    def download(
        self,
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        files: NamedDependency[FileStore],
        task_id: FromPath[UUID],
    ) -> File:
        """The CSV file of a completed csv_generation task: 404 if not yours, 409 until done."""
        task = service.get(actor=actor, task_id=task_id)
        if task.type != CSV_GENERATION:
            raise TaskNotFound(task_id)
        if task.status is not TaskStatus.COMPLETED:
            raise Conflict(
                f"task {task_id} is {task.status.value}; its file is ready once completed"
            )
        result = task.result or {}
        name = Path(str(result.get("path", ""))).name
        try:
            path = files.open_path(name, owner=task.owner)
        except (FileNotFoundError, PermanentTaskError):
            raise NotFoundException(f"the file of task {task_id} no longer exists") from None
        if _replaced(Path(path), size=result.get("bytes"), finished_at=task.finished_at):
            # A later export of the same owner wrote the same file name; serving it
            # would hand over a file this task did not write.
            raise NotFoundException(f"the file of task {task_id} was replaced by a later export")
        # Litestar adds the charset (utf-8) to text media types itself.
        return File(path=path, filename=name, media_type="text/csv")


#: Leeway for clocks of the worker's and the API's hosts when comparing file times.
_CLOCK_LEEWAY = timedelta(seconds=1)


def _replaced(path: Path, *, size: object, finished_at: datetime | None) -> bool:
    """True if the file at `path` is not the one the export wrote (other size, or newer)."""
    stat = path.stat()
    if isinstance(size, int) and stat.st_size != size:
        return True
    modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
    return finished_at is not None and modified > finished_at + _CLOCK_LEEWAY


def csv_request_payload(
    data: CsvGenerateRequest, *, actor: Actor, service: TaskService
) -> JsonObject:
    """The csv_generation payload for one of the three kinds of request body."""
    if data.export is None:
        if data.filters is not None or data.matching_task_id is not None:
            raise InvalidRequest("filters and matchingTaskId go with export", field="export")
        if data.columns is None:
            raise InvalidRequest("columns is required unless export is given", field="columns")
        if data.rows is None:
            raise InvalidRequest("rows is required unless export is given", field="rows")
        return csv_payload(
            columns=data.columns, rows=data.rows, filename=data.filename, notify=data.notify
        )
    if data.columns is not None or data.rows is not None:
        raise InvalidRequest("give either columns and rows, or export", field="export")
    if data.export == "postings":
        if data.matching_task_id is not None:
            raise InvalidRequest("matchingTaskId goes with export matches", field="matchingTaskId")
        filters: dict[str, Any] | None = None
        if data.filters is not None:
            filters = {
                k: v for k, v in msgspec.structs.asdict(data.filters).items() if v is not None
            }
        return postings_export_payload(filters=filters, filename=data.filename, notify=data.notify)
    if data.filters is not None:
        raise InvalidRequest("filters go with export postings", field="filters")
    if data.matching_task_id is None:
        raise InvalidRequest("matchingTaskId is required to export matches", field="matchingTaskId")
    return matches_export_payload(
        actor=actor,
        tasks=service,
        matching_task_id=data.matching_task_id,
        filename=data.filename,
        notify=data.notify,
    )


class JobsController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post("/fetch", operation_id="FetchJobs", status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def fetch(
        self,
        data: JSONBody[JobFetchRequest],
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        job_source: NamedDependency[JobSource],
    ) -> Response[Accepted]:
        """Queue a fetch of the job feed `source` (default: the first configured)."""
        payload = job_fetch_payload(source=data.source, sources=job_source.names())
        return accepted(service.enqueue(actor=actor, type=JOB_FETCH, payload=payload))


class MatchingController(Controller):
    path = "/matching"
    tags = ["matching"]

    @post("/run", operation_id="RunMatching", status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def run(
        self,
        data: JSONBody[MatchingRequest],
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
    ) -> Response[Accepted]:
        """Queue a ranking of the stored postings against a profile; `notify` mails the best."""
        payload = matching_payload(
            keywords=data.keywords,
            location=data.location,
            remote=data.remote,
            limit=data.limit,
            notify=data.notify,
        )
        return accepted(service.enqueue(actor=actor, type=MATCHING, payload=payload))
