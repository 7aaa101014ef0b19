"""GET /api/tasks, GET /api/tasks/{id}, POST .../cancel and .../retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from domain.backoff import BackoffPolicy
from domain.task import Task, TaskStatus
from entrypoints.container import Container
from tests.fakes import FakeClock
from tests.http.conftest import Headers

Client = TestClient[Any]


@pytest.fixture
def clock(container: Container) -> FakeClock:
    clock = FakeClock()
    container.clock.override(clock)
    return clock


def store(
    container: Container,
    *,
    owner: str,
    type: str = "csv_generation",
    status: TaskStatus = TaskStatus.PENDING,
) -> Task:
    """A task already in `status`, reached through the domain's own transitions."""
    clock = container.clock()
    now = clock.now()
    task = Task.create(
        id=uuid4(), type=type, owner=owner, payload={"n": 1}, now=now, max_attempts=1
    )
    if status is not TaskStatus.PENDING:
        task = task.claim(now=now, worker_id="w1")
    if status is TaskStatus.COMPLETED:
        task = task.complete(now=now, result={"ok": True})
    elif status is TaskStatus.FAILED:
        task = task.fail(now=now, message="boom", backoff=BackoffPolicy())
    elif status is TaskStatus.CANCELLED:
        raise ValueError("store a pending task and cancel it through the API instead")
    container.repository().add(task)
    if isinstance(clock, FakeClock):
        clock.advance(timedelta(seconds=1))
    return task


def ids(response: Any) -> list[str]:
    return [item["taskId"] for item in response.json()["items"]]


def test_owner_reads_their_task_in_camel_case(
    client: Client, container: Container, ada: Headers
) -> None:
    task = store(container, owner="ada", status=TaskStatus.COMPLETED)

    response = client.get(f"/api/tasks/{task.id}", headers=ada)

    assert response.status_code == 200
    body = response.json()
    assert body["taskId"] == str(task.id)
    assert body["status"] == "completed"
    assert body["result"] == {"ok": True}
    assert body["maxAttempts"] == 1
    assert body["attempts"] == 1
    assert {"createdAt", "updatedAt", "startedAt", "finishedAt", "runAt", "errors"} <= set(body)


def test_failed_task_shows_its_error_history(
    client: Client, container: Container, ada: Headers
) -> None:
    task = store(container, owner="ada", status=TaskStatus.FAILED)

    body = client.get(f"/api/tasks/{task.id}", headers=ada).json()

    assert body["status"] == "failed"
    assert body["error"] == "boom"
    assert [(e["attempt"], e["message"]) for e in body["errors"]] == [(1, "boom")]


def test_another_users_task_is_404(client: Client, container: Container, bob: Headers) -> None:
    task = store(container, owner="ada")

    response = client.get(f"/api/tasks/{task.id}", headers=bob)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unknown_task_is_404(client: Client, ada: Headers) -> None:
    assert client.get(f"/api/tasks/{uuid4()}", headers=ada).status_code == 404


def test_admin_reads_any_task(client: Client, container: Container, admin: Headers) -> None:
    task = store(container, owner="ada")

    assert client.get(f"/api/tasks/{task.id}", headers=admin).json()["owner"] == "ada"


def test_malformed_task_id_is_400_naming_the_parameter(client: Client, ada: Headers) -> None:
    response = client.get("/api/tasks/not-a-uuid", headers=ada)

    assert response.status_code == 400
    assert response.json()["field"] == "task_id"
    assert "task_id" in response.json()["message"]


def test_list_shows_only_the_callers_tasks_with_total(
    client: Client, container: Container, clock: FakeClock, ada: Headers
) -> None:
    mine = [store(container, owner="ada") for _ in range(3)]
    store(container, owner="bob")

    response = client.get("/api/tasks", headers=ada)

    assert response.status_code == 200
    body = response.json()
    assert (body["page"], body["limit"], body["total"]) == (1, 20, 3)
    assert ids(response) == [str(t.id) for t in reversed(mine)]


def test_list_items_are_summaries_without_payload_or_result(
    client: Client, container: Container, ada: Headers
) -> None:
    store(container, owner="ada", status=TaskStatus.COMPLETED)

    [item] = client.get("/api/tasks", headers=ada).json()["items"]

    assert "payload" not in item
    assert "result" not in item
    assert item["status"] == "completed"


def test_admin_lists_every_users_tasks_and_may_filter_by_owner(
    client: Client, container: Container, clock: FakeClock, admin: Headers
) -> None:
    store(container, owner="ada")
    bobs = store(container, owner="bob")

    assert client.get("/api/tasks", headers=admin).json()["total"] == 2
    assert ids(client.get("/api/tasks?owner=bob", headers=admin)) == [str(bobs.id)]


def test_a_user_filtering_by_another_owner_is_403(
    client: Client, container: Container, ada: Headers
) -> None:
    store(container, owner="bob")

    response = client.get("/api/tasks?owner=bob", headers=ada)

    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "message": "only admins may filter by owner"}


def test_list_filters_by_status_and_type(
    client: Client, container: Container, clock: FakeClock, ada: Headers
) -> None:
    done = store(container, owner="ada", status=TaskStatus.COMPLETED)
    store(container, owner="ada", status=TaskStatus.PENDING)
    store(container, owner="ada", type="other", status=TaskStatus.COMPLETED)

    response = client.get("/api/tasks?status=completed&type=csv_generation", headers=ada)

    assert ids(response) == [str(done.id)]
    assert response.json()["total"] == 1


def test_list_pages_newest_first(
    client: Client, container: Container, clock: FakeClock, ada: Headers
) -> None:
    tasks = [store(container, owner="ada") for _ in range(5)]
    newest_first = [str(t.id) for t in reversed(tasks)]

    page2 = client.get("/api/tasks?page=2&limit=2", headers=ada)

    assert ids(page2) == newest_first[2:4]
    assert (page2.json()["page"], page2.json()["limit"], page2.json()["total"]) == (2, 2, 5)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=bogus", "status"),
        ("limit=0", "limit"),
        ("limit=10000", "limit"),
        ("limit=many", "limit"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("page=922337203685477580", "page"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    client: Client, ada: Headers, query: str, parameter: str
) -> None:
    response = client.get(f"/api/tasks?{query}", headers=ada)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["field"] == parameter
    assert repr(parameter) in body["message"]


def test_cancel_withdraws_a_pending_task(
    client: Client, container: Container, ada: Headers
) -> None:
    task = store(container, owner="ada")

    response = client.post(f"/api/tasks/{task.id}/cancel", headers=ada)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert container.repository().get(task.id).status is TaskStatus.CANCELLED  # type: ignore[union-attr]  # stored above


def test_cancelling_a_completed_task_is_409(
    client: Client, container: Container, ada: Headers
) -> None:
    task = store(container, owner="ada", status=TaskStatus.COMPLETED)

    response = client.post(f"/api/tasks/{task.id}/cancel", headers=ada)

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "completed" in response.json()["message"]


def test_cancelling_another_users_task_is_404(
    client: Client, container: Container, bob: Headers
) -> None:
    task = store(container, owner="ada")

    assert client.post(f"/api/tasks/{task.id}/cancel", headers=bob).status_code == 404


def test_retry_gives_a_failed_task_fresh_attempts(
    client: Client, container: Container, ada: Headers
) -> None:
    task = store(container, owner="ada", status=TaskStatus.FAILED)

    response = client.post(f"/api/tasks/{task.id}/retry", headers=ada)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)


def test_retrying_a_pending_task_is_409(client: Client, container: Container, ada: Headers) -> None:
    task = store(container, owner="ada")

    assert client.post(f"/api/tasks/{task.id}/retry", headers=ada).status_code == 409


def test_cancel_with_malformed_id_is_400(client: Client, ada: Headers) -> None:
    response = client.post("/api/tasks/123/cancel", headers=ada)

    assert (response.status_code, response.json()["field"]) == (400, "task_id")
