"""GET /api/tasks, GET /api/tasks/{id}, and the operator's cancel and retry."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK

from application.actor import Actor
from application.ports import TaskQuery
from application.tasks import MAX_PAGE, MAX_PAGE_LIMIT, TaskService
from domain.task import TaskStatus
from entrypoints.http.schemas import TaskPageView, TaskView, task_summary, task_view


class TaskController(Controller):
    """Read and steer the caller's tasks (every task, for an admin).

    Ids are matched as strings and parsed as UUIDs by the signature, so a malformed
    id is a 400 naming `task_id` rather than an unexplained 404.
    """

    path = "/tasks"
    tags = ["tasks"]

    @get("/", operation_id="ListTasks", sync_to_thread=True)
    def list_tasks(
        self,
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        task_type: Annotated[str | None, QueryParameter(name="type")] = None,
        status: Annotated[TaskStatus | None, QueryParameter()] = None,
        owner: Annotated[str | None, QueryParameter(description="Admins only")] = None,
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_LIMIT)] = 20,
    ) -> TaskPageView:
        """A page of tasks, newest first, with the total matching the filters."""
        query = TaskQuery(owner=owner, type=task_type, status=status, page=page, limit=limit)
        found = service.list(actor=actor, query=query)
        items = [task_summary(task) for task in found.items]
        return TaskPageView(items=items, page=page, limit=limit, total=found.total)

    @get("/{task_id:str}", operation_id="GetTask", sync_to_thread=True)
    def get_task(
        self,
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        task_id: FromPath[UUID],
    ) -> TaskView:
        """One task: status, attempts, result, errors and timestamps."""
        return task_view(service.get(actor=actor, task_id=task_id))

    @post(
        "/{task_id:str}/cancel",
        operation_id="CancelTask",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def cancel_task(
        self,
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        task_id: FromPath[UUID],
    ) -> TaskView:
        """Cancel a task that has not started or is waiting to retry; 409 otherwise."""
        return task_view(service.cancel(actor=actor, task_id=task_id))

    @post(
        "/{task_id:str}/retry",
        operation_id="RetryTask",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
    )
    def retry_task(
        self,
        service: NamedDependency[TaskService],
        actor: NamedDependency[Actor],
        task_id: FromPath[UUID],
    ) -> TaskView:
        """Give a failed or cancelled task a fresh set of attempts; 409 otherwise."""
        return task_view(service.retry(actor=actor, task_id=task_id))
