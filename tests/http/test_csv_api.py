"""POST /api/csv/generate: validate, queue a csv_generation task, answer 202."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from application.payloads import MAX_PAYLOAD_BYTES
from domain.task import TaskStatus
from entrypoints.container import Container
from entrypoints.http.app import MAX_REQUEST_BYTES
from tests.http.conftest import Headers

Client = TestClient[Any]
PEOPLE = {"columns": ["name", "city"], "rows": [["Ada", "London"], ["Grace", "Arlington"]]}


def test_generate_answers_202_with_the_task_and_where_to_poll_it(
    client: Client, ada: Headers
) -> None:
    response = client.post("/api/csv/generate", json=PEOPLE, headers=ada)

    assert response.status_code == 202
    body = response.json()
    task_id = UUID(body["taskId"])
    assert body == {
        "taskId": str(task_id),
        "status": "pending",
        "statusUrl": f"/api/tasks/{task_id}",
    }
    assert response.headers["location"] == f"/api/tasks/{task_id}"


def test_generated_task_is_a_pending_csv_task_owned_by_the_caller(
    client: Client, container: Container, ada: Headers
) -> None:
    body = {**PEOPLE, "filename": "people.csv"}
    task_id = UUID(client.post("/api/csv/generate", json=body, headers=ada).json()["taskId"])

    task = container.repository().get(task_id)

    assert task is not None
    assert (task.type, task.owner, task.status) == ("csv_generation", "ada", TaskStatus.PENDING)
    assert task.payload == {**PEOPLE, "filename": "people.csv"}


def test_generate_wakes_the_in_process_worker(
    client: Client, container: Container, ada: Headers
) -> None:
    signal = container.signal()
    signal.wait(0)  # start from a quiet signal

    client.post("/api/csv/generate", json=PEOPLE, headers=ada)

    assert signal.wait(0) is True


def test_queued_export_completes_with_the_file_path(
    client: Client, container: Container, ada: Headers, tmp_path: Path
) -> None:
    body = {**PEOPLE, "filename": "people.csv"}
    status_url = client.post("/api/csv/generate", json=body, headers=ada).json()["statusUrl"]

    assert container.processor().run_once() == 1

    task = client.get(status_url, headers=ada).json()
    assert task["status"] == "completed"
    assert task["result"]["path"] == str((tmp_path / "csv" / "ada" / "people.csv").resolve())
    assert task["result"]["rows"] == 2
    assert Path(task["result"]["path"]).read_text(encoding="utf-8").splitlines()[0] == "name,city"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({**PEOPLE, "colour": "blue"}, "colour", id="unknown field"),
        pytest.param({"columns": ["a", "b"], "rows": [["1", "2"], ["3"]]}, "rows", id="ragged row"),
        pytest.param({**PEOPLE, "filename": "../x"}, "filename", id="filename escapes"),
        pytest.param({**PEOPLE, "filename": "/etc/passwd"}, "filename", id="absolute filename"),
        pytest.param({**PEOPLE, "filename": ".hidden.csv"}, "filename", id="dot filename"),
        pytest.param({"columns": [], "rows": []}, "columns", id="no columns"),
        pytest.param({"columns": "name", "rows": []}, "columns", id="columns not a list"),
        pytest.param({"columns": ["a"], "rows": [[{"x": 1}]]}, "rows[0][0]", id="cell object"),
        pytest.param({"rows": [["1"]]}, "columns", id="columns missing"),
        pytest.param(["not", "an", "object"], None, id="array body"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    client: Client, ada: Headers, body: Any, field: str | None
) -> None:
    response = client.post("/api/csv/generate", json=body, headers=ada)

    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid_request"
    assert error.get("field") == field
    if field is not None:
        assert field.split("[")[0] in error["message"]


def test_malformed_json_is_400(client: Client, ada: Headers) -> None:
    response = client.post(
        "/api/csv/generate",
        content=b'{"columns": [',
        headers={**ada, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("request body is not valid JSON")


def test_body_over_the_request_limit_is_413(client: Client, ada: Headers) -> None:
    huge = b'{"columns": ["a"], "rows": [["' + b"x" * MAX_REQUEST_BYTES + b'"]]}'

    response = client.post(
        "/api/csv/generate", content=huge, headers={**ada, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_payload_over_the_task_limit_is_413(client: Client, ada: Headers) -> None:
    body = {"columns": ["a"], "rows": [["x" * MAX_PAYLOAD_BYTES]]}

    response = client.post("/api/csv/generate", json=body, headers=ada)

    assert response.status_code == 413
    assert str(MAX_PAYLOAD_BYTES) in response.json()["message"]
