"""POST /api/jobs/fetch, POST /api/matching/run, the CSV exports and GET /api/csv/{id}/download."""

from __future__ import annotations

import csv
import io
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from domain.task import TaskStatus
from entrypoints.container import Container
from tests.http.conftest import Headers

Client = TestClient[Any]


def run_all(container: Container) -> None:
    processor = container.processor()
    while processor.run_once(limit=10):
        pass


def queued(client: Client, path: str, body: Any, headers: Headers) -> str:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == response.json()["statusUrl"]
    return str(response.json()["taskId"])


def result(client: Client, task_id: str, headers: Headers) -> dict[str, Any]:
    task = client.get(f"/api/tasks/{task_id}", headers=headers).json()
    assert task["status"] == "completed", task
    return dict(task["result"])


def test_a_fetch_without_settings_reads_the_shipped_sample_feed(
    client: Client, container: Container, ada: Headers
) -> None:
    task_id = queued(client, "/api/jobs/fetch", {}, ada)
    task = container.repository().get(UUID(task_id))
    assert task is not None
    assert (task.type, task.owner, task.status) == ("job_fetch", "ada", TaskStatus.PENDING)
    run_all(container)
    assert result(client, task_id, ada) == {
        "source": "sample",
        "fetched": 20,
        "created": 20,
        "updated": 0,
    }


def test_matching_ranks_the_fetched_postings_and_mails_the_outbox(
    client: Client, container: Container, ada: Headers, tmp_path: Path
) -> None:
    queued(client, "/api/jobs/fetch", {}, ada)
    run_all(container)
    body = {"keywords": ["python"], "location": "Berlin", "limit": 3, "notify": "ada@example.com"}
    task_id = queued(client, "/api/matching/run", body, ada)
    run_all(container)
    matched = result(client, task_id, ada)
    assert len(matched["top"]) == 3
    assert matched["top"][0]["title"] == "Senior Python Engineer"
    assert client.get(f"/api/tasks/{matched['notifyTaskId']}", headers=ada).json()["status"] == (
        "completed"
    )
    [eml] = (tmp_path / "outbox").iterdir()
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.com"
    assert message["Message-ID"] == f"<{task_id}@localhost.localdomain>"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("/api/jobs/fetch", {"source": "elsewhere"}, "source", id="unknown source"),
        pytest.param("/api/jobs/fetch", {"url": "http://x"}, "url", id="fetch unknown field"),
        pytest.param("/api/matching/run", {}, "keywords", id="keywords missing"),
        pytest.param("/api/matching/run", {"keywords": []}, "keywords", id="no keywords"),
        pytest.param("/api/matching/run", {"keywords": ["a"], "limit": 0}, "limit", id="limit 0"),
        pytest.param(
            "/api/matching/run", {"keywords": ["a"], "notify": "nobody"}, "notify", id="bad notify"
        ),
        pytest.param(
            "/api/csv/generate",
            {"export": "postings", "columns": ["a"], "rows": []},
            "export",
            id="export and columns",
        ),
        pytest.param("/api/csv/generate", {"export": "everything"}, "export", id="unknown export"),
        pytest.param(
            "/api/csv/generate", {"export": "matches"}, "matchingTaskId", id="matches without id"
        ),
        pytest.param(
            "/api/csv/generate",
            {"export": "postings", "filters": {"salary": 1}},
            "filters",
            id="unknown filter",
        ),
        pytest.param(
            "/api/csv/generate",
            {"export": "postings", "notify": "a@b"},
            "notify",
            id="export bad notify",
        ),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    client: Client, ada: Headers, path: str, body: Any, field: str
) -> None:
    response = client.post(path, json=body, headers=ada)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_only_the_owner_may_export_the_matches_of_a_matching_task(
    client: Client, ada: Headers, bob: Headers
) -> None:
    matching = queued(client, "/api/matching/run", {"keywords": ["python"]}, ada)
    response = client.post(
        "/api/csv/generate", json={"export": "matches", "matchingTaskId": matching}, headers=bob
    )
    assert response.status_code == 400
    assert response.json()["field"] == "matchingTaskId"


def test_an_export_of_matches_downloads_as_csv_for_its_owner_only(
    client: Client, container: Container, ada: Headers, bob: Headers, admin: Headers
) -> None:
    queued(client, "/api/jobs/fetch", {}, ada)
    run_all(container)
    matching = queued(client, "/api/matching/run", {"keywords": ["python"]}, ada)
    run_all(container)
    export = queued(
        client, "/api/csv/generate", {"export": "matches", "matchingTaskId": matching}, ada
    )
    assert client.get(f"/api/csv/{export}/download", headers=ada).status_code == 409
    run_all(container)

    response = client.get(f"/api/csv/{export}/download", headers=ada)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{export}.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0][:4] == ["rank", "score", "id", "source"]
    assert rows[1][0] == "1"
    assert client.get(f"/api/csv/{export}/download", headers=bob).status_code == 404
    assert client.get(f"/api/csv/{export}/download", headers=admin).status_code == 200


def test_an_export_of_postings_applies_its_filters(
    client: Client, container: Container, ada: Headers
) -> None:
    queued(client, "/api/jobs/fetch", {}, ada)
    run_all(container)
    body = {"export": "postings", "filters": {"remote": True}, "filename": "remote.csv"}
    export = queued(client, "/api/csv/generate", body, ada)
    run_all(container)
    assert result(client, export, ada)["rows"] == 7
    content = client.get(f"/api/csv/{export}/download", headers=ada).content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {row["remote"] for row in rows} == {"true"}


def test_download_of_a_task_that_is_not_a_csv_export_is_404(client: Client, ada: Headers) -> None:
    fetch = queued(client, "/api/jobs/fetch", {}, ada)
    assert client.get(f"/api/csv/{fetch}/download", headers=ada).status_code == 404


def test_download_with_a_malformed_id_is_400(client: Client, ada: Headers) -> None:
    response = client.get("/api/csv/not-a-uuid/download", headers=ada)
    assert response.status_code == 400
    assert response.json()["field"] == "task_id"


def test_another_users_export_of_the_same_name_leaves_yours_alone(
    client: Client, container: Container, ada: Headers, bob: Headers
) -> None:
    body = {"columns": ["who"], "rows": [["ada's secret"]], "filename": "shared.csv"}
    first = queued(client, "/api/csv/generate", body, ada)
    run_all(container)
    body = {"columns": ["who"], "rows": [["bob, a longer row"]], "filename": "shared.csv"}
    second = queued(client, "/api/csv/generate", body, bob)
    run_all(container)

    mine = client.get(f"/api/csv/{first}/download", headers=ada)
    theirs = client.get(f"/api/csv/{second}/download", headers=bob)

    assert mine.status_code == 200
    assert "ada's secret" in mine.text
    assert "bob, a longer row" in theirs.text


def test_a_file_replaced_by_a_later_export_of_the_same_owner_is_not_served(
    client: Client, container: Container, ada: Headers
) -> None:
    body = {"columns": ["who"], "rows": [["first"]], "filename": "mine.csv"}
    first = queued(client, "/api/csv/generate", body, ada)
    run_all(container)
    body = {"columns": ["who"], "rows": [["second, a longer row"]], "filename": "mine.csv"}
    queued(client, "/api/csv/generate", body, ada)
    run_all(container)
    response = client.get(f"/api/csv/{first}/download", headers=ada)
    assert response.status_code == 404
    assert "replaced by a later export" in response.json()["message"]
