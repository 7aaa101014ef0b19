"""Every /api route needs a valid bearer token; health and schema do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from entrypoints.http.auth import mint_token
from tests.http.conftest import SECRET, Headers, bearer

Client = TestClient[Any]
SOME_ID = uuid4()
API_ROUTES = [
    ("GET", "/api/tasks"),
    ("GET", f"/api/tasks/{SOME_ID}"),
    ("POST", f"/api/tasks/{SOME_ID}/cancel"),
    ("POST", f"/api/tasks/{SOME_ID}/retry"),
    ("POST", "/api/csv/generate"),
]


def _call(client: Client, method: str, path: str, headers: Headers | None = None) -> Any:
    return client.request(
        method, path, headers=headers or {}, json={} if method == "POST" else None
    )


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_api_route_answers_401_without_a_token(
    client: Client, method: str, path: str
) -> None:
    response = _call(client, method, path)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Authorization" in response.json()["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Basic YWRhOnNlY3JldA==", "Bearer ", "bearer"],
)
def test_malformed_authorization_is_401(client: Client, authorization: str) -> None:
    response = client.get("/api/tasks", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_token_signed_with_another_secret_is_401(client: Client) -> None:
    forged = mint_token(
        secret="another-secret-" + "y" * 40,
        user="ada",
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    )

    response = client.get("/api/tasks", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert "signature" in response.json()["message"].lower()


def test_expired_token_is_401(client: Client) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = mint_token(secret=SECRET, user="ada", now=an_hour_ago, ttl=timedelta(minutes=5))

    response = client.get("/api/tasks", headers={"Authorization": f"Bearer {expired}"})

    assert response.status_code == 401
    assert response.json()["message"] == "token has expired"


def test_valid_token_is_accepted(client: Client) -> None:
    assert client.get("/api/tasks", headers=bearer("ada")).status_code == 200


def test_health_needs_no_token(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema_is_served_without_a_token(client: Client) -> None:
    response = client.get("/schema/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/tasks", "/api/tasks/{task_id}", "/api/csv/generate"} <= set(paths)
