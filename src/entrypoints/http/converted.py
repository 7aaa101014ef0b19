"""Endpoints converted from synchronous work to queued tasks: they answer 202 at once."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from application.actor import Actor
from application.handlers.csv_generation import TASK_TYPE as CSV_GENERATION
from application.handlers.csv_generation import csv_payload
from application.tasks import TaskService
from domain.task import Task
from entrypoints.http.schemas import Accepted, CsvGenerateRequest, status_url


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
        """Queue a CSV export of `rows` under `columns`; poll `statusUrl` for the file's path."""
        payload = csv_payload(columns=data.columns, rows=data.rows, filename=data.filename)
        return accepted(service.enqueue(actor=actor, type=CSV_GENERATION, payload=payload))
